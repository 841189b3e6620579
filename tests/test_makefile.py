"""The Makefile's own promises, each in a scratch folder holding the Makefile and what its
environment rule reads (never this repository's environment): Python 3.11 checked by
version, the environment reinstalled only when what an install reads changes, ``make clean``
and ``make lint``; and, from the repository's own Makefile, its two mirrors of the package's
constants. (DATA_DIR/OUT_DIR from the environment: tests/test_build.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The Makefile, pyproject.toml and the lock, and a fake environment whose python and uv
    log what they are asked (``install.log``) and do nothing."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(REPO / name, project / name)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    for name in ("python", "uv"):
        script(tmp_path / "venv" / "bin" / name, f'echo "{name} $*" >> {tmp_path}/install.log')
    # A Python 3.11 whose -m (venv, pip) is logged, not run; -c runs for real.
    script(tmp_path / "python3.11", f'[ "$1" = -m ] && {{ echo "python3.11 $*" >> '
           f'{tmp_path}/install.log; exit 0; }}\nexec {sys.executable} "$@"')
    return project


def make(project: Path, *args: str, python: str | None = None) -> subprocess.CompletedProcess:
    venv = project.parent / "venv"
    return subprocess.run(["make", "--no-print-directory", "-C", str(project), f"VENV={venv}",
                           f"PYTHON={python or project.parent / 'python3.11'}", *args],
                          capture_output=True, text=True, timeout=60)


def installs(project: Path) -> int:
    """How many times the environment was made: its venv created."""
    log = project.parent / "install.log"
    return log.read_text().count("-m venv --without-pip") if log.exists() else 0


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def older(path: Path) -> None:
    """``path`` made a minute older: an edit made next is newer, at any clock resolution."""
    when = path.stat().st_mtime - 60
    os.utime(path, (when, when))


def test_only_what_an_install_reads_reinstalls_the_environment(scratch: Path):
    """docs/development.md, section What the suite holds: "an edit to `pyproject.toml`'s tool
    settings reinstalls nothing"."""
    stamp = str(scratch.parent / "venv" / ".installed")
    assert make(scratch, stamp).returncode == 0 and installs(scratch) == 1
    older(Path(stamp))
    # A ruff setting: the stamp is touched, nothing installed, and make is then current.
    edit(scratch / "pyproject.toml", "line-length = 100", "line-length = 99")
    kept = make(scratch, stamp)
    assert kept.returncode == 0 and installs(scratch) == 1, kept.stdout + kept.stderr
    assert "only settings no install reads changed" in kept.stdout
    assert make(scratch, "-q", stamp).returncode == 0
    older(Path(stamp))
    # A dependency, then the lock: each reinstalls.
    edit(scratch / "pyproject.toml", '"tabulate>=0.9",', '"tabulate>=0.9.1",')
    assert make(scratch, stamp).returncode == 0 and installs(scratch) == 2
    older(Path(stamp))
    with open(scratch / "requirements.lock", "a") as handle:
        handle.write("# edited\n")
    assert make(scratch, stamp).returncode == 0 and installs(scratch) == 3


@pytest.mark.parametrize(("version", "says"), [("3.12", "is Python 3.12"),
                                              (None, "is not found")])
def test_python_other_than_3_11_is_refused_by_version(scratch: Path, version: str | None,
                                                      says: str):
    """No fall-back to whatever python3 is on PATH: the version is checked and named.

    README, section Two commands: "A Python other than 3.11 is refused by version (`make
    PYTHON=/path/to/python3.11` names one)"; docs/development.md, section What the suite holds:
    "a Python other than 3.11 is refused by version"."""
    python = (str(script(scratch.parent / "python-other", f"echo {version}"))
              if version else "no-such-python")
    result = make(scratch, str(scratch.parent / "venv" / ".installed"), python=python)
    assert result.returncode != 0 and installs(scratch) == 0
    assert result.stderr.startswith(f"Python 3.11 is needed; PYTHON={python} {says}. Install "
                                    "Python 3.11, or name it: make PYTHON=/path/to/python3.11"
                                    ), result.stderr


def test_clean_removes_build_and_report_and_keeps_the_outputs(scratch: Path):
    """docs/development.md, section Make targets: "`make clean` | remove `build/` and `report/`
    (the committed outputs stay)"."""
    for name in ("build/notebooks.stamp", "report/index.html", "figures/x.png"):
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_text("")
    assert make(scratch, "clean").returncode == 0
    assert sorted(p.name for p in scratch.iterdir() if p.is_dir()) == ["figures"]


def test_lint_is_a_target_of_its_own_over_code_tests_benchmarks_and_notebooks(scratch: Path):
    """docs/development.md, section Make targets: "ruff over the package, the tests, the
    benchmarks, the root `conftest.py` and the notebooks"."""
    result = make(scratch, "-n", "-o", str(scratch.parent / "venv" / ".installed"), "lint")
    ruff = " -m ruff check src tests benchmarks conftest.py notebooks"
    assert result.stdout.strip().endswith(ruff), result.stdout


def test_paper_and_report_honour_data_dir_and_out_dir(scratch: Path):
    """Both build the run the command line names (the paper is the runner's last step) and
    the report reads and writes under OUT_DIR: nothing of other data lands in the work
    tree.

    README, section Running on your own data: "(the paper too; `make report` writes
    `OUT_DIR/report/`)"."""
    installed = str(scratch.parent / "venv" / ".installed")
    folders = ["DATA_DIR=/secure/study", "OUT_DIR=/secure/out"]
    runner = ' -m psu_study.runner --data-dir "/secure/study" --out-dir "/secure/out"'
    for target in ("paper", "report"):
        result = make(scratch, "-n", "-o", installed, target, *folders)
        assert result.returncode == 0 and runner in result.stdout, result.stdout
    report = result.stdout.splitlines()[-1]
    # The same two options, spelt as the runner's, name the run whose outputs are reported.
    assert report.endswith(' -m psu_study.report --data-dir "/secure/study" '
                           '--out-dir "/secure/out"'), report


def _made_by_make(expression: str) -> str:
    """``expression`` as the repository's Makefile expands it in a recipe (so an exported
    variable is seen as every command make starts sees it), from an empty environment."""
    result = subprocess.run(["make", "--no-print-directory", "-s", "-C", str(REPO), "--eval",
                             f'shown-by-test: ; @echo "{expression}"', "shown-by-test"],
                            env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_makefile_exports_the_packages_deterministic_environment():
    """The Makefile's export mirrors ``environment.DETERMINISTIC_ENV``: one value, two
    spellings (make cannot import it), held equal here."""
    from psu_study.environment import DETERMINISTIC_ENV

    for name, value in DETERMINISTIC_ENV.items():
        assert _made_by_make(f"$${name}") == value, name


def test_the_makefile_names_the_notebooks_the_runner_runs():
    """The Makefile's notebook glob mirrors ``notebook_files.NOTEBOOK_GLOB``: the same list."""
    from psu_study.notebook_files import notebook_paths

    listed = _made_by_make("$(NOTEBOOKS)").split()
    assert listed == [p.relative_to(REPO).as_posix() for p in notebook_paths()]
