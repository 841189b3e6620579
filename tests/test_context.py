"""A notebook's first step: the writer it gets scans with the study's own names list, and
Table 2's footnote says what the dagger means only when a quotation carries one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from psu_study import themes
from psu_study.context import open_outputs, open_study
from psu_study.data_folder import DataDirError
from psu_study.disclosure import DisclosureError
from psu_study.environment import FOLDER_ENV
from psu_study.run_folders import OutputDirError

from .conftest import REPO, STUDY


def test_a_numbers_only_notebook_still_checks_the_names_list(tmp_path):
    # 06_claims reads no data file, but a claim's text could echo a name from the data.
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    (data / "disclosure").mkdir()
    (data / "disclosure" / "names.txt").write_text("Ophelia\n", encoding="utf-8")
    out, dirs = open_outputs("06_claims", data, tmp_path / "figures", tmp_path / "tables")
    assert dirs.data == data.resolve()
    with pytest.raises(DisclosureError):
        out.table(pd.DataFrame({"claim": ["Ophelia said so"]}), "claims", "Claims")
    assert not (tmp_path / "tables" / "claims.csv").exists()


def test_a_numbers_only_notebook_refuses_a_missing_data_folder(tmp_path):
    with pytest.raises(DataDirError, match="nowhere"):
        open_outputs("06_claims", tmp_path / "nowhere", tmp_path / "f", tmp_path / "t")


def test_outside_the_runner_the_numbers_reader_merges_numbers_json_first(tmp_path,
                                                                         monkeypatch):
    # README, section Running on your own data: "Notebook 06 merges the others' numbers itself".
    # A fragment of a notebook the repository has, and one of a notebook it no longer has.
    monkeypatch.delenv("PSU_STUDY_STAGE_DIR", raising=False)  # as papermill runs it
    data = Path(shutil.copytree(REPO / "data", tmp_path / "data"))
    tables = tmp_path / "tables"
    (tables / "numbers").mkdir(parents=True)
    (tables / "numbers" / "01_recruitment.json").write_text('{"n_x": 3}', encoding="utf-8")
    (tables / "numbers" / "99_gone.json").write_text('{"n_z": 1}', encoding="utf-8")
    open_outputs("06_claims", data, tmp_path / "figures", tables)
    assert json.loads((tables / "numbers.json").read_text(encoding="utf-8")) == {"n_x": 3}
    assert r"\newcommand{\nX}{3}" in (tables / "numbers.tex").read_text(encoding="utf-8")


def test_under_the_runner_the_numbers_reader_leaves_numbers_json_to_it(tmp_path, monkeypatch):
    (tmp_path / "stage").mkdir()
    monkeypatch.setenv("PSU_STUDY_STAGE_DIR", str(tmp_path / "stage"))
    data = Path(shutil.copytree(REPO / "data", tmp_path / "data"))
    tables = tmp_path / "tables"
    (tables / "numbers").mkdir(parents=True)
    (tables / "numbers" / "01_recruitment.json").write_text('{"n_x": 3}', encoding="utf-8")
    open_outputs("06_claims", data, tmp_path / "figures", tables)
    assert not (tables / "numbers.json").exists()


def test_the_dagger_note_appears_only_with_a_dagger():
    named = pd.DataFrame({"Participant": ["PPT 1", "PPT 2"]})
    unnamed = pd.DataFrame({"Participant": ["PPT 1", "PPT 2\u2020"]})
    assert themes.quotation_note(named) == ""
    assert themes.quotation_note(unnamed).startswith("\u2020 The article names no participant")


# --- Study data never writes into the work tree (issue 19, requirement 2) ------------------
# The rule sits in the first step of every notebook, so the runner, papermill, nbval and
# JupyterLab all meet it; tests/test_confidential.py shows it under papermill and nbval.


@pytest.fixture
def other_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the hand-written second study (another study's data) and an environment
    with none of the folder variables set."""
    for name in FOLDER_ENV.values():
        monkeypatch.delenv(name, raising=False)
    return Path(shutil.copytree(STUDY, tmp_path / "study"))


def test_other_data_with_the_repositorys_output_folders_is_refused(other_data):
    """docs/confidential-data.md, section Real-data mode: "refuses data other than the repository's
    own `data/` whose figures or tables folder lies inside the repository, before it reads or
    writes anything, with one line saying which parameters"."""
    with pytest.raises(OutputDirError) as refused:
        open_study("02_participants", other_data, None, None, tables=["participants"])
    message = str(refused.value)
    assert "\n" not in message
    assert "figures_dir and tables_dir would write its outputs inside the repository" in message
    assert "PSU_STUDY_FIGURES_DIR and PSU_STUDY_TABLES_DIR" in message
    assert "(parameter data_dir)" in message
    assert str(other_data) not in message, "a server's layout is never shown"
    with pytest.raises(OutputDirError):
        open_outputs("06_claims", other_data, None, None)


def test_the_refusal_names_the_variable_that_chose_the_data(other_data, monkeypatch):
    monkeypatch.setenv(FOLDER_ENV["data_dir"], str(other_data))
    monkeypatch.setenv(FOLDER_ENV["figures_dir"], str(other_data.parent / "figures"))
    with pytest.raises(OutputDirError) as refused:
        open_outputs("06_claims", None, None, None)
    message = str(refused.value)
    assert "(PSU_STUDY_DATA_DIR)" in message
    assert "and tables_dir would write" in message and "figures_dir" not in message


def test_an_output_folder_that_resolves_into_the_repository_is_refused(other_data, tmp_path,
                                                                         monkeypatch):
    """A link from outside to the repository's figures/, or a relative path climbing back
    into it, is inside the repository once resolved (docs/confidential-data.md, section Real-data
    mode: "links and relative paths followed")."""
    (tmp_path / "figures").symlink_to(REPO / "figures", target_is_directory=True)
    with pytest.raises(OutputDirError, match="figures_dir would write"):
        open_outputs("06_claims", other_data, tmp_path / "figures", tmp_path / "tables")
    monkeypatch.chdir(REPO / "notebooks")
    with pytest.raises(OutputDirError, match="tables_dir would write"):
        open_outputs("06_claims", other_data, tmp_path / "f", "../build/elsewhere")


def test_other_data_with_output_folders_outside_is_accepted(other_data, tmp_path):
    _, dirs = open_outputs("06_claims", other_data, tmp_path / "f", tmp_path / "t")
    assert (dirs.figures, dirs.tables) == (tmp_path / "f", tmp_path / "t")


def test_the_repositorys_data_through_a_link_or_a_relative_path_keeps_its_folders(
        tmp_path, monkeypatch):
    """The repository's own data/, however it is named, writes to figures/ and tables/ as
    make does (opening the writer writes nothing)."""
    monkeypatch.delenv(FOLDER_ENV["figures_dir"], raising=False)
    monkeypatch.delenv(FOLDER_ENV["tables_dir"], raising=False)
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)
    monkeypatch.chdir(REPO / "notebooks")
    for named in (tmp_path / "data", "../data", os.path.relpath(REPO / "data")):
        _, dirs = open_outputs("06_claims", named, None, None)
        assert (dirs.figures, dirs.tables) == (REPO / "figures", REPO / "tables")
