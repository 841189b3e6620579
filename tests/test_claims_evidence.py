"""A fair ledger: each claim says what its recomputed value rests on (``evidence``, from the
provenance records of the numbers it reads, never typed per claim), article inconsistencies
are graded, a claim computable from numbers.json is computed, and a difference excused as the
synthetic stand-in's is excused only where the evidence is synthetic."""

from __future__ import annotations

import csv
import json
import re

import pandas as pd
import pytest

from psu_study import claims, ledger_entries, provenance
from psu_study.outputs import Outputs
from psu_study.validation import load_study

from .conftest import DATA, REPO
from .test_claims import entry

TABLES = REPO / "tables"


def record(rests_on: str) -> dict:
    return {"rests_on": rests_on, "inputs": {"t.csv": ["c"]}}


def evaluated(raw: dict, numbers: dict, sources: dict) -> dict:
    return claims.evaluate(ledger_entries.parse_ledger([raw]), numbers, sources).iloc[0].to_dict()


# --- evidence from provenance records -------------------------------------------------------

@pytest.mark.parametrize(("raw", "numbers", "rests_on", "evidence"), [
    # A count read from published rows: published.
    (entry(), {"n_contacted": 20}, {"n_contacted": "published"}, "published"),
    # A share of published counts: arithmetic on them, derived.
    (entry(published="50%", check={"kind": "value", "key": "pct_responded"}),
     {"pct_responded": 50.0}, {"pct_responded": "published"}, "derived"),
    # A quantifier: a synthetic count over a published N is synthetic.
    (entry(published="all", tolerance=None, check={"kind": "quantifier", "word": "all",
                                                   "key": "n_code", "n": "n_participants"}),
     {"n_code": 8, "n_participants": 8}, {"n_code": "synthetic", "n_participants": "published"},
     "synthetic"),
    # The study's own records: neither published nor synthetic.
    (entry(), {"n_contacted": 20}, {"n_contacted": "study"}, "study"),
    # A date read from published data is published, not derived.
    (entry(published="2014", tolerance=None,
           check={"kind": "dates_within", "keys": ["first"], "start": "2014-01-01",
                  "end": "2014-12-31"}),
     {"first": "2014-04-20"}, {"first": "published"}, "published"),
    # A sum of published counts (groups apart) is arithmetic.
    (entry(published="apart", tolerance=None, convention=True,
           check={"kind": "disjoint", "keys": ["n_a", "n_b"]}),
     {"n_a": 5, "n_b": 5, "n_participants": 8},
     {"n_a": "published", "n_b": "published", "n_participants": "published"}, "derived"),
    # Nothing recomputed.
    (entry(check=None, tolerance=None, status=claims.CANNOT, reason="no column"), {}, {},
     "none"),
])
def test_evidence_follows_the_provenance_of_the_numbers_read(raw, numbers, rests_on, evidence):
    sources = {key: record(kind) for key, kind in rests_on.items()}
    assert evaluated(raw, numbers, sources)["evidence"] == evidence


def test_a_number_without_a_provenance_record_is_an_error():
    with pytest.raises(ledger_entries.LedgerError,
                       match=r"x\.contacted.*n_contacted.*no provenance record"):
        evaluated(entry(), {"n_contacted": 20}, {})


def frame(file: str, provenance_value: str, **columns: list) -> pd.DataFrame:
    data = pd.DataFrame({**columns, "provenance": provenance_value})
    data.attrs[provenance.FILE_ATTR] = file
    return data


def test_outputs_record_each_number_with_what_it_rests_on(tmp_path, monkeypatch):
    monkeypatch.delenv("PSU_STUDY_STAGE_DIR", raising=False)  # write in place, as Lab does
    # A row published except column `when` (data/README.md's notation): a count that uses
    # only `stage` is published, one that uses `when` synthetic.
    recruitment = frame("recruitment.csv", "published (synthetic: when)", stage=["a", "b"],
                        when=["2014-01-01", "2014-02-01"])
    out = Outputs(tmp_path / "figures", tmp_path / "tables", "01_x")
    out.numbers({"n_stage": 2}, sources=[provenance.uses(recruitment, "stage")])
    shown = out.numbers({"first_when": "2014-01-01"},
                        sources=[provenance.uses(recruitment, "when")])
    # The last call shows every number recorded so far (what nbval compares).
    assert shown == {"n_stage": 2, "first_when": "2014-01-01"}
    written = json.loads((tmp_path / "tables" / "numbers" / "01_x.meta.json").read_text())
    assert written == {
        "n_stage": {"rests_on": "published", "inputs": {"recruitment.csv": ["stage"]}},
        "first_when": {"rests_on": "synthetic", "inputs": {"recruitment.csv": ["when"]}},
    }
    study = frame("p.csv", "study", gender=["female"])
    out.numbers({"n_female": 1}, sources=[study])
    written = json.loads((tmp_path / "tables" / "numbers" / "01_x.meta.json").read_text())
    assert written["n_female"]["rests_on"] == "study"


def test_a_number_from_nothing_is_refused(tmp_path):
    out = Outputs(tmp_path / "figures", tmp_path / "tables", "01_x")
    with pytest.raises(ValueError, match="computed from nothing"):
        out.numbers({"n_x": 1}, sources=[])
    with pytest.raises(ValueError, match="study's own frames"):
        out.numbers({"n_x": 1}, sources=[pd.DataFrame({"x": [1]})])


def test_a_fragment_without_its_provenance_is_refused(tmp_path):
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    (notebooks / "01_a.ipynb").write_text("{}", encoding="utf-8")
    folder = tmp_path / "tables" / "numbers"
    folder.mkdir(parents=True)
    (folder / "01_a.json").write_text('{"n_x": 3}', encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"01_a\.meta\.json is missing"):
        claims.read_sources(tmp_path / "tables", notebooks)


# --- the repository's ledger, against the data's provenance ------------------------------------

@pytest.fixture(scope="module")
def table() -> list[dict]:
    with open(TABLES / "claims.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_claims_table_has_evidence_and_grade(table):
    assert {"evidence", "grade"} <= set(table[0])
    by_id = {r["id"]: r for r in table}
    # From the article and data/README.md: the 20 contacted are published (Methods >
    # Participants and recruitment), the 50% response rate is 10/20, arithmetic on them; the
    # quantifiers count the repository's synthetic coding; the member check is not in the data.
    assert by_id["recruitment.contacted"]["evidence"] == "published"
    assert by_id["recruitment.response_rate"]["evidence"] == "derived"
    assert by_id["q.t1.never_need"]["evidence"] == "synthetic"
    assert by_id["interviews.duration_mean"]["evidence"] == "synthetic"
    assert by_id["analysis.member_check"]["evidence"] == "none"
    for row in table:
        assert row["evidence"] in claims.EVIDENCE, row["id"]
        assert (row["grade"] != "") == (row["status"] == claims.INCONSISTENT), row["id"]
        if row["grade"]:
            assert row["grade"] in ledger_entries.GRADES, row["id"]


STRUCTURE_KEYS = {"n_themes", "n_subthemes", "n_themes_with_subthemes"}


def test_evidence_agrees_with_the_datas_provenance_columns(table):
    """Every input column of a claim's numbers, read from the data's own ``provenance``
    column: a published or derived claim reads no synthetic column, a synthetic one at least
    one."""
    study = load_study(DATA)
    frames = {f"{name}.csv": data for name, data in study.frames.items()}
    # The themes' structure counts the codebook's theme and sub-theme rows, which data/README.md
    # gives as published but for their definitions; its code rows are synthetic.
    codebook = study.codebook
    structure = {"codebook.csv": codebook[codebook["level"].isin(["theme", "subtheme"])]}
    sources = claims.read_sources(TABLES)
    ledger = {c.id: c for c in claims.read_ledger()}
    for row in table:
        keys = list(claims.keys_read(ledger[row["id"]]))
        assert set(keys) <= set(sources), (row["id"], set(keys) - set(sources))
        assert keys or row["evidence"] == "none", row["id"]
        synthetic = [(file, column) for k in keys
                     for file, columns in sources[k]["inputs"].items() for column in columns
                     if provenance.synthetic_columns(
                         (structure if k in STRUCTURE_KEYS else frames)[file], [column])]
        if row["evidence"] in ("published", "derived"):
            assert synthetic == [], row["id"]
        if row["evidence"] == "synthetic":
            assert synthetic, row["id"]


def test_holds_are_counted_by_evidence():
    report = pd.DataFrame({"status": [claims.HOLDS, claims.HOLDS, claims.HOLDS, claims.CANNOT],
                           "evidence": ["published", "synthetic", "synthetic", "none"]})
    assert claims.holds_by_evidence(report) == {"published": 1, "derived": 0, "synthetic": 2,
                                                "study": 0, "none": 0}


# --- grades ---------------------------------------------------------------------------------

INCONSISTENT = {"status": claims.INCONSISTENT, "reason": "the Results say otherwise"}


@pytest.mark.parametrize(("overrides", "message"), [
    (INCONSISTENT, "'grade' is missing"),
    ({"grade": "tension"}, "'grade' is set"),
    ({**INCONSISTENT, "grade": "mild"}, "'grade' must be one of"),
    ({**INCONSISTENT, "grade": "convention-dependent"}, "exactly when the reading is a"),
    ({**INCONSISTENT, "grade": "tension", "convention": True}, "exactly when the reading is a"),
])
def test_an_inconsistency_must_be_graded_and_graded_honestly(overrides, message):
    with pytest.raises(ledger_entries.LedgerError, match=re.escape(message)):
        ledger_entries.parse_ledger([entry(**overrides)])


def test_the_articles_inconsistencies_are_graded(table):
    grades = {r["id"]: r["grade"] for r in table if r["grade"]}
    # "These are:" and six names against seven themed sections (Results): cannot both hold.
    assert grades["results.theme_list"] == "contradiction"
    # "most" against "all" (Strengths vs Results) clashes only if "most" excludes all.
    assert grades["strengths.only_human"] == "convention-dependent"
    assert set(grades.values()) <= set(ledger_entries.GRADES)
    # Each grade comes with its reason: a contradiction or tension says so and why first; a
    # convention-dependent one names the convention it rests on.
    for row in table:
        if row["grade"] in ("contradiction", "tension"):
            assert row["reason"].startswith(row["grade"].capitalize()), row["id"]
        if row["grade"] == "convention-dependent":
            assert "convention" in row["reason"], row["id"]


# --- computing what can be computed -----------------------------------------------------------

DISJOINT = entry(id="q.apart", published="a group apart", tolerance=None, convention=True,
                 check={"kind": "disjoint", "keys": ["n_a", "n_b"]})


def test_groups_apart_are_checked_by_their_sum():
    sources = {k: record("published") for k in ("n_a", "n_b", "n_participants")}
    over = evaluated(DISJOINT, {"n_a": 4, "n_b": 7, "n_participants": 8}, sources)
    assert (over["status"], over["recomputed"]) == (claims.DIFFERS, "4 + 7 = 11 of 8")
    assert "share at least 3 participants" in over["reason"]
    # Within N the sum does not prove the groups apart: no co-occurrence is computed.
    within = evaluated(DISJOINT, {"n_a": 4, "n_b": 4, "n_participants": 8}, sources)
    assert within["status"] == claims.CANNOT and "co-occurrence" in within["reason"]


def test_a_stand_in_excuses_a_difference_only_on_synthetic_evidence():
    raw = {**DISJOINT, "stand_in": "the generator drew the two codes independently."}
    numbers = {"n_a": 4, "n_b": 7, "n_participants": 8}
    synthetic = {"n_a": record("synthetic"), "n_b": record("synthetic"),
                 "n_participants": record("published")}
    row = evaluated(raw, numbers, synthetic)
    assert row["status"] == claims.STAND_IN_DIFFERS and "Not enforced" in row["reason"]
    assert claims.enforce(pd.DataFrame([row])).startswith("All 0 checkable claims hold")
    # The same on the study's own records differs, and stops the build.
    study = {key: record("study") for key in numbers}
    row = evaluated(raw, numbers, study)
    assert row["status"] == claims.DIFFERS
    with pytest.raises(claims.ClaimsDiffer, match="q.apart"):
        claims.enforce(pd.DataFrame([row]))


def test_a_stand_in_needs_a_computed_check():
    with pytest.raises(ledger_entries.LedgerError, match="'stand_in' needs a computed check"):
        ledger_entries.parse_ledger([entry(check=None, tolerance=None, status=claims.CANNOT,
                                   reason="no column", stand_in="drawn so")])


def test_the_recomputed_value_is_shown_at_the_articles_precision():
    # "65%" (Methods: 65% (259/397) of PSU users) against 259/397 = 65.2393...: shown as 65.
    raw = entry(published="65%", check={"kind": "value", "key": "pct"})
    row = evaluated(raw, {"pct": 65.2393}, {"pct": record("published")})
    assert (row["recomputed"], row["status"]) == ("65", claims.HOLDS)
    assert ledger_entries.at_precision(97.8296, "97.8%") == "97.8"


def test_claims_are_grouped_by_section_in_the_order_first_named():
    # Ledger order: a sub-section's claim first, then the section's own, then another
    # section, then a second claim of the first sub-section.
    raw = [entry(id="a", section="Results > Theme"), entry(id="b", section="Methods"),
           entry(id="c", section="Results"), entry(id="d", section="Results > Theme"),
           entry(id="e", section="Methods > Recruitment"), entry(id="f", section="Methods")]
    ordered = [c.id for c in claims.by_section(ledger_entries.parse_ledger(raw))]
    # Results first (named first), its own claim before its sub-section's, ledger order within.
    assert ordered == ["c", "a", "d", "b", "f", "e"]


def test_the_claims_table_is_grouped_by_section(table):
    sections = [r["section"] for r in table]
    seen: list[str] = []
    for section in sections:
        if not seen or seen[-1] != section:
            assert section not in seen, f"section {section!r} appears in two places"
            seen.append(section)
    # The article's order of its top-level sections (Study setting, Methods, Results,
    # Discussion, Strengths and limitations of the study, Conclusions).
    tops = list(dict.fromkeys(s.split(" > ")[0] for s in sections))
    assert tops == ["Study setting", "Methods", "Results", "Discussion",
                    "Strengths and limitations of the study", "Conclusions"]
