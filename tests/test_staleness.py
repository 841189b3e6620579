"""One ``stale_reason`` for a notebook and the paper (issue 21, "one definition per idea"):
each reason a recorded output must be made again, on a hand-written manifest entry over
files written here, with digests computed here (``hashlib``, no project code)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from psu_study.run_folders import RunFolders
from psu_study.runner.graph import stale_reason
from psu_study.runner.layout import layout

CODE = {"repo/src/psu_study/themes.py": "1" * 64, "repo/requirements.lock": "2" * 64}
"""The code an entry was built with (digests never read from disk: code is the caller's)."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def built(tmp_path: Path) -> tuple[RunFolders, dict]:
    """A run with one data file read and one figure made, and the entry that records them
    (a paper's entry: no cells)."""
    lay = layout(tmp_path / "data", tmp_path / "out")
    lay.data.mkdir(parents=True)
    (lay.data / "sessions.csv").write_bytes(b"id\n1\n")
    lay.figures.mkdir(parents=True)
    (lay.figures / "flow.png").write_bytes(b"a figure")
    entry = {"reads": {"data/sessions.csv": _sha(b"id\n1\n"), "data/optional.csv": "absent"},
             "code": dict(CODE), "outputs": {"figures/flow.png": _sha(b"a figure")}}
    return lay, entry


def test_an_entry_whose_reads_code_and_outputs_hold_is_current(built):
    lay, entry = built
    assert stale_reason(entry, dict(CODE), lay) is None


def test_no_entry_or_a_failed_one_is_stale(built):
    lay, entry = built
    assert stale_reason(None, CODE, lay) == "never built here"
    assert stale_reason({**entry, "failed": "interrupted"}, CODE, lay) \
        == "interrupted last time"


def test_a_read_that_is_gone_or_changed_or_newly_there_is_named(built):
    lay, entry = built
    (lay.data / "optional.csv").write_bytes(b"now there\n")
    assert stale_reason(entry, CODE, lay) == "changed: data/optional.csv"
    (lay.data / "sessions.csv").unlink()
    assert stale_reason(entry, CODE, lay) == "data/sessions.csv is gone"


def test_code_changed_added_or_removed_is_named_file_by_file(built):
    lay, entry = built
    edited = {**CODE, "repo/src/psu_study/themes.py": "3" * 64}
    assert stale_reason(entry, edited, lay) == "changed: repo/src/psu_study/themes.py"
    fewer = {"repo/requirements.lock": "2" * 64}
    assert stale_reason(entry, fewer, lay) == "changed: repo/src/psu_study/themes.py"
    more = {**CODE, "repo/src/psu_study/style.py": "4" * 64}
    assert stale_reason(entry, more, lay) == "changed: repo/src/psu_study/style.py"


def test_an_output_edited_or_deleted_is_named(built):
    lay, entry = built
    figure = lay.figures / "flow.png"
    for change in (lambda: figure.write_bytes(b"edited by hand"), figure.unlink):
        change()
        assert stale_reason(entry, CODE, lay) == "figures/flow.png is missing or was edited"


def test_a_notebooks_cells_are_checked_only_for_a_notebook(built):
    """A notebook's entry also records its cells and parameters (``inputs_sha256``): a
    recorded digest no fingerprint gives makes it stale; the paper passes no cells."""
    lay, entry = built
    notebook = {**entry, "inputs_sha256": "0" * 64}
    assert stale_reason(notebook, CODE, lay, cells="the cells now") \
        == "cells or parameters changed"
    assert stale_reason(notebook, CODE, lay) is None
