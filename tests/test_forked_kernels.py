"""The runner's kernels are forks of one warm process; they must behave as fresh kernels do.

The fork server imported pandas, matplotlib and ipykernel before any kernel existed, so
whatever those modules decide at import (from the environment, or from running inside a
kernel) must still come out as a freshly started ``psu-study`` kernel would have it.

That the two kinds give the same bytes is shown by whole builds elsewhere: a repository built
in plain kernels verifies by a forked rebuild (tests/test_verify.py); nbval's fresh kernels
write the files the forked build committed (the root conftest.py); the second study built by
the runner and by plain papermill writes the same figures and tables
(tests/test_second_study.py).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import psutil
import pytest
from jupyter_client.manager import AsyncKernelManager

from psu_study.environment import KERNEL_ENV, PLAIN_KERNELS_ENV
from psu_study.runner import compat, kernel, kernels

PROBE = """
import os
import sys
import matplotlib
import pandas as pd
from ipykernel.kernelapp import IPKernelApp
print(repr(pd.DataFrame([[i * j for j in range(30)] for i in range(3)])))
print(pd.get_option("display.max_columns"), hash("psu-study"), matplotlib.get_backend())
print(os.getcwd(), os.environ["PSU_PROBE"], sys.path[0] == os.getcwd())
print(IPKernelApp.instance().parent_handle == int(os.environ.get("JPY_PARENT_PID", -1)))
"""

ENV = {"PSU_PROBE": "probe value", **KERNEL_ENV}


async def _run(km: AsyncKernelManager, cwd: Path, code: str, interrupt: bool = False
               ) -> tuple[str, dict, int]:
    await km.start_kernel(env={**os.environ, **ENV}, cwd=str(cwd))
    pid = km.provisioner.process.pid
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        seen: list[dict] = []
        if interrupt:
            async def interrupt_soon() -> None:
                await asyncio.sleep(1.0)
                await km.interrupt_kernel()
            task = asyncio.create_task(interrupt_soon())
        reply = await client._async_execute_interactive(code, output_hook=seen.append,
                                                        timeout=60)
        if interrupt:
            await task
        text = "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
        return text, reply["content"], pid
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


def run(km: AsyncKernelManager, code: str = PROBE, interrupt: bool = False
        ) -> tuple[str, dict, int]:
    cwd = Path(tempfile.mkdtemp(prefix="psu-cwd-"))
    return asyncio.run(_run(km, cwd, code, interrupt))


def fresh() -> AsyncKernelManager:
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")
    return AsyncKernelManager(kernel_name=kernel.NAME, transport="ipc",
                              connection_file=str(Path(sockets) / "kernel.json"))


def forked() -> AsyncKernelManager:
    return kernels.kernel_manager(kernel.NAME, tempfile.mkdtemp(prefix="psu-kernel-"))


@pytest.mark.slow  # starts a kernel
def test_a_forked_kernel_prints_what_a_fresh_one_prints():
    """docs/performance.md, section Performance: "same output as a fresh kernel, own session,
    interruptible"."""
    forked_text, forked_reply, forked_pid = run(forked())
    fresh_text, fresh_reply, _ = run(fresh())
    assert forked_reply["status"] == fresh_reply["status"] == "ok"
    # The folders differ run to run; everything else must be the same, byte for byte.
    def normal(text: str) -> str:
        return "\n".join(line.split(" ", 1)[1] if "psu-cwd-" in line else line
                         for line in text.splitlines())
    assert normal(forked_text) == normal(fresh_text)
    # What the fork server did differently before the fix: pandas' column limit chosen as
    # for a terminal (0, "fit the width") instead of a kernel's 20, and no launcher pid.
    assert "\n20 " in forked_text and "\nTrue" in forked_text
    assert "probe value" in forked_text and "psu-cwd-" in forked_text


@pytest.mark.slow  # starts a kernel
def test_a_forked_kernel_is_a_fork_in_its_own_session_and_goes_away():
    code = "import os; print(os.getpid(), os.getppid(), os.getsid(0))"
    text, reply, pid = run(forked(), code)
    kernel, parent, session = (int(v) for v in text.split())
    assert kernel == pid and session == pid, "the kernel leads its own session"
    assert parent != os.getpid(), "it was forked by the server, not started by this process"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow  # starts a kernel
def test_a_forked_kernel_can_be_interrupted():
    # The runner interrupts a cell that runs past its timeout; the signal must reach it.
    text, reply, _ = run(forked(), "import time\ntime.sleep(30)", interrupt=True)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"


@pytest.mark.slow  # starts a kernel
def test_a_forked_kernel_that_dies_is_seen_dead_with_its_exit_code():
    # nbclient asks the manager whether the kernel lives when a cell never answers; a forked
    # kernel is not this process's child, so its exit must still reach the provisioner.
    async def die() -> tuple[bool, int | None]:
        km = forked()
        await km.start_kernel(env={**os.environ, **ENV}, cwd=tempfile.mkdtemp())
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            client.execute("import os; os._exit(3)")
            for _ in range(100):
                if not await km.is_alive():
                    break
                await asyncio.sleep(0.1)
            return await km.is_alive(), await km.provisioner.poll()
        finally:
            client.stop_channels()
            await km.shutdown_kernel(now=True)

    alive, code = asyncio.run(die())
    assert (alive, code) == (False, 3)


def test_versions_outside_those_written_for_turn_forking_off(monkeypatch):
    """docs/architecture.md, section Modules: "`compat` (every use of another library's internals,
    guarded by version)"."""
    monkeypatch.delenv(PLAIN_KERNELS_ENV, raising=False)
    assert compat.forking_problem() is None, "the locked versions are the ones written for"
    real = compat._version
    monkeypatch.setattr(compat, "_version",
                        lambda name: (8, 0, 1) if name == "ipykernel" else real(name))
    assert compat.forking_problem() == "ipykernel 8.0.1 is outside 7.0 to <8.0"
    assert compat.ipc_output_pipe() is False, "ipykernel's internals are left alone"
