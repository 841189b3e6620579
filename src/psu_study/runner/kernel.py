"""The project's Jupyter kernel: IPython's kernel whose own output pipe is no TCP listener.

With the IPC transport every channel to the runner is a socket file, but ipykernel still
binds one TCP port on 127.0.0.1: the pipe that forwards output printed by forked
subprocesses. On a shared server any local user could connect to it. Here that pipe is an
IPC socket in a private temporary folder too, so under the runner (IPC transport) a kernel
holding confidential data listens on no port. Papermill, nbval and JupyterLab connect over
jupyter_client's default TCP transport: there the kernel listens on its five channels'
loopback ports, and no other. ``python -m psu_study.runner.kernel install`` registers it (as
``psu-study``) inside the environment.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import compat

NAME = "psu-study"
DISPLAY_NAME = "Python (psu-study)"
MODULE = "psu_study.runner.kernel"


def install(prefix: str = sys.prefix) -> Path:
    """Write the kernelspec into ``prefix`` (the environment), not the user's home."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", MODULE, "-f", "{connection_file}"],
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
    if not compat.ipc_output_pipe():
        print(f"psu-study kernel: {compat.outside('ipykernel')}: its output pipe for "
              "subprocesses is ipykernel's own, on a loopback TCP port", file=sys.stderr)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
