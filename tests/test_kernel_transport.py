"""The runner's kernels listen on no TCP port: they talk over IPC sockets (files)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import psutil
import pytest

from psu_study.runner import execute

pytestmark = pytest.mark.slow  # starts the runner's kernels

FORKED_PRINT = """
import multiprocessing
child = multiprocessing.get_context("fork").Process(target=print, args=("from a forked child",))
child.start()
child.join()
"""


def test_runner_kernels_use_ipc_and_open_no_tcp_port():
    sockets = tempfile.mkdtemp(prefix="psu-kernel-")

    seen: list[dict] = []

    async def start_and_inspect() -> tuple[dict, list, list[Path], dict]:
        km = execute.kernel_manager("psu-study", sockets)
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
