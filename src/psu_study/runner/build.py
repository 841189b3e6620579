"""Bring every output up to date: only the notebooks whose inputs changed, several kernels
at once, each notebook's outputs moved into place only when the whole notebook succeeded,
then the paper; and the build's records (manifest, dependency file, make's stamp).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import numbers, staging
from ..notebook_files import notebook_paths
from ..paths import NOTEBOOKS_DIR, display_path
from ..run_folders import RunFolders
from . import compat, interrupts
from .depfile import write_depfile
from .graph import (
    after_numbers,
    cell_imports,
    cells_fingerprint,
    code_hashes,
    read_source,
    stale_reason,
)
from .kernels import Kernel, forking, preload_modules, start_kernel, stop_kernel
from .layout import BuildError, layout
from .manifest import commit, load_manifest, notebook_bytes, write_manifest, write_numbers
from .notebook import INTERRUPTED, Progress, run_notebook
from .paper import KEY as PAPER_KEY
from .paper import build_paper
from .result import Result

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def exclusive(lay: RunFolders) -> Iterator[None]:
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


def build(data_dir: Path | None = None, out_dir: Path | None = None, jobs: int | None = None,
          force: bool = False, dry_run: bool = False, stamp: Path | None = None,
          depfile: Path | None = None) -> int:
    """Bring every output up to date; returns the number of notebooks executed.

    ``stamp`` is make's target: removed before anything runs and written again only when the
    whole build succeeded, so a failed or interrupted build (even one killed outright) is
    never taken by make as up to date. ``depfile`` receives its prerequisites.
    """
    lay = layout(data_dir, out_dir)
    try:
        with exclusive(lay):
            if stamp is None or dry_run:
                return _build(lay, jobs, force, dry_run, None)
            stamp.unlink(missing_ok=True)
            executed = _build(lay, jobs, force, dry_run, (stamp, depfile) if depfile else None)
            with _step(lay, "make's record of the build"):
                stamp.parent.mkdir(parents=True, exist_ok=True)
                stamp.write_bytes(b"")
            return executed
    except OSError as exc:  # a step not named below: the lock, the staging folder
        raise BuildError(cannot_write(lay, exc)) from None


def cannot_write(lay: RunFolders, exc: OSError) -> str:
    """An operating-system error in one line: the folder, by its role (``tables``,
    ``OUT_DIR/figures``, ``build/failed``), never a machine's path, and the cause."""
    path = exc.filename2 or exc.filename
    if path is None:
        return f"cannot write the outputs: {exc.strerror or exc}"
    folder = Path(os.fsdecode(path)).parent
    key = lay.find_key(folder / "x")
    if key is None:
        shown = display_path(folder)
    else:
        shown = key.rpartition("/")[0].removeprefix("repo").lstrip("/") or "."
        if not lay.default and not key.startswith(("repo/", "data/")):
            shown = "OUT_DIR/" + shown
    return f"cannot write {shown}: {exc.strerror or exc}"


@contextlib.contextmanager
def _step(lay: RunFolders, what: str, deferred: bool = True) -> Iterator[None]:
    """A step after the notebooks: a signal during it is acted on after it (``deferred``) or
    at once, and an operating-system error is one line that names the step."""
    with interrupts.quiet(what) if deferred else interrupts.doing(what):
        try:
            yield
        except OSError as exc:
            raise BuildError(f"{cannot_write(lay, exc)} ({what})") from None


def _build(lay: RunFolders, jobs: int | None, force: bool, dry_run: bool,
           make: tuple[Path, Path] | None) -> int:
    paths = notebook_paths()
    if not paths:
        raise BuildError(f"no notebooks in {NOTEBOOKS_DIR}")
    sources = {p.stem: read_source(p) for p in paths}
    previous = load_manifest(lay)
    paper = previous.get(PAPER_KEY)
    run = Run(lay, sources, previous.get("notebooks", {}), force, Progress(0), paper)
    first = [p for p in paths if not after_numbers(sources[p.stem])]
    late = [p for p in paths if after_numbers(sources[p.stem])]
    if dry_run:
        run.stale(first)
        run.stale(late)
        return 0
    compat.skip_slow_optional_imports()
    try:
        run.run_notebooks(first, late, jobs or os.cpu_count() or 1)
    finally:
        shutil.rmtree(lay.stage, ignore_errors=True)
    if run.seconds:
        with contextlib.suppress(OSError):  # a scheduling hint: a build goes on without it
            staging.write_atomic(run.timings,
                                 json.dumps(run.seconds, sort_keys=True).encode("utf-8"))
    try:
        with _step(lay, "the manifest's update"):
            manifest = write_manifest(lay, run.entries, list(sources), paper)
    except BuildError:
        if not run.failed:
            raise
        manifest = None  # it matches the outputs as each commit left them
    interrupts.raise_if_signalled()
    problem = None
    if not run.failed:
        # Last, once numbers.json is merged: the paper reads every notebook's outputs.
        try:
            with _step(lay, "the paper", deferred=False):
                paper = build_paper(lay, None if force else paper, sorted(run.changed))
        except BuildError as exc:
            paper, problem = None, exc
        with _step(lay, "the manifest's update"):
            manifest = write_manifest(lay, run.entries, list(sources), paper)
    if make is not None and manifest is not None:
        with _step(lay, "the dependency file's update"):
            write_depfile(lay, manifest, *make)
    interrupts.raise_if_signalled()
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

    lay: RunFolders
    sources: dict[str, dict]
    entries: dict[str, dict]
    force: bool
    progress: Progress
    paper: dict | None = None
    """The paper's manifest entry as this build found it (rewritten with each commit)."""
    executed: int = 0
    changed: list[str] = field(default_factory=list)
    """The notebooks run whose figures or tables (not the notebook itself) changed."""
    failed: list[Result] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    """A signal stopped the build: no notebook starts, those running end as interrupted."""
    running: set[str] = field(default_factory=set)
    """The notebooks of this build under way (waiting for their kernel or a core, or
    running); ``committing``, the one whose outputs are being moved into place."""
    committing: str | None = None
    launched: list[asyncio.Task[Kernel]] = field(default_factory=list)

    def run_notebooks(self, first: list[Path], late: list[Path], jobs: int) -> None:
        """Run the notebooks' event loop in a thread of its own, so SIGINT and SIGTERM reach
        this (main) thread and stop the build cleanly. nbclient installs signal handlers
        only in the main thread: there, on Ctrl-C, its handler shut the kernel down under the
        running cell, which failed as a bare ``AssertionError`` and the build went on. The
        handlers raise nothing here: a ``KeyboardInterrupt`` inside ``Thread.join()`` leaves
        the thread looking finished while it still runs (CPython issue 90882)."""
        failure: list[BaseException] = []

        def loop() -> None:
            try:
                asyncio.run(self.waves(first, late, jobs))
            except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
                failure.append(exc)

        thread = threading.Thread(target=loop, name="notebooks")
        with interrupts.deferred(self.interrupt):
            thread.start()
            while thread.is_alive():
                thread.join(0.2)
                if self.interrupted:  # also any kernel that began starting as it came
                    interrupts.end_descendants()
        if failure:
            raise failure[0]

    def interrupt(self) -> str:
        """Stop: kill every kernel and the fork server (their notebooks end as interrupted,
        whether their kernel was starting or their cells running) and start no other
        notebook. Returns what was stopped."""
        self.interrupted = True
        from . import forked_kernels

        forked_kernels.refuse()
        interrupts.end_descendants()
        stopped = sorted(self.running)
        if self.committing is not None:
            stopped.append(f"the commit of {self.committing}'s outputs")
        return ", ".join(stopped) or "no notebook (none had started)"

    async def stop_kernels(self) -> None:
        for task in list(self.launched):
            if not task.done():
                task.cancel()
            with contextlib.suppress(BaseException):
                await stop_kernel(await task)

    def stopping(self) -> bool:
        return self.interrupted

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
        source = self.sources[path.stem]
        code = code_hashes(cell_imports(source), self.lay)
        return stale_reason(self.entries.get(path.stem), code, self.lay,
                            cells_fingerprint(source))

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
                if self.stopping():
                    raise BuildError("interrupted before its kernel started")
                return await start_kernel(path, self.sources[path.stem], self.lay, forked)
            launched.append(asyncio.create_task(start()))
            return launched[-1]

        async def finish(task: asyncio.Task[Kernel]) -> None:
            with contextlib.suppress(Exception):
                await stop_kernel(await task)
            alive.release()

        def run(path: Path, task: asyncio.Task[Kernel]) -> asyncio.Task[Result]:
            self.running.add(path.stem)

            async def go() -> Result:
                try:
                    return await run_notebook(path, self.lay, task, slots, self.progress,
                                              self.stopping)
                finally:
                    self.running.discard(path.stem)
                    alive.release()
            return asyncio.create_task(go())

        todo = self.longest_first(self.stale(first))
        self.running.update(p.stem for p in todo)
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
        runs = {p: run(p, tasks[p]) for p in todo}
        self.settle(await asyncio.gather(*(runs[p] for p in writers)))
        write_numbers(self.lay, sorted(self.sources))  # what the second wave reads
        second = [] if self.failed or self.stopping() else self.stale(late)
        tasks = {p: early.pop(p) if p in early else launch(p) for p in second}
        await asyncio.gather(*(finish(task) for task in early.values()))
        self.progress.total += len(second)
        later = [run(p, tasks[p]) for p in second]
        rest = await asyncio.gather(*(runs[p] for p in todo if p not in writers))
        self.settle(rest)
        self.settle(await asyncio.gather(*later))
        if any(self.wrote_numbers(r) for r in rest) and not (self.failed or self.stopping()):
            # A notebook that had never written numbers now did: merge again, and run the
            # second wave again if what it read has changed.
            write_numbers(self.lay, sorted(self.sources))
            again = self.stale(late)
            self.progress.total += len(again)
            self.settle(await asyncio.gather(*(run(p, launch(p)) for p in again)))

    def commit(self, result: Result, before: dict | None) -> dict:
        """Move a notebook's outputs into place and record them in the manifest, all or
        nothing: on a full disk or a folder turned read-only the output folders are put
        back as they were, so the manifest always matches what is there. A second signal
        waits for it (milliseconds)."""
        folders = [self.lay.figures, self.lay.tables, self.lay.notebooks]
        with interrupts.committing(), staging.all_or_nothing(folders, self.lay.stage):
            entry = commit(result, self.lay, before, self.sources[result.name])
            write_manifest(self.lay, {**self.entries, result.name: entry}, list(self.sources),
                           self.paper)
        return entry

    def keep(self, result: Result) -> None:
        """Keep a failed or interrupted notebook as far as it ran, for a person to read."""
        if result.error == INTERRUPTED and not result.started:
            return  # nothing of it ran: nothing to keep
        kept = self.lay.failed / f"{result.name}.ipynb"
        try:
            staging.write_atomic(kept, notebook_bytes(result.nb))
        except OSError as exc:
            where = f"not kept ({cannot_write(self.lay, exc)})"
        else:
            where = f"partial notebook kept in {kept}"
        how = ("stopped " + result.name if result.error == INTERRUPTED
               else f"FAILED {result.name} at {result.error}")
        self.progress.say(f"  {how}\n         {where}; its previous outputs are untouched")

    def mark_failed(self, name: str, how: str) -> None:
        """Keep what the manifest knows of ``name``'s previous good outputs (they are left
        in place) but never as current: the next build runs it again."""
        if name in self.entries:
            self.entries[name] = {**self.entries[name], "failed": how}

    def writes_numbers(self, path: Path) -> bool:
        """Whether the notebook wrote numbers last time (or is new here, so may)."""
        entry = self.entries.get(path.stem)
        key = f"tables/{numbers.FRAGMENTS_DIR}/{path.stem}.json"
        return entry is None or key in entry.get("outputs", {})

    def wrote_numbers(self, result: Result) -> bool:
        fragment = numbers.fragment(self.lay.tables, result.name)
        return any(target == fragment for _, target in result.moves)

    def settle(self, results: list[Result]) -> None:
        """Commit each succeeded notebook; keep each failed one's partial notebook."""
        for result in results:
            self.executed += 1
            if result.error:
                self.failed.append(result)
                self.mark_failed(result.name, "interrupted" if result.error == INTERRUPTED
                                 else "failed")
                self.keep(result)
                continue
            before = self.entries.get(result.name)
            self.committing = result.name
            try:
                entry = self.commit(result, before)
            except OSError as exc:
                result.error = (f"{cannot_write(self.lay, exc)}, while moving its outputs into "
                                "place (its previous outputs are kept)")
                self.failed.append(result)
                self.mark_failed(result.name, "failed")
                self.progress.say(f"  FAILED {result.name}: {result.error}")
                continue
            finally:
                self.committing = None
            self.entries[result.name] = entry
            if _made(self.entries[result.name]) != _made(before):
                self.changed.append(result.name)
            self.seconds[result.name] = round(result.seconds, 2)

