"""Real-data mode and disclosure control, end to end: nothing leaks, nothing is lost."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest

from psu_study import demographics, schema
from psu_study.environment import FOLDER_ENV, STAGE_ENV
from psu_study.paths import REPO_ROOT

from .conftest import (
    DATA,
    REPO,
    REPO_BEFORE,
    SECOND_STUDY_OUT,
    STUDY,
    copy_env,
    repo_outputs,
    tracked_copy,
)

VALID_NHS_NUMBER = "9434765919"  # 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 11 - 299 % 11 = 9


def run(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, timeout=600)


def plant(data: Path, participant: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (same length, so offsets hold) in a transcript and its
    segments, keeping the data valid."""
    assert len(old) == len(new)
    for path in (data / "segments.csv", data / "transcripts" / f"{participant}.txt"):
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One real-data-mode build (the runner and its output folder) on a copy of the data with
    two identifiers planted where different checks must catch them: a valid NHS number in a
    quotation (the writers' scan, in 04_themes) and a name from the analyst's list that
    appears only in a cell's printed output (the executed-notebook scan, in 03_interviews).
    They touch different notebooks, so each test below checks its own failure: its
    message, and its notebook's outputs kept out of place, one build for both."""
    root = tmp_path_factory.mktemp("planted")
    data = root / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("*.md"))
    plant(data, "P8", "incredibly therapeutic", f"therapeutic {VALID_NHS_NUMBER}")
    (data / "disclosure").mkdir()
    (data / "disclosure" / "names.txt").write_text("interview_first_date\n")
    out = root / "out"
    result = run(sys.executable, "-m", "psu_study.runner", "--data-dir", str(data),
                 "--out-dir", str(out))
    return result, out


@pytest.mark.slow  # uses the planted build
def test_planted_nhs_number_in_a_quotation_stops_the_build(planted):
    result, out = planted
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "04_themes" in said
    assert "table table2_quotations" in said and "column 'Quotation'" in said
    assert "an NHS number" in said
    assert VALID_NHS_NUMBER not in said, "the identifier itself is never echoed"
    assert not (out / "tables" / "table2_quotations.csv").exists()


def test_an_allowed_value_passes(data_copy, monkeypatch):
    """An analyst can approve an exact value (here a number that only looks like one)."""
    from psu_study.context import open_study

    monkeypatch.delenv(STAGE_ENV, raising=False)  # write in place, not staged
    plant(data_copy, "P8", "incredibly therapeutic", f"therapeutic {VALID_NHS_NUMBER}")
    (data_copy / "disclosure").mkdir()
    (data_copy / "disclosure" / "allow.txt").write_text(f"{VALID_NHS_NUMBER}  # test value\n")
    _, out = open_study("t", data_copy, data_copy / "f", data_copy / "t", tables=["segments"])
    assert VALID_NHS_NUMBER in out.allow
    frame = pd.DataFrame({"Quotation": [f"x {VALID_NHS_NUMBER}"]})
    out.table(frame, "allowed", "caption")
    assert (data_copy / "t" / "allowed.csv").exists()


def test_small_cells_are_suppressed_on_study_data():
    participants = pd.read_csv(DATA / "participants.csv")
    participants["provenance"] = "study"
    table, rule = demographics.training_table(participants)
    assert rule.startswith("Small-cell rule: counts below 5 suppressed")
    shown = table["Participants"].astype(str)
    assert set(shown) <= {"<5", "[c]"} | {str(n) for n in range(5, 9)}
    assert "<5" in set(shown), "eight participants over several stages leave small cells"


def test_published_data_run_with_the_rule_off_and_say_so():
    participants = pd.read_csv(DATA / "participants.csv")
    table, rule = demographics.training_table(participants)
    assert rule == "Small-cell rule off: published counts"
    assert table["Participants"].sum() == 8


@pytest.mark.slow  # make, then the runner, in subprocesses
def test_out_dir_inside_the_repository_is_refused_by_make(data_copy):
    result = run("make", f"DATA_DIR={data_copy}", f"OUT_DIR={REPO_ROOT / 'out'}")
    assert result.returncode != 0
    assert "inside the repository" in result.stderr
    assert not (REPO_ROOT / "out").exists()


def test_real_data_mode_leaves_the_repository_untouched(second_study_build):
    """The session's real-data-mode build (conftest's ``second_study_build``: the runner with
    --data-dir and --out-dir on another study, every notebook and the paper) wrote all it
    made under its out folder, and nothing in the repository's data, outputs or paper.

    README, section Running on your own data: "writes everything they produce under `OUT_DIR`"."""
    out, _ = second_study_build
    assert (out / "tables" / "numbers.json").exists()
    assert (out / "notebooks" / "01_recruitment.ipynb").exists()
    assert (out / "paper" / "paper.pdf").exists()
    before = json.loads((out.parent / REPO_BEFORE).read_text(encoding="utf-8"))
    assert repo_outputs() == before


def pdf_streams(data: bytes) -> list[bytes]:
    """A PDF's compressed streams, inflated (a path could hide in one)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue  # not deflated (an image's own coding, say): searched as it is
    return inflated


def test_no_output_holds_a_path_of_the_machine(second_study_build):
    """docs/confidential-data.md, "Real-data mode", and docs/security.md, section Security: "no
    output names a server's folders". The session's real-data build wrote into a folder with a
    distinctive name, from data inside the repository (tests/fixtures/second_study): no executed
    notebook, table, sidecar, the manifest or the paper (its bytes and its inflated streams)
    holds that name, the output folder's absolute path, the data folder's or the repository's.
    The folders are named by role (``<data_dir>``, ``<out_dir>/tables``) or relative to the
    repository (issue 19, requirement 6).

    README, section Running on your own data: "Executed notebooks, the manifest, sidecars and
    the paper name folders by role (`<data_dir>`, `<out_dir>/tables`) or relative to the
    repository, never by a path of your machine"."""
    out, _ = second_study_build
    assert SECOND_STUDY_OUT in str(out)
    machine = [SECOND_STUDY_OUT, str(out), str(out.resolve()), str(STUDY), str(REPO),
               str(out.parent)]
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".ipynb", ".json", ".csv", ".md", ".tex", ".png",
                                         ".pdf"}
    found = []
    for path in files:
        data = path.read_bytes()
        searched = [data, *pdf_streams(data)] if path.suffix == ".pdf" else [data]
        found += [f"{path.relative_to(out)}: {text}" for text in machine
                  if any(text.encode() in blob for blob in searched)]
    assert found == []
    manifest = json.loads((out / "tables" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"]["02_participants"]["parameters"] == {
        "data_dir": "<data_dir>", "figures_dir": "<out_dir>/figures",
        "tables_dir": "<out_dir>/tables"}


def test_only_contract_files_are_tracked_under_data():
    """Confidential files dropped into data/ are never committed: data/private/ is ignored,
    and anything else tracked under data/ must be a file of the data contract."""
    tracked = run("git", "ls-files", "data").stdout.split()
    allowed = {f"data/{t.file}" for t in schema.TABLES.values()} | {"data/README.md"}
    strays = [f for f in tracked if f not in allowed
              and not (f.startswith("data/transcripts/") and f.endswith(".txt"))]
    assert strays == []
    ignored = run("git", "check-ignore", "-q", "data/private/interviews_real.csv")
    assert ignored.returncode == 0, "data/private/ must be git-ignored"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_out_folder_is_ignored():
    """A run's outputs written to the repository's own out/ are never committed: out/ is
    git-ignored."""
    assert run("git", "check-ignore", "-q", "out/figures/x.png").returncode == 0


@pytest.mark.slow  # uses the planted build
def test_identifier_printed_by_a_cell_stops_the_build(planted):
    """The runner scans every executed notebook's outputs too, not only the files the
    writers produce: here a 'name' from the analyst's list appears only in printed output
    (the numbers a cell displays), so only that scan can catch it."""
    result, out = planted
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "notebooks/03_interviews.ipynb, cell" in said and "a personal name" in said
    assert not (out / "notebooks" / "03_interviews.ipynb").exists()
    assert (out / "notebooks" / "01_recruitment.ipynb").exists(), "other notebooks still built"


# --- Every route into a notebook refuses to write other data's outputs into the work tree ---
# (issue 19, requirement 2). Each run below happens in a git clone-like copy of the project
# (its own package on PYTHONPATH, no nbval stage folder: notebooks write in place, as a user's
# run does), so ``git status`` there shows anything written, and a failure never touches this
# work tree. That output folders outside the repository work is shown by the papermill build
# of tests/test_second_study.py (-p data_dir, figures_dir, tables_dir) and by nbval with the
# three variables in tests/test_nbval_catches_changes.py.

REFUSED = "would write its outputs inside the repository"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The tracked files, committed in a fresh git repository."""
    repo = tracked_copy(tmp_path_factory.mktemp("project"))
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm",
                     "copy"]):
        subprocess.run(["git", *command], cwd=repo, check=True, capture_output=True)
    return repo


@pytest.fixture
def secure_study(tmp_path) -> Path:
    """Another study's data, as /secure/study would be: a copy of the second study."""
    return Path(shutil.copytree(STUDY, tmp_path / "secure" / "study"))


def git_status(repo: Path) -> str:
    return run("git", "status", "--porcelain", "--untracked-files=all", cwd=repo).stdout


def papermill(repo: Path, out: Path, *parameters: str,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papermill", "--no-progress-bar", "notebooks/02_participants.ipynb",
         str(out), *parameters], capture_output=True, text=True, cwd=repo, timeout=300,
        env={**copy_env(repo), **env})


@pytest.mark.slow
def test_plain_papermill_on_other_data_is_refused_with_the_work_tree_clean(project,
                                                                           secure_study,
                                                                           tmp_path):
    """The issue's case: `papermill notebooks/02_participants.ipynb out.ipynb -p data_dir
    /secure/study` once rewrote tables/table1_training_roles.*.

    README, section Running on your own data: "under make, papermill, nbval and JupyterLab
    alike"."""
    result = papermill(project, tmp_path / "out.ipynb", "-p", "data_dir", str(secure_study))
    assert result.returncode != 0
    assert "OutputDirError" in result.stderr and REFUSED in result.stderr, result.stderr[-2000:]
    assert "PSU_STUDY_FIGURES_DIR and PSU_STUDY_TABLES_DIR" in result.stderr
    assert git_status(project) == ""


@pytest.mark.slow
def test_other_data_named_by_the_environment_is_refused_with_the_work_tree_clean(
        project, secure_study, tmp_path):
    """README, section Running on your own data: "papermill alone keeps the `-p` values it is given
    in the notebook it writes, so prefer the environment variables there": with them, no path of
    the machine is in the notebook papermill writes (here the refused one it still writes)."""
    result = papermill(project, tmp_path / "out.ipynb",
                       **{FOLDER_ENV["data_dir"]: str(secure_study)})
    assert result.returncode != 0
    assert REFUSED in result.stderr and "(PSU_STUDY_DATA_DIR)" in result.stderr
    assert git_status(project) == ""
    executed = (tmp_path / "out.ipynb").read_text(encoding="utf-8")
    assert REFUSED in executed and str(secure_study.parent) not in executed


@pytest.mark.slow
def test_nbval_on_other_data_is_refused(project, secure_study):
    env = {**copy_env(project), FOLDER_ENV["data_dir"]: str(secure_study)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "notebooks/02_participants.ipynb"], capture_output=True, text=True, cwd=project,
        env=env, timeout=300)
    assert result.returncode != 0
    assert "OutputDirError" in result.stdout and REFUSED in result.stdout, result.stdout[-2000:]
    assert git_status(project) == ""
