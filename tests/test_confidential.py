"""Real-data mode and disclosure control, end to end: nothing leaks, nothing is lost."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from psu_study import demographics, schema
from psu_study.paths import REPO_ROOT

from .conftest import DATA, REPO_BEFORE, repo_outputs

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

    monkeypatch.delenv("PSU_STUDY_STAGE_DIR", raising=False)  # write in place, not staged
    plant(data_copy, "P8", "incredibly therapeutic", f"therapeutic {VALID_NHS_NUMBER}")
    (data_copy / "disclosure").mkdir()
    (data_copy / "disclosure" / "allow.txt").write_text(f"{VALID_NHS_NUMBER}  # test value\n")
    study, out, _ = open_study("t", data_copy, data_copy / "f", data_copy / "t",
                               tables=["segments"])
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
    made under its out folder, and nothing in the repository's data, outputs or paper."""
    out, _ = second_study_build
    assert (out / "tables" / "numbers.json").exists()
    assert (out / "notebooks" / "01_recruitment.ipynb").exists()
    assert (out / "paper" / "paper.pdf").exists()
    before = json.loads((out.parent / REPO_BEFORE).read_text(encoding="utf-8"))
    assert repo_outputs() == before


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
