"""Test-wide settings that reach the notebook kernels nbval starts.

Kernels inherit this process's environment: pointing the stage directory at a temporary
folder means notebooks executed by tests write their figures and tables there, never over
the committed outputs. Tests that want a writer to write in place remove the variable with
monkeypatch.
"""

import os
import shutil
import tempfile


def pytest_configure(config):  # noqa: ARG001 - pytest's hook signature
    os.environ["PSU_STUDY_STAGE_DIR"] = tempfile.mkdtemp(prefix="psu-study-nbval-")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("MPLBACKEND", "agg")


def pytest_unconfigure(config):  # noqa: ARG001 - pytest's hook signature
    stage = os.environ.pop("PSU_STUDY_STAGE_DIR", None)
    if stage:
        shutil.rmtree(stage, ignore_errors=True)
