"""Issue 21, requirement 3: notebooks that read as analysis. The writer knows what a result
was computed from (no notebook says it again), a notebook opens with one short call, and
what it writes is what it shows: every figure and every table."""

from __future__ import annotations

import ast
import json

import pandas as pd
import pytest

from psu_study import interviews, provenance, recruitment
from psu_study.notebook_files import NOTEBOOK_GLOB
from psu_study.outputs import Outputs, SavedTable
from psu_study.paths import NOTEBOOKS_DIR

from .conftest import REPO

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob(NOTEBOOK_GLOB))
assert NOTEBOOKS, f"no notebook matches {NOTEBOOK_GLOB}: every test here would be skipped"
WRITE_NO_FIGURE = {"06_claims", "07_explore"}  # by hand, from the notebooks' cells
WRITE_NO_TABLE = {"07_explore"}


def study_frame(file: str, provenance_value: str, **columns: list) -> pd.DataFrame:
    """A frame as the loader labels it: a provenance column and its file's name."""
    frame = pd.DataFrame({**columns, "provenance": provenance_value})
    frame.attrs[provenance.FILE_ATTR] = file
    return frame


# Four trainees, by hand: 4 contacted, 2 interested, 1 consented and interviewed.
RECRUITMENT = dict(
    trainee_id=["T1", "T2", "T3", "T4"],
    stage_reached=["contacted", "interested", "interviewed", "contacted"],
    contacted_on=pd.to_datetime(["2014-03-01", "2014-03-02", "2014-03-05", "2014-03-03"]))


@pytest.fixture
def out(tmp_path, monkeypatch) -> Outputs:
    monkeypatch.delenv("PSU_STUDY_STAGE_DIR", raising=False)  # write in place, as Lab does
    return Outputs(tmp_path / "figures", tmp_path / "tables", "nb")


def meta(out: Outputs) -> dict:
    return json.loads((out.tables_dir / "numbers" / "nb.meta.json").read_text())


def test_the_writer_takes_a_numbers_columns_from_the_analysis(out):
    frame = study_frame("recruitment.csv", "published (synthetic: contacted_on)", **RECRUITMENT)
    out.numbers(recruitment.contact_window(frame))
    out.numbers(recruitment.summary(frame))
    record = meta(out)
    # The dates rest on contacted_on alone, which is synthetic; the counts on stage_reached.
    assert record["recruitment_first_contact"] == {
        "inputs": {"recruitment.csv": ["contacted_on"]}, "rests_on": "synthetic"}
    assert record["n_interested"] == {
        "inputs": {"recruitment.csv": ["stage_reached"]}, "rests_on": "published"}
    assert json.loads((out.tables_dir / "numbers" / "nb.json").read_text())["n_interested"] == 2


def test_numbers_from_nothing_known_are_refused(out):
    with pytest.raises(ValueError, match="computed from nothing"):
        out.numbers({"n_things": 3})


def test_a_table_derived_and_rounded_keeps_its_synthetic_footnote(out):
    frame = study_frame("recruitment.csv", "published (synthetic: stage_reached)", **RECRUITMENT)
    shown = out.table(recruitment.rates(recruitment.stage_counts(frame)).round(1), "rates",
                      "Rates")
    assert shown.footnote.startswith("Synthetic data: built from synthetic stand-ins for "
                                     "unpublished values in recruitment.csv (stage_reached).")


def test_a_figure_knows_its_sources(out):
    frame = study_frame("interviews.csv", "published (synthetic: duration_min)",
                        participant_id=["P1", "P2"], mode=["telephone", "telephone"],
                        interview_date=pd.to_datetime(["2014-04-01", "2014-05-01"]),
                        duration_min=[40, 60])
    saved = out.figure(interviews.plot_durations(frame), "durations")
    sidecar = json.loads(saved.files[-1].read_text())
    assert sidecar["synthetic_inputs"] == {"interviews.csv": ["duration_min"]}


def test_results_of_different_sources_combined_carry_none():
    a = study_frame("a.csv", "published", x=[1])
    b = study_frame("b.csv", "published", x=[2])
    marked_a = provenance.with_sources(pd.DataFrame({"n": [1]}), (a, "x"))
    marked_b = provenance.with_sources(pd.DataFrame({"n": [2]}), (b, "x"))
    assert len(provenance.sources_of(pd.concat([marked_a, marked_b]))) == 0
    assert provenance.sources_of(marked_a.rename(columns={"n": "N"}).round(1)) \
        is provenance.sources_of(marked_a)


def test_a_saved_table_shows_what_was_published(out):
    shown = out.table(pd.DataFrame({"Stage": ["Contacted"], "Trainees": [20]}), "stages",
                      "Trainees at each stage", "A note.")
    assert isinstance(shown, SavedTable)
    html = shown._repr_html_()
    for text in ("Trainees at each stage", "<th>Stage</th>", "<th>Trainees</th>", "A note."):
        assert text in html
    assert repr(shown).splitlines() == ["Trainees at each stage", "    Stage  Trainees",
                                        "Contacted        20", "A note."]


# --- the notebooks themselves ----------------------------------------------------------------

def code_cells(path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_says_what_its_outputs_were_computed_from(path):
    calls = [node for cell in code_cells(path) for node in ast.walk(ast.parse(cell))
             if isinstance(node, ast.Call)]
    assert not [ast.unparse(c) for c in calls if any(k.arg == "sources" for k in c.keywords)]
    assert not [ast.unparse(c) for c in calls if ast.unparse(c.func).endswith("uses")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_step_is_one_call_that_throws_nothing_away(path):
    first = ast.parse(code_cells(path)[1])  # the cell after the parameters
    steps = [s for s in first.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    assert len(steps) == 1 and isinstance(steps[0].value, ast.Call), ast.unparse(first)
    names = [n.id for n in ast.walk(steps[0].targets[0]) if isinstance(n, ast.Name)]
    assert "_" not in names and len(names) <= 2, names


def shown_text(path) -> str:
    outputs = [o for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
               for o in c.get("outputs", [])]
    return "\n".join("".join(o.get("data", {}).get("text/plain", o.get("text", "")))
                     for o in outputs)


def written(notebook: str, folder: str, suffix: str) -> list[str]:
    manifest = json.loads((REPO / "tables" / "manifest.json").read_text(encoding="utf-8"))
    return [p for p in manifest["notebooks"][notebook]["outputs"]
            if p.startswith(folder + "/") and p.endswith(suffix) and "/numbers/" not in p]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_written_is_shown(path):
    text = shown_text(path)
    figures = [p.split("/")[-1] for p in written(path.stem, "figures", ".png")]
    assert bool(figures) != (path.stem in WRITE_NO_FIGURE), figures
    assert [f for f in figures if f"<figure {f}," not in text] == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_table_written_is_shown_under_its_caption(path):
    text = shown_text(path)
    captions = [json.loads((REPO / p).read_text(encoding="utf-8"))["caption"]
                for p in written(path.stem, "tables", ".meta.json")]
    assert bool(captions) != (path.stem in WRITE_NO_TABLE), captions
    assert [c for c in captions if c not in text] == []
