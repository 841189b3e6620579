"""No formula in a CSV: a text cell a spreadsheet would run (leading ``=``, ``+``, ``-``,
``@``, tab or carriage return) is written to every CSV table with a leading single quote, as
OWASP advises for CSV injection, while the Markdown and LaTeX copies show it as written.
Numbers stay numbers: a numeric column's ``-0.5``, and a text cell that is only a number,
are not quoted (a spreadsheet reads the number; nothing runs). The paper's side (it shows
every value as written) is held by tests/test_large_study.py, on a build."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from psu_study.environment import STAGE_ENV
from psu_study.outputs import Outputs, spreadsheet_safe

NAMES = ["=1+1 a theme", "@SUM(A1)", "+x", "-x", "\tx", "\rx", "A plain theme", "'=quoted"]
# What a spreadsheet-safe CSV holds for each, by OWASP's rule: a quote before each of the
# first six; the plain name as it is; a name that already starts with quotes before a
# formula gets one more, so one quote can always be taken off again.
IN_CSV = ["'=1+1 a theme", "'@SUM(A1)", "'+x", "'-x", "'\tx", "'\rx", "A plain theme",
          "''=quoted"]


@pytest.fixture(autouse=True)
def write_in_place(monkeypatch):
    monkeypatch.delenv(STAGE_ENV, raising=False)


@pytest.fixture
def written(tmp_path: Path) -> Path:
    table = pd.DataFrame({
        "Theme": NAMES,
        "kappa": [-0.5, 0.25, -1.0, 0.0, 1.0, -0.125, 0.5, 0.75],  # a numeric column
        "recomputed": ["-0.5", "+3", "1e-3", "-", "-2+3", "=A1", "12", ""],  # text cells
    })
    Outputs(tmp_path, tmp_path, "test").table(table, "t", "Caption")
    return tmp_path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_formula_like_text_is_quoted_in_the_csv(written):
    """README, section What it computes: "A text cell that a spreadsheet would run as a formula
    (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written to the CSV with a
    leading `'`, as OWASP advises"."""
    rows = csv_rows(written / "t.csv")
    assert [r["Theme"] for r in rows] == IN_CSV


def test_numbers_stay_numbers(written):
    rows = csv_rows(written / "t.csv")
    # The numeric column as pandas writes floats, minus signs kept.
    assert [r["kappa"] for r in rows] == ["-0.5", "0.25", "-1.0", "0.0", "1.0", "-0.125",
                                          "0.5", "0.75"]
    # Text cells that are only a number are left alone; "-" alone, "-2+3" (a formula in
    # a spreadsheet: it computes 1) and "=A1" are quoted.
    assert [r["recomputed"] for r in rows] == ["-0.5", "+3", "1e-3", "'-", "'-2+3", "'=A1",
                                               "12", ""]


def test_markdown_and_latex_show_the_names_as_written(written):
    """README, section What it computes: "the Markdown, LaTeX, HTML and the paper show it as
    written"."""
    markdown = (written / "t.md").read_text(encoding="utf-8")
    latex = (written / "t.tex").read_text(encoding="utf-8")
    for name in ("=1+1 a theme", "@SUM(A1)", "+x", "| -x "):
        assert name in markdown, name
    assert "'=1+1" not in markdown and "'@SUM" not in markdown
    assert "=1+1 a theme" in latex and "'=1+1" not in latex


def test_a_column_name_is_quoted_too(tmp_path):
    Outputs(tmp_path, tmp_path, "test").table(pd.DataFrame({"=cmd": ["a"]}), "h", "Caption")
    assert (tmp_path / "h.csv").read_text(encoding="utf-8").splitlines()[0] == "'=cmd"


def test_only_text_is_touched():
    assert spreadsheet_safe(-0.5) == -0.5
    assert spreadsheet_safe(None) is None
    assert spreadsheet_safe("x=1") == "x=1"  # a formula only at the start of a cell
    assert spreadsheet_safe(" =1") == " =1"  # not among OWASP's leading characters
