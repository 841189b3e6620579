"""Execute the study's notebooks: only those whose inputs changed, several kernels at once,
each notebook's outputs moved into place only when the whole notebook succeeded.

``python -m psu_study.build`` is what ``make`` runs. A notebook is re-executed when its
cells, the package's code, the pinned environment, its parameters or any data file it read
last time (recorded in the manifest) changed, or when one of its outputs is missing or
edited. Nothing it writes holds a date, a timing or a random id, so a rebuild gives the same
bytes and a committed notebook only changes when its results do. Its kernels are forks of
one process that has already imported the notebooks' libraries (``forked_kernels``).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import numbers, staging

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from jupyter_client.manager import AsyncKernelManager
    from nbformat import NotebookNode

from .paths import BUILD_DIR, DATA_DIR, FIGURES_DIR, NOTEBOOKS_DIR, REPO_ROOT, TABLES_DIR

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
PACKAGE_DIR = Path(__file__).resolve().parent
LOCK_FILE = REPO_ROOT / "requirements.lock"
KERNEL_NAME = "psu-study"
CELL_TIMEOUT_S = 600
ENV_OVERRIDES = ("PSU_STUDY_DATA_DIR", "PSU_STUDY_FIGURES_DIR", "PSU_STUDY_TABLES_DIR")
KEY_PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "scipy", "statsmodels",
                "papermill", "nbclient", "ipykernel", "krippendorff")


class BuildError(RuntimeError):
    """The build was refused or a notebook failed; the message says which and why."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Layout:
    """Where one build reads and writes; keys in the manifest are relative to ``root``."""

    data: Path
    figures: Path
    tables: Path
    notebooks_out: Path
    failed: Path
    stage: Path
    root: Path
    default: bool

    @property
    def manifest(self) -> Path:
        return self.tables / "manifest.json"

    def parameters(self) -> dict[str, str]:
        """What to inject: nothing for the default run, so committed notebooks stay as
        written; explicit folders for any other run."""
        if self.default:
            return {}
        return {"data_dir": str(self.data), "figures_dir": str(self.figures),
                "tables_dir": str(self.tables)}

    def key(self, path: Path) -> str:
        """A stable name for ``path`` in the manifest (never a machine-specific prefix)."""
        path = path.resolve()
        for prefix, folder in (("data", self.data), ("figures", self.figures),
                               ("tables", self.tables), ("notebooks", self.notebooks_out)):
            if path.is_relative_to(folder):
                return f"{prefix}/{path.relative_to(folder).as_posix()}"
        if path.is_relative_to(REPO_ROOT):  # e.g. the claims ledger, read from the repo
            return f"repo/{path.relative_to(REPO_ROOT).as_posix()}"
        raise BuildError(f"{path} is outside the build's data and output folders")

    def resolve(self, key: str) -> Path:
        prefix, _, rest = key.partition("/")
        folder = {"data": self.data, "figures": self.figures, "tables": self.tables,
                  "notebooks": self.notebooks_out, "repo": REPO_ROOT}[prefix]
        return folder / rest


def layout(data_dir: Path | None, out_dir: Path | None) -> Layout:
    """The default run writes into the repository; any other data must go to ``out_dir``,
    outside the work tree, so confidential results can never be committed by accident."""
    data = (data_dir or DATA_DIR).resolve()
    if out_dir is None:
        if data != DATA_DIR.resolve():
            raise BuildError(f"data from {data} needs OUT_DIR: results of other data are never "
                             "written into the repository (make DATA_DIR=... OUT_DIR=...)")
        return Layout(data, FIGURES_DIR, TABLES_DIR, NOTEBOOKS_DIR, BUILD_DIR / "failed",
                      BUILD_DIR / "stage", REPO_ROOT, default=True)
    out = out_dir.resolve()
    if out.is_relative_to(REPO_ROOT.resolve()):
        raise BuildError(f"OUT_DIR {out} is inside the repository; choose a folder outside "
                         f"{REPO_ROOT} so nothing derived from other data can be committed")
    return Layout(data, out / "figures", out / "tables", out / "notebooks", out / "failed",
                  out / ".stage", out, default=False)


def notebooks(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(folder.glob(NOTEBOOK_GLOB))


def read_source(path: Path) -> dict:
    """A notebook as plain JSON: enough to decide whether it must run, without the cost of
    importing nbformat on a build that has nothing to do."""
    return json.loads(path.read_text(encoding="utf-8"))


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


def cells_fingerprint(nb: dict) -> str:
    """What a notebook computes: its cells' sources and tags, not their outputs."""
    cells = [(c["cell_type"], _text(c["source"]), sorted(c.get("metadata", {}).get("tags", [])))
             for c in nb["cells"]]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return sha256_bytes(json.dumps([cells, kernel]).encode())


def _imported(tree: ast.AST, package: str) -> set[str]:
    """Every module an ``import`` anywhere in ``tree`` may load (also inside functions: a lazy
    import runs when the function does), with relative imports resolved against
    ``package``; for ``from m import n`` both ``m`` and ``m.n`` (``n`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def cell_imports(nb: dict) -> set[str]:
    """The modules a notebook's code cells import."""
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            with contextlib.suppress(SyntaxError):  # IPython syntax (magics): no imports
                names |= _imported(ast.parse(_text(cell["source"])), "")
    return names


def _module_file(name: str) -> Path | None:
    """The project file that defines module ``name``, or None if it is not the project's."""
    top, _, rest = name.partition(".")
    if top != PACKAGE_DIR.name:
        return None
    base = PACKAGE_DIR.joinpath(*rest.split(".")) if rest else PACKAGE_DIR
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_data(source: str) -> list[Path]:
    """The package's non-Python files a module names (its style sheet, say): read at run
    time, they shape its results as its code does."""
    return [p for p in sorted(PACKAGE_DIR.rglob("*"))
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
            and p.name in source]


def project_imports(nb: dict) -> list[Path]:
    """The project's files a notebook runs: the modules its cells import, the modules those
    import, transitively (their packages' ``__init__`` included), and the package data they
    name. Read from the source (``ast``), never from a kernel's ``sys.modules``, which in a
    forked kernel also holds what the fork server preloaded for other notebooks."""
    todo = cell_imports(nb)
    seen: set[str] = set()
    files: set[Path] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.update(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        source = path.read_text(encoding="utf-8")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo |= _imported(ast.parse(source), package) - seen
        files.update(_package_data(source))
    return sorted(files)


def code_hashes(nb: dict, lay: Layout) -> dict[str, str]:
    """What a notebook's results depend on besides its cells and the data it reads: the
    project code it imports and the pinned environment."""
    files = [*project_imports(nb), LOCK_FILE]
    return {lay.key(p): sha256_file(p) for p in files if p.exists()}


def after_numbers(nb: dict) -> bool:
    """Whether the notebook reads ``numbers.json`` and so runs after the others."""
    return bool(nb.get("metadata", {}).get("psu_study", {}).get("after_numbers", False))


def inputs_digest(cells: str, code: dict[str, str], parameters: dict[str, str],
                  reads: dict[str, str]) -> str:
    return sha256_bytes(json.dumps([cells, sorted(code.items()), parameters,
                                    sorted(reads.items())]).encode())


def stale_reason(nb: dict, entry: dict | None, lay: Layout) -> str | None:
    """Why a notebook must run again, or None when its recorded inputs and outputs still
    hold. Its inputs are exactly what the dependency file gives make (``write_depfile``)."""
    if entry is None:
        return "never built here"
    if entry.get("failed"):
        return f"{entry['failed']} last time"
    reads = {}
    for key in entry.get("reads", {}):
        path = lay.resolve(key)
        if not path.exists():
            return f"{key} is gone"
        reads[key] = sha256_file(path)
    code = code_hashes(nb, lay)
    digest = inputs_digest(cells_fingerprint(nb), code, lay.parameters(), reads)
    if digest != entry.get("inputs_sha256"):
        recorded = {**entry.get("code", {}), **entry["reads"]}
        changed = [k for k, v in {**code, **reads}.items() if recorded.get(k) != v]
        changed += [k for k in entry.get("code", {}) if k not in code]
        return ("changed: " + ", ".join(changed)) if changed else "cells or parameters changed"
    for key, expected in entry.get("outputs", {}).items():
        path = lay.resolve(key)
        if not path.exists() or sha256_file(path) != expected:
            return f"{key} is missing or was edited"
    return None


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


def kernel_manager(kernel: str, sockets: str) -> AsyncKernelManager:
    """A kernel that talks to the runner over IPC sockets in ``sockets``, never TCP ports:
    on a shared server no other user can connect to a kernel holding confidential data."""
    from .forked_kernels import ForkedKernelManager

    return ForkedKernelManager(kernel_name=kernel, transport="ipc",
                               connection_file=str(Path(sockets) / "kernel.json"))


def preload_modules(nb: dict) -> list[str]:
    """The modules a notebook's cells import: the fork server imports them once for every
    kernel."""
    return sorted(cell_imports(nb))


KERNEL_ARGUMENTS = ["--HistoryManager.enabled=False"]
"""No input history: no SQLite file shared by concurrent kernels."""


@dataclass
class Kernel:
    """A kernel started ahead of its turn, with the folders its notebook writes through."""

    km: AsyncKernelManager
    stage: Path
    sockets: str


async def start_kernel(path: Path, source: dict, lay: Layout) -> Kernel:
    """Launch ``path``'s kernel now, ahead of its turn."""
    from .forked_kernels import FORK_ENV

    lay.stage.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=path.stem + "-", dir=lay.stage))
    # IPC sockets are files whose path must fit in 107 bytes: a short private folder.
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")
    env = {k: v for k, v in os.environ.items() if k not in ENV_OVERRIDES}
    env.update({staging.STAGE_ENV: str(stage), **FORK_ENV})
    name = source.get("metadata", {}).get("kernelspec", {}).get("name", KERNEL_NAME)
    km = kernel_manager(name, sockets)
    await km.start_kernel(env=env, cwd=str(path.parent), extra_arguments=KERNEL_ARGUMENTS)
    return Kernel(km, stage, sockets)


async def stop_kernel(kernel: Kernel) -> None:
    with contextlib.suppress(Exception):
        if await kernel.km.is_alive():
            await kernel.km.shutdown_kernel(now=True)
    shutil.rmtree(kernel.sockets, ignore_errors=True)


def parameterized(path: Path, lay: Layout) -> NotebookNode:
    """The notebook to execute: as written for the default run, else with papermill's
    injected-parameters cell (under a fixed id, so the same run gives the same bytes)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    parameters = lay.parameters()
    if parameters:
        from papermill.parameterize import parameterize_notebook

        untagged = [c for c in nb.cells if "tags" not in c.metadata]
        for cell in untagged:
            cell.metadata["tags"] = []  # papermill expects every cell to carry tags
        nb.metadata["papermill"] = {}
        nb = parameterize_notebook(nb, parameters)
        for cell in nb.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.id = "injected-parameters"  # not a random id: same bytes every run
            elif cell.metadata.get("tags") == []:
                del cell.metadata["tags"]
        nb.metadata.pop("papermill", None)
    return nb


def disclosure_problem(nb: NotebookNode, name: str, lay: Layout) -> str | None:
    """Why an executed notebook must not be saved: a direct identifier in any of its
    outputs (the writers already scan figures and tables; this catches what cells print)."""
    from . import disclosure
    from .context import disclosure_lists

    names, allow = disclosure_lists(lay.data)
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

    nb = parameterized(path, lay)
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
            result.reads[lay.key(read)] = sha256_file(read)
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


def notebook_bytes(nb: NotebookNode) -> bytes:
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def commit(result: Result, lay: Layout, entry: dict | None, source: dict) -> dict:
    """Move a succeeded notebook's outputs into place and return its manifest entry."""
    allowed = (lay.figures, lay.tables)
    outputs: dict[str, str] = {}
    for staged, target in result.moves:
        if not any(target.resolve().is_relative_to(folder) for folder in allowed):
            raise BuildError(f"{result.name} wrote {target}, outside {lay.figures} and "
                             f"{lay.tables}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        outputs[lay.key(target)] = sha256_file(target)
    for key in set((entry or {}).get("outputs", {})) - set(outputs):
        if not key.startswith("notebooks/"):
            lay.resolve(key).unlink(missing_ok=True)  # no longer made: not left stale
    target = lay.notebooks_out / f"{result.name}.ipynb"
    data = notebook_bytes(result.nb)
    staging.write_atomic(target, data)
    outputs[lay.key(target)] = sha256_bytes(data)
    code = code_hashes(source, lay)
    return {
        "notebook": f"notebooks/{result.name}.ipynb",
        "parameters": lay.parameters(),
        "inputs_sha256": inputs_digest(cells_fingerprint(source), code, lay.parameters(),
                                       result.reads),
        "reads": dict(sorted(result.reads.items())),
        "code": code,
        "outputs": dict(sorted(outputs.items())),
    }


def environment() -> dict[str, object]:
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {"python": sys.version.split()[0], "packages": packages}


def write_numbers(lay: Layout, names: list[str]) -> dict[str, str]:
    """Merge the notebooks' numbers into ``numbers.json`` and ``numbers.tex``."""
    fragments = [lay.tables / "numbers" / f"{n}.json" for n in names]
    merged = numbers.merge([f for f in fragments if f.exists()])
    written = {}
    for target, text in ((lay.tables / "numbers.json", numbers.dumps(merged)),
                         (lay.tables / "numbers.tex", numbers.to_latex(merged))):
        data = text.encode("utf-8")
        if not target.exists() or target.read_bytes() != data:
            staging.write_atomic(target, data)
        written[lay.key(target)] = sha256_bytes(data)
    return written


def write_depfile(lay: Layout, entries: dict[str, dict], target: Path, depfile: Path) -> None:
    """What make must know, as ``gcc -MMD -MP`` writes it: ``target`` depends on every file a
    notebook read or imported when it last ran, and each of those files gets an empty rule,
    so make goes on when one is removed. The runner's own outputs (figures, tables) are left
    out: the runner orders those within a build."""
    def make_path(path: Path) -> str:
        path = path.resolve()
        shown = path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) \
            else path.as_posix()
        return shown.replace("$", "$$").replace(" ", "\\ ").replace("#", "\\#")

    rules = ["# Generated by the notebook runner after every build, as gcc -MMD -MP does: "
             "what each", "# notebook read and imported when it last ran. The Makefile "
             "includes it; do not edit.", ""]
    every: set[str] = set()
    for name, entry in sorted(entries.items()):
        keys = [k for k in [entry["notebook"], *entry.get("reads", {}), *entry.get("code", {})]
                if not k.startswith(("figures/", "tables/"))]
        paths = sorted({make_path(lay.resolve(k)) for k in keys})
        every.update(paths)
        rules.append(f"# {name}")
        rules.append(f"{make_path(target)}: " + " \\\n    ".join(paths))
        rules.append("")
    rules += [f"{p}:" for p in sorted(every)]
    staging.write_atomic(depfile, ("\n".join(rules) + "\n").encode("utf-8"))


def load_manifest(lay: Layout) -> dict:
    if lay.manifest.exists():
        return json.loads(lay.manifest.read_text(encoding="utf-8"))
    return {}


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
    paths = notebooks()
    if not paths:
        raise BuildError(f"no notebooks matching {NOTEBOOK_GLOB} in {NOTEBOOKS_DIR}")
    sources = {p.stem: read_source(p) for p in paths}
    run = Run(lay, sources, load_manifest(lay).get("notebooks", {}), force, Progress(0))
    first = [p for p in paths if not after_numbers(sources[p.stem])]
    late = [p for p in paths if after_numbers(sources[p.stem])]
    if dry_run:
        run.stale(first)
        run.stale(late)
        return 0
    _skip_slow_optional_imports()
    try:
        run.execute(first, late, jobs or os.cpu_count() or 1)
    finally:
        shutil.rmtree(lay.stage, ignore_errors=True)
    if run.seconds:
        staging.write_atomic(run.timings, json.dumps(run.seconds, sort_keys=True).encode("utf-8"))
    # Rewritten whenever its bytes change, also when nothing ran (a notebook was removed).
    manifest = {
        "about": "Every output of the build: its sha256, the notebook that wrote it, the "
                 "data it read (with sha256), its parameters, and the environment.",
        "environment": environment(),
        "notebooks": dict(sorted((k, v) for k, v in run.entries.items() if k in sources)),
        "combined": write_numbers(lay, sorted(sources)),
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if not lay.manifest.exists() or lay.manifest.read_bytes() != data:
        staging.write_atomic(lay.manifest, data)
    else:
        os.utime(lay.manifest)  # up to date: tell make so, without changing a byte
    if make is not None:
        write_depfile(lay, manifest["notebooks"], *make)
    if run.interrupted is not None:
        raise BuildInterrupted(*run.interrupted)
    if run.failed:
        raise BuildError(f"{len(run.failed)} notebook(s) failed: "
                         + "; ".join(f"{r.name} ({r.error})" for r in run.failed))
    return run.executed


def _skip_slow_optional_imports() -> None:
    """nbformat's validator imports jsonschema, which imports ``rfc3987_syntax`` if present
    for its optional 'iri' format; that module builds an Earley parser at import (over a
    second of the runner's start-up). The notebook schema uses no such format."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


@dataclass
class Run:
    """One build's state: what is recorded, what ran, what failed."""

    lay: Layout
    sources: dict[str, dict]
    entries: dict[str, dict]
    force: bool
    progress: Progress
    executed: int = 0
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
                return await start_kernel(path, self.sources[path.stem], self.lay)
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
        if todo or early_todo:
            from . import forked_kernels

            forked_kernels.start(m for s in self.sources.values() for m in preload_modules(s))
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
            self.entries[result.name] = commit(result, self.lay, self.entries.get(result.name),
                                               self.sources[result.name])
            self.seconds[result.name] = round(result.seconds, 2)


def verify(jobs: int | None = None) -> list[str]:
    """Rebuild the committed state (HEAD) from scratch in a fresh clone and name every file
    that then differs from what is committed: what a clean ``make`` on a fresh clone would
    leave in ``git status``. Uncommitted changes in the work tree are not part of it."""
    head = _git(REPO_ROOT, "rev-parse", "HEAD").strip()
    with tempfile.TemporaryDirectory(prefix="psu-verify-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(REPO_ROOT),
                        str(clone)], check=True)
        _git(clone, "checkout", "--quiet", "--detach", head)
        print(f"verify: rebuilding {head[:12]} in {clone}", flush=True)
        env = {k: v for k, v in os.environ.items() if k not in ENV_OVERRIDES}
        env["PYTHONPATH"] = str(clone / "src")
        command = [sys.executable, "-m", "psu_study.build", "--force"]
        if jobs:
            command += ["--jobs", str(jobs)]
        if subprocess.run(command, cwd=clone, env=env).returncode != 0:
            return ["the rebuild failed"]
        status = _git(clone, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        return [_difference(clone, entry[:2], entry[3:])
                for entry in status.split("\0") if entry]


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout


def _difference(clone: Path, code: str, name: str) -> str:
    """One line on how ``name`` differs: its first changed line, or its sha256 if binary."""
    path = clone / name
    if code == "??":
        return f"{name}: made by the build but not committed"
    if not path.exists():
        return f"{name}: committed but not made by the build"
    old = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=clone, check=True,
                         capture_output=True).stdout
    new = path.read_bytes()
    try:
        old_lines, new_lines = old.decode().splitlines(), new.decode().splitlines()
    except UnicodeDecodeError:
        return f"{name}: differs (sha256 {sha256_bytes(old)[:12]} -> {sha256_bytes(new)[:12]})"
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return f"{name}: line {number}: {a.strip()[:70]!r} -> {b.strip()[:70]!r}"
    return f"{name}: {len(old_lines)} lines committed, {len(new_lines)} rebuilt"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the study's notebooks.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="kernels at once (default: one per core)")
    parser.add_argument("--force", action="store_true", help="execute every notebook")
    parser.add_argument("--dry-run", "-n", action="store_true",
                        help="say what would run, run nothing")
    parser.add_argument("--stamp", type=Path, default=None,
                        help="make's target: removed first, written when every notebook "
                             "succeeded")
    parser.add_argument("--depfile", type=Path, default=None,
                        help="write make's dependency file for --stamp here")
    parser.add_argument("--verify", action="store_true",
                        help="rebuild HEAD in a fresh clone; name every output that differs")
    args = parser.parse_args(argv)
    if args.verify:
        differences = verify(args.jobs)
        for line in differences:
            print(f"  DIFFERS {line}")
        print(f"verify: {len(differences)} difference(s) from the committed outputs"
              if differences else "verify: a clean rebuild gives the committed bytes")
        return 1 if differences else 0
    started = time.perf_counter()
    try:
        executed = build(args.data_dir, args.out_dir, args.jobs, args.force, args.dry_run,
                         args.stamp, args.depfile)
    except BuildInterrupted as exc:
        print(f"build {exc}", file=sys.stderr)
        return 128 + exc.signum
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    if not args.dry_run:
        print(f"  {executed} notebook(s) executed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
