"""nbval is the regression net: a changed data value must change a stored output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from psu_study.paths import NOTEBOOKS_DIR, REPO_ROOT

pytestmark = pytest.mark.slow  # runs nbval, which starts kernels


def nbval(notebook: str, data_dir) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PSU_STUDY_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", str(REPO_ROOT / "tests" / "nbval_sanitize.cfg"),
         str(NOTEBOOKS_DIR / notebook)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600,
    )


def test_nbval_fails_on_a_changed_value(data_copy):
    # That nbval passes on the unchanged data is what `make test`'s own nbval run over
    # notebooks/ shows: running it again here would prove the same thing twice.
    path = data_copy / "interviews.csv"
    path.write_text(path.read_text().replace(",telephone,42,", ",telephone,47,", 1))
    result = nbval("03_interviews.ipynb", data_copy)
    assert result.returncode != 0
    assert "Cell outputs differ" in result.stdout and "50.625" in result.stdout  # 405 / 8
