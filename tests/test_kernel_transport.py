"""The runner's kernels listen on no TCP port: they talk over IPC sockets (files). Started as
papermill, nbval and JupyterLab start it (TCP), the same kernel listens on its channels'
loopback ports only."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import psutil
import pytest
from jupyter_client.manager import AsyncKernelManager

from psu_study.runner import kernels

pytestmark = pytest.mark.slow  # starts the runner's kernels

FORKED_PRINT = """
import multiprocessing
child = multiprocessing.get_context("fork").Process(target=print, args=("from a forked child",))
child.start()
child.join()
"""


@pytest.mark.slow
def test_runner_kernels_use_ipc_and_open_no_tcp_port():
    """docs/architecture.md, section The project's kernel: "a build opens no TCP port"."""
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")

    seen: list[dict] = []

    async def start_and_inspect() -> tuple[dict, list, list[Path], dict]:
        km = kernels.kernel_manager("psu-study", sockets)
        await km.start_kernel()
        try:
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)  # the kernel has bound its sockets
            connection = json.loads(Path(km.connection_file).read_text())
            pid = km.provisioner.process.pid
            inet = [c for p in [psutil.Process(pid), *psutil.Process(pid).children(True)]
                    for c in p.net_connections(kind="inet")]
            files = sorted(Path(sockets).iterdir())
            reply = await client._async_execute_interactive(FORKED_PRINT, output_hook=seen.append,
                                                            timeout=60)
            client.stop_channels()
            return connection, inet, files, reply
        finally:
            await km.shutdown_kernel(now=True)

    connection, inet, files, reply = asyncio.run(start_and_inspect())
    assert connection["transport"] == "ipc"
    assert inet == [], f"kernel holds inet sockets: {inet}"
    assert any(f.name.startswith("kernel-ipc") for f in files), "IPC socket files exist"
    assert reply["content"]["status"] == "ok"
    printed = "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
    assert "from a forked child" in printed, "output of forked processes still arrives"


@pytest.mark.slow
def test_over_tcp_the_kernel_listens_on_its_five_channels_on_loopback_only():
    """docs/architecture.md, section The project's kernel: "there the kernel listens on its five
    channels' loopback ports and no other" (the forked processes' output pipe stays an IPC
    socket). Started as they start it: jupyter_client's default transport, the psu-study
    kernelspec."""

    async def listening() -> tuple[dict, set]:
        km = AsyncKernelManager(kernel_name="psu-study")
        await km.start_kernel()
        try:
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            connection = json.loads(Path(km.connection_file).read_text())
            pid = km.provisioner.process.pid
            ports = {(c.laddr.ip, c.laddr.port)
                     for p in [psutil.Process(pid), *psutil.Process(pid).children(True)]
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
            client.stop_channels()
            return connection, ports
        finally:
            await km.shutdown_kernel(now=True)

    connection, ports = asyncio.run(listening())
    assert connection["transport"] == "tcp"
    channels = {("127.0.0.1", connection[f"{name}_port"])
                for name in ("shell", "iopub", "stdin", "control", "hb")}
    assert ports == channels
