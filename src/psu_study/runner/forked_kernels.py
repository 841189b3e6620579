"""Kernels forked from one warm process: each notebook skips Python's start and the imports.

A fresh kernel costs well over a second here, nearly all of it importing pandas,
matplotlib and scipy, and every notebook paid it again. The build runner instead
starts one fork server (the standard library's ``multiprocessing`` forkserver) that imports
them, and ipykernel, once; each notebook's kernel is a fork of it: the same interpreter, the
same modules, the same hash seed, so its outputs are the same bytes as a fresh kernel's.
Only the runner uses it; JupyterLab and nbval start the ``psu-study`` kernel the usual way.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import sys
import uuid
from collections.abc import Iterable
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from ..environment import KERNEL_ENV
from . import compat, kernel

WARM_MODULES = ("pandas", "matplotlib", "ipykernel.kernelapp", kernel.MODULE)
"""Imported by the fork server whatever the notebooks name: what every notebook imports (the
project's modules need pandas and matplotlib), and the kernel itself. Anything else a
notebook needs comes with the modules its cells import (``start``'s argument), and only for
the notebooks a build runs."""
SHARED_MODULES = ("matplotlib.backends.backend_pdf", "fontTools.subset")
"""What a notebook imports at its first PDF figure (fontTools subsets the fonts): imported by
the fork server only when more than one kernel will fork from it, so it pays once."""

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Blocked in the fork server (as multiprocessing blocks them in its resource tracker): it
runs in the runner's process group, where Ctrl-C at the terminal would stop its imports with
a traceback; the runner ends it. Each kernel unblocks them once in a session of its own."""

_context = multiprocessing.get_context("forkserver")
_started = False
_refused = False


def refuse() -> None:
    """No fork from now on (an interrupt): multiprocessing would start a new fork server in
    place of the one the interrupt has just ended, and fork a kernel from it."""
    global _refused
    _refused = True


def start(modules: Iterable[str] = (), shared: bool = False) -> None:
    """Start the fork server, importing ``modules`` (failures are left to the notebooks), and
    ``SHARED_MODULES`` too when ``shared`` (several kernels will fork).

    It imports in the background: the runner goes on, and the first fork waits for it.
    """
    global _started
    if _started:
        return
    _started = True
    _context.set_forkserver_preload(sorted({*modules, *WARM_MODULES,
                                            *(SHARED_MODULES if shared else ())}))
    saved = {name: os.environ.get(name) for name in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()  # first: it unblocks both signals when it is done
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)  # inherited by the server
    try:
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _run(argv: list[str], env: dict[str, str], cwd: str) -> None:
    """The forked kernel: its own session (signals reach it and its children, never the
    runner), the environment and folder it was launched with, then ipykernel as usual."""
    os.setsid()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)  # the server's mask (``SIGNALS``)
    os.environ.clear()
    os.environ.update(env)
    if sys.path and sys.path[0] == os.getcwd():  # ``python -m`` put its folder first
        sys.path[0] = os.path.abspath(cwd)
    os.chdir(cwd)
    # ipykernel reads the launcher's pid from the environment at import, which here was in
    # the fork server: pass it as a fresh kernel would have read it.
    parent = [f"--IPKernelApp.parent_handle={env['JPY_PARENT_PID']}"] if env.get(
        "JPY_PARENT_PID") else []
    sys.argv = [*argv, *parent]
    compat.pandas_as_in_a_kernel()
    kernel.main()


class _Forked:
    """What jupyter_client's provisioner asks of a ``Popen``, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # as Popen does: a kernel that has exited is left alone
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self._process.kill()

    def terminate(self) -> None:
        self._process.terminate()


class ForkProvisioner(LocalProvisioner):
    """Launch the project's kernel as a fork of the warm server; any other kernel as usual."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict:
        if cmd[1:3] != ["-m", kernel.MODULE]:
            return await super().launch_kernel(cmd, **kwargs)
        start()
        # As jupyter_client's launcher tells a kernel it started (not ``independent``).
        env = {**os.environ, **KERNEL_ENV, **(kwargs.get("env") or {}),
               "JPY_PARENT_PID": str(os.getpid())}
        if any(env.get(name) != value for name, value in KERNEL_ENV.items()):
            raise RuntimeError(f"a forked kernel runs with {KERNEL_ENV}")
        process = _context.Process(
            target=_run, args=([kernel.MODULE, *cmd[3:]], env, str(kwargs.get("cwd") or ".")),
            daemon=False)  # a daemonic process may not start processes, and cells may

        def fork() -> None:  # waits while the server is still importing
            if _refused:
                raise RuntimeError("the build was interrupted: no kernel is forked")
            process.start()
        await asyncio.to_thread(fork)
        self.process = _Forked(process)
        self.pid = self.pgid = process.pid  # its own session and process group (setsid)
        self.cwd = kwargs.get("cwd")
        return self.connection_info


class ForkedKernelManager(compat.PreStartHook, AsyncKernelManager):
    """A kernel manager whose kernels come from the fork server."""

    def make_provisioner(self) -> ForkProvisioner:
        self.kernel_id = self.kernel_id or str(uuid.uuid4())
        return ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                               parent=self)
