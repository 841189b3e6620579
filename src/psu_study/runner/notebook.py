"""One notebook run in its (already started) kernel: its outputs staged, what it read
recorded, and a failure or an interrupt reported as one line, never raised.

Nothing a notebook writes holds a date, a timing or a random id, so a rebuild gives the
same bytes and a committed notebook only changes when its results do.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import staging
from ..run_folders import RunFolders
from . import compat
from .kernels import Kernel, stop_kernel
from .result import Result

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from nbformat import NotebookNode

CELL_TIMEOUT_S = 600


def _failure(nb: NotebookNode, exc: BaseException) -> str:
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
    return f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc) else ''}"



def parameterized(path: Path) -> NotebookNode:
    """The notebook to execute, as written: another run's folders reach the kernel through
    its environment (``RunFolders.environment``), so no executed notebook records a path of
    this machine."""
    import nbformat

    return nbformat.read(path, as_version=4)


def disclosure_problem(nb: NotebookNode, name: str, lay: RunFolders) -> str | None:
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


async def run_notebook(path: Path, lay: RunFolders, kernel: asyncio.Task[Kernel],
                       slots: asyncio.Semaphore, log: Progress,
                       stopping: Callable[[], bool]) -> Result:
    """Run one notebook in its own (already started) kernel once a core is free."""
    from nbclient import NotebookClient

    nb = parameterized(path)
    result = Result(path.stem, 0.0, nb)
    try:
        warm = await kernel
    except Exception as exc:  # noqa: BLE001 - reported like any failing notebook
        result.error = (INTERRUPTED if stopping()
                        else f"the kernel did not start: {type(exc).__name__}: {exc}")
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
            result.started = True
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
            result.reads[lay.key(read)] = staging.file_digest(read)
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
        status = ("stopped" if result.error == INTERRUPTED else
                  "FAILED" if result.error else "done  ")
        self.say(f"  {status} {result.name}  {result.seconds:5.1f} s  [{self.done}/{self.total}]")
