"""The project's Jupyter kernel: IPython's kernel with no TCP listener at all.

With the IPC transport every channel to the runner is a socket file, but ipykernel still
binds one TCP port on 127.0.0.1: the pipe that forwards output printed by forked
subprocesses. On a shared server any local user could connect to it. Here that pipe is an
IPC socket in a private temporary folder too, so a kernel holding confidential data listens
on no port. ``python -m psu_study.kernel install`` registers it (as ``psu-study``) inside
the environment.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

NAME = "psu-study"
DISPLAY_NAME = "Python (psu-study)"


def _use_ipc_output_pipe() -> None:
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


def install(prefix: str = sys.prefix) -> Path:
    """Write the kernelspec into ``prefix`` (the environment), not the user's home."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "psu_study.kernel", "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return folder


def main() -> None:
    if sys.argv[1:2] == ["install"]:
        print(f"Installed kernelspec {NAME} in {install()}")
        return
    _use_ipc_output_pipe()
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
