"""nbval is the regression net: a changed data value must change a stored output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from psu_study.environment import FOLDER_ENV
from psu_study.paths import FIGURES_DIR, NOTEBOOKS_DIR, REPO_ROOT, TABLES_DIR

pytestmark = pytest.mark.slow  # runs nbval, which starts kernels


def nbval(notebook: str, data_dir, out) -> subprocess.CompletedProcess[str]:
    """nbval on other data, as the README's JupyterLab and nbval users name it: the three
    environment variables, the output folders outside the repository (other data with the
    repository's own folders is refused: tests/test_confidential.py), here copies of the
    committed figures and tables, which the root conftest.py compares the writes with."""
    shutil.copytree(FIGURES_DIR, out / "figures")
    shutil.copytree(TABLES_DIR, out / "tables")
    env = {**os.environ, FOLDER_ENV["data_dir"]: str(data_dir),
           FOLDER_ENV["figures_dir"]: str(out / "figures"),
           FOLDER_ENV["tables_dir"]: str(out / "tables")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", str(REPO_ROOT / "tests" / "nbval_sanitize.cfg"),
         str(NOTEBOOKS_DIR / notebook)],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600,
    )


def test_nbval_fails_on_a_changed_value(data_copy, tmp_path):
    """docs/development.md, section What the suite holds: "a changed data value is shown to make
    nbval fail"; docs/development.md, section What the suite holds: "After each notebook's last
    cell under nbval, every figure and table it wrote in nbval's fresh kernel is compared byte
    for byte with the committed file (the root `conftest.py`)"."""
    # That nbval passes on the unchanged data is what `make test`'s own nbval run over
    # notebooks/ shows: running it again here would prove the same thing twice.
    path = data_copy / "interviews.csv"
    path.write_text(path.read_text().replace(",telephone,42,", ",telephone,47,", 1))
    result = nbval("03_interviews.ipynb", data_copy, tmp_path / "out")
    assert result.returncode != 0
    assert "Cell outputs differ" in result.stdout and "50.625" in result.stdout  # 405 / 8
    assert "wrote files that differ from the committed ones" in result.stdout
    differ = result.stdout[result.stdout.index("wrote files that differ"):]
    assert "interviews.csv" in differ
