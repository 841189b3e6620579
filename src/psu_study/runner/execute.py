"""Execute the study's notebooks: only those whose inputs changed, several kernels at once,
each notebook's outputs moved into place only when the whole notebook succeeded.

Nothing a notebook writes holds a date, a timing or a random id, so a rebuild gives the
same bytes and a committed notebook only changes when its results do. Its kernels are forks
of one process that has already imported the notebooks' libraries (``forked_kernels``), or,
outside the library versions that was written for (``compat``), plainly started ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import staging
from ..paths import ENV, NOTEBOOKS_DIR, notebook_paths
from . import compat, kernel
from .depfile import write_depfile
from .graph import after_numbers, cell_imports, file_digest, read_source, stale_reason
from .layout import BuildError, Layout, layout
from .manifest import commit, load_manifest, notebook_bytes, write_manifest, write_numbers
from .paper import KEY as PAPER_KEY
from .paper import build_paper

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from jupyter_client.manager import AsyncKernelManager
    from nbformat import NotebookNode

CELL_TIMEOUT_S = 600
ENV_OVERRIDES = tuple(ENV.values())


@dataclass
class Result:
    name: str
    seconds: float
    nb: NotebookNode
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    reads: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def _failure(nb: NotebookNode, exc: BaseException) -> str:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc) else ''}"


def kernel_manager(kernel: str, sockets: str, forked: bool = True) -> AsyncKernelManager:
    """A kernel that talks to the runner over IPC sockets in ``sockets``, never TCP ports:
    on a shared server no other user can connect to a kernel holding confidential data.
    Forked from the warm server, or (``forked=False``) started as JupyterLab starts it."""
    from jupyter_client.manager import AsyncKernelManager

    from .forked_kernels import ForkedKernelManager

    manager = ForkedKernelManager if forked else AsyncKernelManager
    return manager(kernel_name=kernel, transport="ipc",
                   connection_file=str(Path(sockets) / "kernel.json"))


def forking() -> bool:
    """Whether kernels fork from a warm process; if not, say why, once, in one line."""
    problem = compat.forking_problem()
    if problem is not None:
        print(f"  warning: plain kernels (slower, same outputs): {problem}", flush=True)
    return problem is None


def preload_modules(nb: dict) -> list[str]:
    """The modules a notebook's cells import: the fork server imports those of the notebooks
    a build runs once, for every kernel (a build that runs one notebook pays for its imports
    alone)."""
    return sorted(cell_imports(nb))


KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]
"""No input history: no SQLite file shared by concurrent kernels."""


@dataclass
class Kernel:
    """A kernel started ahead of its turn, with the folders its notebook writes through."""

    km: AsyncKernelManager
    stage: Path
    sockets: str


async def start_kernel(path: Path, source: dict, lay: Layout, forked: bool) -> Kernel:
    """Launch ``path``'s kernel now, ahead of its turn."""
    from .forked_kernels import FORK_ENV

    lay.stage.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=path.stem + "-", dir=lay.stage))
    # IPC sockets are files whose path must fit in 107 bytes: a short private folder.
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")
    env = {k: v for k, v in os.environ.items() if k not in ENV_OVERRIDES}
    env.update({staging.STAGE_ENV: str(stage), **FORK_ENV, **lay.environment()})
    name = source.get("metadata", {}).get("kernelspec", {}).get("name", kernel.NAME)
    km = kernel_manager(name, sockets, forked)
    await km.start_kernel(env=env, cwd=str(path.parent), extra_arguments=KERNEL_ARGUMENTS)
    return Kernel(km, stage, sockets)


async def stop_kernel(kernel: Kernel) -> None:
    with contextlib.suppress(Exception):
        if await kernel.km.is_alive():
            await kernel.km.shutdown_kernel(now=True)
    shutil.rmtree(kernel.sockets, ignore_errors=True)


def parameterized(path: Path) -> NotebookNode:
    """The notebook to execute, as written: another run's folders reach the kernel through
    its environment (``Layout.environment``), so no executed notebook records a path of
    this machine."""
    import nbformat

    return nbformat.read(path, as_version=4)


def disclosure_problem(nb: NotebookNode, name: str, lay: Layout) -> str | None:
    """Why an executed notebook must not be saved: a direct identifier in any of its
    outputs (the writers already scan figures and tables; this catches what cells print)."""
    from .. import disclosure

    names, allow = disclosure.disclosure_lists(lay.data)
    try:
        disclosure.scan_notebook(nb, f"notebooks/{name}.ipynb", names, allow)
    except disclosure.DisclosureError as exc:
        return str(exc)
    return None


INTERRUPTED = "interrupted"


async def execute(path: Path, lay: Layout, kernel: asyncio.Task[Kernel],
                  slots: asyncio.Semaphore, log: Progress,
                  stopping: Callable[[], bool]) -> Result:
    """Run one notebook in its own (already started) kernel once a core is free."""
    from nbclient import NotebookClient

    nb = parameterized(path)
    result = Result(path.stem, 0.0, nb)
    try:
        warm = await kernel
    except Exception as exc:  # noqa: BLE001 - reported like any failing notebook
        result.error = f"the kernel did not start: {type(exc).__name__}: {exc}"
        log.end(result)
        return result
    try:
        async with slots:
            if stopping():
                result.error = INTERRUPTED
                return result
            client = NotebookClient(nb, km=warm.km, timeout=CELL_TIMEOUT_S,
                                    record_timing=False, store_widget_state=False,
                                    startup_timeout=120, shutdown_kernel="immediate",
                                    resources={"metadata": {"path": str(path.parent)}})
            log.start(path.stem)
            started = time.perf_counter()
            try:
                await client.async_execute(cleanup_kc=True)
            except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
                result.error = INTERRUPTED if stopping() else _failure(nb, exc)
            finally:
                compat.drop_exit_cleanup(client)
            result.seconds = time.perf_counter() - started
    finally:
        await stop_kernel(warm)
    if result.error is None:
        result.error = disclosure_problem(nb, path.stem, lay)
    if result.error is None:
        for record in staging.read_records(warm.stage, staging.MOVES_FILE):
            result.moves.append((Path(record["staged"]), Path(record["target"])))
        for record in staging.read_records(warm.stage, staging.READS_FILE):
            read = Path(record["path"])
            result.reads[lay.key(read)] = file_digest(read)
    log.end(result)
    return result


class Progress:
    """One line as each notebook starts and ends, so a person can follow a build."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.running: set[str] = set()

    def say(self, text: str) -> None:
        print(text, flush=True)

    def start(self, name: str) -> None:
        self.running.add(name)
        self.say(f"  start  {name}")

    def end(self, result: Result) -> None:
        self.running.discard(result.name)
        self.done += 1
        status = "FAILED" if result.error else "done  "
        self.say(f"  {status} {result.name}  {result.seconds:5.1f} s  [{self.done}/{self.total}]")


@contextlib.contextmanager
def exclusive(lay: Layout) -> Iterator[None]:
    """One build at a time per output folder: two would stage into and clean up the same
    folder, and race to write the same outputs."""
    lock = lay.stage.with_name(lay.stage.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for another build of the same outputs ({lock})", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class BuildInterrupted(BuildError):
    """SIGINT or SIGTERM arrived mid-build: the notebooks that were running are recorded as
    interrupted, so the next build runs them again."""

    def __init__(self, signum: int, running: list[str]) -> None:
        self.signum = signum
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name} while running "
                         + (", ".join(running) if running else "no notebook"))


def build(data_dir: Path | None = None, out_dir: Path | None = None, jobs: int | None = None,
          force: bool = False, dry_run: bool = False, stamp: Path | None = None,
          depfile: Path | None = None) -> int:
    """Bring every output up to date; returns the number of notebooks executed.

    ``stamp`` is make's target: removed before anything runs and written again only when the
    whole build succeeded, so a failed or interrupted build (even one killed outright) is
    never taken by make as up to date. ``depfile`` receives its prerequisites.
    """
    lay = layout(data_dir, out_dir)
    with exclusive(lay):
        if stamp is None or dry_run:
            return _build(lay, jobs, force, dry_run, None)
        stamp.unlink(missing_ok=True)
        executed = _build(lay, jobs, force, dry_run, (stamp, depfile) if depfile else None)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_bytes(b"")
        return executed


def _build(lay: Layout, jobs: int | None, force: bool, dry_run: bool,
           make: tuple[Path, Path] | None) -> int:
    paths = notebook_paths()
    if not paths:
        raise BuildError(f"no notebooks in {NOTEBOOKS_DIR}")
    sources = {p.stem: read_source(p) for p in paths}
    previous = load_manifest(lay)
    run = Run(lay, sources, previous.get("notebooks", {}), force, Progress(0))
    first = [p for p in paths if not after_numbers(sources[p.stem])]
    late = [p for p in paths if after_numbers(sources[p.stem])]
    if dry_run:
        run.stale(first)
        run.stale(late)
        return 0
    compat.skip_slow_optional_imports()
    try:
        run.execute(first, late, jobs or os.cpu_count() or 1)
    finally:
        shutil.rmtree(lay.stage, ignore_errors=True)
    if run.seconds:
        staging.write_atomic(run.timings, json.dumps(run.seconds, sort_keys=True).encode("utf-8"))
    paper = previous.get(PAPER_KEY)
    manifest = write_manifest(lay, run.entries, list(sources), paper)
    problem = None
    if run.interrupted is None and not run.failed:
        # Last, once numbers.json is merged: the paper reads every notebook's outputs.
        try:
            paper = build_paper(lay, None if force else paper, sorted(run.changed))
        except BuildError as exc:
            paper, problem = None, exc
        manifest = write_manifest(lay, run.entries, list(sources), paper)
    if make is not None:
        write_depfile(lay, manifest, *make)
    if run.interrupted is not None:
        raise BuildInterrupted(*run.interrupted)
    if run.failed:
        raise BuildError(f"{len(run.failed)} notebook(s) failed: "
                         + "; ".join(f"{r.name} ({r.error})" for r in run.failed))
    if problem is not None:
        raise problem
    return run.executed


def _made(entry: dict | None) -> dict[str, str]:
    """The figures and tables a manifest entry records, with their sha256."""
    outputs = (entry or {}).get("outputs", {})
    return {k: v for k, v in outputs.items() if not k.startswith("notebooks/")}


@dataclass
class Run:
    """One build's state: what is recorded, what ran, what failed."""

    lay: Layout
    sources: dict[str, dict]
    entries: dict[str, dict]
    force: bool
    progress: Progress
    executed: int = 0
    changed: list[str] = field(default_factory=list)
    """The notebooks run whose figures or tables (not the notebook itself) changed."""
    failed: list[Result] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    interrupted: tuple[int, list[str]] | None = None
    """The signal that stopped the build and the notebooks it stopped."""
    loop: asyncio.AbstractEventLoop | None = None
    launched: list[asyncio.Task[Kernel]] = field(default_factory=list)

    def execute(self, first: list[Path], late: list[Path], jobs: int) -> None:
        """Run the notebooks' event loop in a thread of its own, so SIGINT and SIGTERM reach
        this (main) thread and stop the build cleanly. nbclient installs signal handlers
        only in the main thread: there, on Ctrl-C, its handler shut the kernel down under the
        running cell, which failed as a bare ``AssertionError`` and the build went on."""
        failure: list[BaseException] = []

        def loop() -> None:
            try:
                asyncio.run(self.waves(first, late, jobs))
            except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
                failure.append(exc)

        def on_signal(signum: int, frame: object) -> None:  # noqa: ARG001 - signal's signature
            if self.interrupted is not None:  # a second Ctrl-C: stop waiting for the kernels
                self.progress.say(f"  {signal.Signals(signum).name} again: exiting now")
                os._exit(128 + signum)
            self.interrupt(signum)

        thread = threading.Thread(target=loop, name="notebooks")
        # Handlers that raise nothing: a KeyboardInterrupt inside Thread.join() leaves the
        # thread looking finished while it still runs (CPython issue 90882).
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            thread.start()
            while thread.is_alive():
                thread.join(0.2)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if failure:
            raise failure[0]

    def interrupt(self, signum: int) -> None:
        """Stop: kill the running kernels (their notebooks end as interrupted) and start no
        other notebook."""
        if self.interrupted is None:
            self.interrupted = (signum, sorted(self.progress.running))
            self.progress.say(f"  {signal.Signals(signum).name}: stopping the kernels")
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self.stop_kernels(), self.loop)

    async def stop_kernels(self) -> None:
        for task in list(self.launched):
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await stop_kernel(await task)

    def stopping(self) -> bool:
        return self.interrupted is not None

    @property
    def timings(self) -> Path:
        """How long each notebook took last time: a local scheduling hint, never an output
        (it lives beside the staging folder, outside everything committed)."""
        return self.lay.stage.with_name(self.lay.stage.name + ".seconds.json")

    def longest_first(self, todo: list[Path]) -> list[Path]:
        """Start the notebooks that took longest last time first, so the two cores finish
        together instead of one waiting on a long notebook started last."""
        if not self.seconds and self.timings.exists():
            with contextlib.suppress(ValueError):
                self.seconds = json.loads(self.timings.read_text(encoding="utf-8"))
        return sorted(todo, key=lambda p: -float(self.seconds.get(p.stem, 0.0)))

    def is_stale(self, path: Path) -> str | None:
        if self.force:
            return "forced"
        return stale_reason(self.sources[path.stem], self.entries.get(path.stem), self.lay)

    def stale(self, wave: list[Path]) -> list[Path]:
        todo = []
        for path in wave:
            reason = self.is_stale(path)
            if reason is not None:
                todo.append(path)
                self.progress.say(f"  run    {path.stem}: {reason}")
        return todo

    async def waves(self, first: list[Path], late: list[Path], jobs: int) -> None:
        """Run the stale notebooks, ``jobs`` at a time. Kernels start ahead of their turn
        (up to one waiting per running one), so a kernel's start-up and imports overlap
        other notebooks' cells; those of the notebooks that read the merged numbers start
        during the first wave when they are already known to be stale."""
        self.loop = asyncio.get_running_loop()
        try:
            await self._waves(first, late, jobs, self.launched)
        finally:  # no kernel started ahead of its turn outlives the runner
            await self.stop_kernels()

    async def _waves(self, first: list[Path], late: list[Path], jobs: int,
                     launched: list[asyncio.Task[Kernel]]) -> None:
        slots = asyncio.Semaphore(jobs)
        alive = asyncio.Semaphore(2 * jobs)

        def launch(path: Path) -> asyncio.Task[Kernel]:
            async def start() -> Kernel:
                await alive.acquire()
                return await start_kernel(path, self.sources[path.stem], self.lay, forked)
            launched.append(asyncio.create_task(start()))
            return launched[-1]

        async def finish(task: asyncio.Task[Kernel]) -> None:
            with contextlib.suppress(Exception):
                await stop_kernel(await task)
            alive.release()

        async def run(path: Path, task: asyncio.Task[Kernel]) -> Result:
            try:
                return await execute(path, self.lay, task, slots, self.progress, self.stopping)
            finally:
                alive.release()

        todo = self.longest_first(self.stale(first))
        early_todo = [p for p in late if self.is_stale(p) is not None]
        forked = bool(todo or early_todo) and forking()
        if forked:
            from . import forked_kernels

            forked_kernels.start((m for p in [*todo, *early_todo]
                                  for m in preload_modules(self.sources[p.stem])),
                                 shared=len(todo) + len(early_todo) > 1)
        tasks = {p: launch(p) for p in todo}
        early = {p: launch(p) for p in early_todo}
        self.progress.total += len(todo)
        # The second wave waits only for the notebooks that write numbers; the others run on
        # beside it, so no core idles while it runs alone.
        writers = [p for p in todo if self.writes_numbers(p)]
        runs = {p: asyncio.create_task(run(p, tasks[p])) for p in todo}
        self.settle(await asyncio.gather(*(runs[p] for p in writers)))
        write_numbers(self.lay, sorted(self.sources))  # what the second wave reads
        second = [] if self.failed else self.stale(late)
        tasks = {p: early.pop(p) if p in early else launch(p) for p in second}
        await asyncio.gather(*(finish(task) for task in early.values()))
        self.progress.total += len(second)
        later = [asyncio.create_task(run(p, tasks[p])) for p in second]
        rest = await asyncio.gather(*(runs[p] for p in todo if p not in writers))
        self.settle(rest)
        self.settle(await asyncio.gather(*later))
        if any(self.wrote_numbers(r) for r in rest) and not self.failed:
            # A notebook that had never written numbers now did: merge again, and run the
            # second wave again if what it read has changed.
            write_numbers(self.lay, sorted(self.sources))
            again = self.stale(late)
            self.progress.total += len(again)
            self.settle(await asyncio.gather(*(run(p, launch(p)) for p in again)))

    def mark_failed(self, name: str, how: str) -> None:
        """Keep what the manifest knows of ``name``'s previous good outputs (they are left
        in place) but never as current: the next build runs it again."""
        if name in self.entries:
            self.entries[name] = {**self.entries[name], "failed": how}

    def writes_numbers(self, path: Path) -> bool:
        """Whether the notebook wrote numbers last time (or is new here, so may)."""
        entry = self.entries.get(path.stem)
        return entry is None or f"tables/numbers/{path.stem}.json" in entry.get("outputs", {})

    def wrote_numbers(self, result: Result) -> bool:
        fragment = self.lay.tables / "numbers" / f"{result.name}.json"
        return any(target == fragment for _, target in result.moves)

    def settle(self, results: list[Result]) -> None:
        """Commit each succeeded notebook; keep each failed one's partial notebook."""
        for result in results:
            self.executed += 1
            if result.error:
                self.failed.append(result)
                self.mark_failed(result.name, "interrupted" if result.error == INTERRUPTED
                                 else "failed")
                kept = self.lay.failed / f"{result.name}.ipynb"
                staging.write_atomic(kept, notebook_bytes(result.nb))
                self.progress.say(f"  FAILED {result.name} at {result.error}\n"
                                  f"         partial notebook kept in {kept}; its previous "
                                  "outputs are untouched")
                continue
            before = self.entries.get(result.name)
            self.entries[result.name] = commit(result, self.lay, before,
                                               self.sources[result.name])
            if _made(self.entries[result.name]) != _made(before):
                self.changed.append(result.name)
            self.seconds[result.name] = round(result.seconds, 2)
