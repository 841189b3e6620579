"""Test-wide settings that reach the notebook kernels nbval starts, and the check nbval
cannot make itself: that a notebook run from scratch writes its committed files.

Kernels inherit this process's environment: pointing the stage directory at a temporary
folder means notebooks executed by tests write their figures and tables there, never over
the committed outputs. Tests that want a writer to write in place remove the variable with
monkeypatch.

nbval compares the cells' outputs (not images, not files). Once the last cell of a notebook
has run, every figure and table the notebook staged is compared byte for byte with the
committed file it stands for: a fresh run in a plainly started kernel must give the bytes the
build (in forked kernels) committed. A difference fails that last cell's teardown, naming
the file.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from psu_study import staging
from psu_study.environment import KERNEL_ENV, STAGE_ENV

_started: dict[str, int] = {}
"""For each notebook nbval is running: how many staged writes were recorded before it."""


def pytest_configure(config):  # noqa: ARG001 - pytest's hook signature
    os.environ[STAGE_ENV] = tempfile.mkdtemp(prefix="psu-study-nbval-")
    os.environ.update(KERNEL_ENV)


def pytest_unconfigure(config):  # noqa: ARG001 - pytest's hook signature
    stage = os.environ.pop(STAGE_ENV, None)
    if stage:
        shutil.rmtree(stage, ignore_errors=True)


def _moves() -> list[dict[str, str]]:
    return staging.read_records(Path(os.environ[STAGE_ENV]), staging.MOVES_FILE)


def _is_notebook_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_collection_modifyitems(items):
    """Each of nbval's cells runs in a kernel: ``slow``, left out of ``make test-fast``."""
    for item in items:
        if _is_notebook_cell(item):
            item.add_marker(pytest.mark.slow)


def pytest_runtest_setup(item):
    if _is_notebook_cell(item) and item.parent.nodeid not in _started:
        _started[item.parent.nodeid] = len(_moves())


def pytest_runtest_teardown(item, nextitem):
    """After a notebook's last cell: each file it wrote (its last write of each) must be the
    committed file's bytes."""
    if not _is_notebook_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    start = _started.pop(item.parent.nodeid, None)
    if start is None:  # its first cell never set up (deselected): nothing of it ran
        return
    written = {m["target"]: m["staged"] for m in _moves()[start:]}
    differ = [os.path.relpath(target) for target, staged in sorted(written.items())
              if not Path(target).is_file()
              or Path(staged).read_bytes() != Path(target).read_bytes()]
    assert not differ, (f"{item.parent.name} wrote files that differ from the committed ones "
                        f"(rebuild with make, or find what changed them): {differ}")
