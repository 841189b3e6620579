"""Every use of another library's internals, in one place (as scikit-learn's
``utils/fixes.py``), each with why it is needed and the versions it was written for.

Outside those versions the runner does not guess: ``forking_problem`` names the library, and
the runner then starts each notebook's kernel the plain way (``jupyter_client``'s own
launcher) after a one-line warning. Plain kernels give the same bytes, only slower; a test
compares the two.
"""

from __future__ import annotations

import atexit
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..environment import PLAIN_KERNELS_ENV

WRITTEN_FOR = {
    "ipykernel": ((7, 0), (8, 0)),
    "jupyter_client": ((8, 0), (9, 0)),
    "pandas": ((2, 2), (4, 0)),
    "nbclient": ((0, 10), (0, 12)),
}
"""Each library whose internals are used here: the versions (from, up to but excluding) the
code below was written and tested for (ipykernel 7.4, jupyter_client 8.10, pandas 3.1,
nbclient 0.11)."""

def _version(name: str) -> tuple[int, ...] | None:
    try:
        text = version(name)
    except PackageNotFoundError:
        return None
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def outside(name: str) -> str | None:
    """Why ``name``'s installed version is not one this module was written for, or None."""
    low, high = WRITTEN_FOR[name]
    found = _version(name)
    if found is None:
        return f"{name} is not installed"
    if not low <= found < high:
        shown = ".".join(map(str, found))
        return (f"{name} {shown} is outside {'.'.join(map(str, low))} to "
                f"<{'.'.join(map(str, high))}")
    return None


def forking_problem() -> str | None:
    """Why the runner must not fork its kernels from a warm process, or None when it may."""
    if os.environ.get(PLAIN_KERNELS_ENV):
        return f"{PLAIN_KERNELS_ENV} is set"
    for name in WRITTEN_FOR:
        reason = outside(name)
        if reason:
            return reason
    return None


class PreStartHook:
    """Mixin for ``jupyter_client.manager.AsyncKernelManager``: set the kernel's provisioner
    before the manager picks its own. jupyter_client 8 chooses it in the private
    ``_async_pre_start_kernel`` and offers no other hook per manager (a provisioner named in
    the kernelspec would apply in JupyterLab too, where kernels must start as usual)."""

    def make_provisioner(self) -> Any:
        raise NotImplementedError

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:  # type: ignore[attr-defined]
            if kw.get("kernel_id"):
                self.kernel_id = kw.pop("kernel_id")  # type: ignore[attr-defined]
            self.provisioner = self.make_provisioner()  # type: ignore[attr-defined]
        return await super()._async_pre_start_kernel(**kw)  # type: ignore[misc]


def drop_exit_cleanup(client: Any) -> None:
    """nbclient registers its private ``NotebookClient._cleanup_kernel`` with ``atexit`` for
    each run and unregisters it when the run ends. A run cancelled (Ctrl-C) while its own
    clean-up is under way skips the unregister, and at exit the hook fails on a kernel that is
    already gone: a bare ``AssertionError`` in an interrupted build's output. The runner shuts
    its kernels down itself, so the hook is dropped once a run is over; outside the nbclient
    versions above nothing is done."""
    if outside("nbclient") is None:
        atexit.unregister(client._cleanup_kernel)


def pandas_as_in_a_kernel() -> None:
    """In a forked kernel: give pandas the ``display.max_columns`` it would have chosen at
    import inside a kernel. pandas picks it once, at import (pandas/core/config_init.py,
    ``is_terminal()``: 0 in a terminal, 20 elsewhere), and the fork server that imported it
    is no kernel, so tables would otherwise print wider than a fresh kernel prints them."""
    if "pandas" in sys.modules:
        sys.modules["pandas"].set_option("display.max_columns", 20)


def skip_slow_optional_imports() -> None:
    """nbformat's validator imports jsonschema, which imports ``rfc3987_syntax`` if present
    for its optional 'iri' format; that module builds an Earley parser at import (over a
    second of the runner's start-up). The notebook schema uses no such format. A ``None`` in
    ``sys.modules`` makes that import fail as if the package were absent, which jsonschema
    handles (only that format goes unchecked)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def ipc_output_pipe() -> bool:
    """Make ipykernel's output pipe (which forwards what forked subprocesses print) an IPC
    socket in a private folder instead of a TCP port on 127.0.0.1, which any local user could
    connect to. ipykernel 7 binds it in the private ``IOPubThread._setup_pipe_in`` and
    connects in ``_setup_pipe_out``, with no option to choose; both are replaced here.
    Returns False (and changes nothing) outside the versions this was written for."""
    if outside("ipykernel"):
        return False
    import shutil
    import tempfile

    import zmq
    from ipykernel import iostream, kernelapp
    from zmq.eventloop.zmqstream import ZMQStream

    class IpcIOPubThread(iostream.IOPubThread):
        """IOPubThread whose subprocess pipe is an IPC socket file, not a loopback port."""

        def _setup_pipe_in(self) -> None:
            self._pipe_uuid = os.urandom(16)
            pipe_in = self.socket.context.socket(zmq.PULL)
            pipe_in.linger = 0
            folder = tempfile.mkdtemp(prefix="psu-pipe-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            self._pipe_address = f"ipc://{folder}/iopub"
            pipe_in.bind(self._pipe_address)
            self._pipe_in = ZMQStream(pipe_in, self.io_loop)
            self._pipe_in.on_recv(self._handle_pipe_msg)

        def _setup_pipe_out(self) -> tuple[zmq.Context, zmq.Socket]:
            context = zmq.Context()
            pipe_out = context.socket(zmq.PUSH)
            pipe_out.linger = 3000
            pipe_out.connect(self._pipe_address)
            return context, pipe_out

    kernelapp.IOPubThread = IpcIOPubThread
    return True
