"""Each notebook's kernel, started ahead of its turn and stopped however its notebook ends.

Its kernels are forks of one process that has already imported the notebooks' libraries
(``forked_kernels``), or, outside the library versions that was written for (``compat``),
plainly started ones; either way they talk to the runner over IPC sockets, never TCP ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..environment import KERNEL_ENV, STAGE_ENV, without_folders
from ..run_folders import RunFolders
from . import compat, kernel
from .graph import cell_imports

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager

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


async def start_kernel(path: Path, source: dict, lay: RunFolders, forked: bool) -> Kernel:
    """Launch ``path``'s kernel now, ahead of its turn."""
    lay.stage.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=path.stem + "-", dir=lay.stage))
    # IPC sockets are files whose path must fit in 107 bytes: a short private folder.
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")
    env = without_folders(dict(os.environ))
    env.update({STAGE_ENV: str(stage), **KERNEL_ENV, **lay.environment()})
    name = source.get("metadata", {}).get("kernelspec", {}).get("name", kernel.NAME)
    km = kernel_manager(name, sockets, forked)
    try:
        await km.start_kernel(env=env, cwd=str(path.parent), extra_arguments=KERNEL_ARGUMENTS)
    except BaseException:  # stopped half-way (an interrupt): no socket folder left behind
        await stop_kernel(Kernel(km, stage, sockets))
        raise
    return Kernel(km, stage, sockets)


async def stop_kernel(kernel: Kernel) -> None:
    with contextlib.suppress(Exception):
        if await kernel.km.is_alive():
            await kernel.km.shutdown_kernel(now=True)
    shutil.rmtree(kernel.sockets, ignore_errors=True)

