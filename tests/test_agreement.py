"""Inter-coder agreement: textbook values worked by hand, the degenerate cases, the bootstrap's
closed forms against statsmodels and krippendorff, and the repository's data."""

from __future__ import annotations

import math
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa

from psu_study import agreement
from psu_study.validation import load_study

REPO = Path(__file__).resolve().parents[1]
PAIR = ("EW", "FF")  # the repository's coders (data/coders.csv), also used in the hand cases

CODEBOOK = pd.DataFrame(
    [("T1", None, "theme", "First theme", 1), ("S1.1", "T1", "subtheme", "A sub-theme", 1),
     ("C1.1.1", "S1.1", "code", "A code", 1), ("T2", None, "theme", "Second theme", 2),
     ("C2.1", "T2", "code", "Another code", 1), ("T3", None, "theme", "Never coded", 3)],
    columns=["code_id", "parent_id", "level", "name", "order"],
)


def segments(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["participant_id", "coder", "code_id", "start", "end"])


def row(table: pd.DataFrame, theme_id: str) -> pd.Series:
    return table.set_index("theme_id").loc[theme_id]


def test_character_unit_reproduces_a_2x2_table_worked_by_hand():
    # 50 characters. EW covers 0-25 (twice, overlapping: a character counts once), FF 5-35:
    # both 20, EW only 5, FF only 10, neither 15. By hand: p_o = 35/50 = .7;
    # p_e = .5 * .6 + .5 * .4 = .5; kappa = (.7 - .5) / (1 - .5) = .4.
    # Alpha: n = 100 values, 15 disagreeing units, 45 zeros and 55 ones:
    # 1 - 99 * 15 / (45 * 55) = 1 - 1485 / 2475 = .4.
    seg = segments([("P1", "EW", "C1.1.1", 0, 25), ("P1", "EW", "S1.1", 10, 20),
                    ("P1", "FF", "C1.1.1", 5, 35)])
    table = agreement.agreement_table(seg, CODEBOOK, {"P1": "x" * 50}, unit="character",
                                      coders=PAIR, n_boot=50)
    t1 = row(table, "T1")
    assert t1["n_units"] == 50
    assert t1["percent_agreement"] == pytest.approx(70)
    assert t1["kappa"] == pytest.approx(0.4)
    assert t1["alpha"] == pytest.approx(0.4)


def test_krippendorffs_published_binary_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section A: two
    # observers, ten units, binary values; alpha = 0.095. Kappa by hand: p_o = 6/10,
    # p_e = .2 * .4 + .8 * .6 = .56, kappa = .04 / .44 = 1/11.
    ew = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    ff = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    rows = []
    for i, (a, b) in enumerate(zip(ew, ff, strict=True), start=1):
        rows += [(f"P{i}", "EW", "C2.1", 0, 1), (f"P{i}", "FF", "C2.1", 0, 1)]
        rows += [(f"P{i}", "EW", "C1.1.1", 0, 1)] * a + [(f"P{i}", "FF", "C1.1.1", 0, 1)] * b
    table = agreement.agreement_table(segments(rows), CODEBOOK, None, coders=PAIR, n_boot=200)
    t1 = row(table, "T1")
    assert t1["n_units"] == 10
    assert t1["percent_agreement"] == pytest.approx(60)
    assert round(t1["alpha"], 3) == 0.095
    assert t1["kappa"] == pytest.approx(1 / 11)
    # Pooled: T1's table plus T2 (both coded all ten) plus T3 (neither coded any).
    pooled = row(table, agreement.POOLED_ID)
    assert pooled["n_units"] == 30
    assert pooled["percent_agreement"] == pytest.approx(100 * 26 / 30)


def test_degenerate_cases_are_explicit():
    rows = [("P1", "EW", "C1.1.1", 0, 1), ("P1", "FF", "C1.1.1", 0, 1),
            ("P2", "EW", "C1.1.1", 0, 1), ("P2", "FF", "C2.1", 0, 1),
            ("P3", "EW", "C2.1", 0, 1), ("P3", "FF", "C2.1", 0, 1),
            ("P1", "EW", "C2.1", 0, 1), ("P2", "EW", "C2.1", 0, 1)]
    table = agreement.agreement_table(segments(rows), CODEBOOK, None, coders=PAIR, n_boot=100)
    never = row(table, "T3")  # nobody coded it
    assert never["percent_agreement"] == 100
    assert math.isnan(never["kappa"]) and math.isnan(never["alpha"])
    assert "neither coder" in never["note"]
    assert math.isnan(never["kappa_ci_low"]) and math.isnan(never["alpha_ci_high"])
    # T1: EW on P1, P2 (and not P3); FF on P1 only. T2: EW on all three, FF on P2, P3.
    everything = row(table, "T2")
    assert everything["kappa"] == 0
    assert "EW coded every unit" in everything["note"]
    assert everything["percent_agreement"] == pytest.approx(200 / 3)


def test_perfect_agreement_gives_one():
    rows = [("P1", "EW", "C1.1.1", 0, 1), ("P1", "FF", "C1.1.1", 0, 1),
            ("P2", "EW", "C2.1", 0, 1), ("P2", "FF", "C2.1", 0, 1)]
    table = agreement.agreement_table(segments(rows), CODEBOOK, None, coders=PAIR, n_boot=100)
    t1 = row(table, "T1")
    assert t1["kappa"] == 1 and t1["alpha"] == 1 and t1["percent_agreement"] == 100
    assert t1["note"].startswith("perfect agreement")


@settings(deadline=None)  # examples: the profile's (tests/conftest.py)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=2, max_size=60))
def test_closed_forms_equal_the_reference_implementations(pairs):
    """README, section What it computes: "percent agreement, Cohen's kappa, Krippendorff's alpha,
    bootstrap CIs"."""
    ratings = np.array(pairs).T
    if len(np.unique(ratings)) < 2:
        assert math.isnan(agreement.kappa_from_cells(np.bincount(2 * ratings[0] + ratings[1],
                                                                 minlength=4)))
        return
    cells = np.bincount(2 * ratings[0] + ratings[1], minlength=4)
    table = np.array([[cells[0], cells[1]], [cells[2], cells[3]]])
    assert agreement.kappa_from_cells(cells) == pytest.approx(
        cohens_kappa(table, return_results=False), abs=1e-12)
    assert agreement.alpha_from_cells(cells) == pytest.approx(
        krippendorff.alpha(reliability_data=ratings, level_of_measurement="nominal"), abs=1e-12)


@pytest.fixture(scope="module")
def study():
    return load_study(REPO / "data", tables=["segments"])


def test_repository_data_both_units(study):
    tables = {unit: agreement.agreement_table(study.segments, study.codebook, study.transcripts,
                                              coders=PAIR, unit=unit) for unit in agreement.UNITS}
    n_themes = int((study.codebook["level"] == "theme").sum())
    for unit, table in tables.items():
        assert list(table["theme_id"]) == [
            *study.codebook.loc[study.codebook["level"] == "theme", "code_id"],
            agreement.POOLED_ID]
        # "FF independently coded half the data": four of the eight transcripts.
        assert (table["n_transcripts"] == 4).all()
        defined = table.dropna(subset=["kappa"])
        assert ((defined["kappa"] >= -1) & (defined["kappa"] <= 1)).all(), unit
        assert (defined["kappa_ci_low"] <= defined["kappa_ci_high"]).all()
        pooled = row(table, agreement.POOLED_ID)
        assert pooled["n_units"] == n_themes * table["n_units"].iloc[0]
    characters = sum(len(study.transcripts[p]) for p in
                     set(study.segments.loc[study.segments["coder"] == "FF", "participant_id"]))
    assert (tables["character"]["n_units"].iloc[:-1] == characters).all()


def test_bootstrap_is_seeded(study):
    args = (study.segments, study.codebook, study.transcripts)
    first = agreement.agreement_table(*args, unit="character", coders=PAIR, n_boot=300, seed=7)
    again = agreement.agreement_table(*args, unit="character", coders=PAIR, n_boot=300, seed=7)
    other = agreement.agreement_table(*args, unit="character", coders=PAIR, n_boot=300, seed=8)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["kappa_ci_low"], other["kappa_ci_low"])
    pd.testing.assert_series_equal(first["kappa"], other["kappa"])


@pytest.mark.parametrize("kwargs, message", [
    ({"unit": "sentence"}, "unit must be one of"),
    ({"unit": "character", "transcripts": None}, "needs the transcripts"),
    ({"coders": ("EW", "XX")}, "no transcript was coded by both"),
])
def test_refuses_what_it_cannot_compute(study, kwargs, message):
    call = {"transcripts": study.transcripts, **kwargs}
    with pytest.raises(ValueError, match=message):
        agreement.agreement_table(study.segments, study.codebook, n_boot=10,
                                  **{"coders": PAIR, **call})


def test_plot_draws_one_panel_per_unit_and_labels_undefined_values():
    rows = [("P1", "EW", "C1.1.1", 0, 1), ("P1", "FF", "C1.1.1", 0, 1),
            ("P2", "EW", "C2.1", 0, 1), ("P2", "FF", "C2.1", 0, 1)]
    seg = segments(rows)
    table = pd.concat([
        agreement.agreement_table(seg, CODEBOOK, {"P1": "ab", "P2": "cd"}, unit=unit,
                                  coders=PAIR, n_boot=20)
        for unit in agreement.UNITS])
    fig = agreement.plot_agreement(table)
    # Every table names its pair of coders, so each panel's title does too.
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == [
        "Unit: participant, EW vs FF", "Unit: character, EW vs FF"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("undefined (no variation)") == 1  # T3, which nobody coded
