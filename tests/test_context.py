"""A notebook's first step: the writer it gets scans with the study's own names list, and
Table 2's footnote says what the dagger means only when a quotation carries one."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from psu_study import themes
from psu_study.context import open_outputs
from psu_study.disclosure import DisclosureError
from psu_study.paths import DataDirError

from .conftest import REPO


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


def test_the_dagger_note_appears_only_with_a_dagger():
    named = pd.DataFrame({"Participant": ["PPT 1", "PPT 2"]})
    unnamed = pd.DataFrame({"Participant": ["PPT 1", "PPT 2\u2020"]})
    assert themes.quotation_note(named) == ""
    assert themes.quotation_note(unnamed).startswith("\u2020 The article names no participant")
