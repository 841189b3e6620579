"""Figures laid out for any study, not only this one: names a sentence long, 60
participants, 30 themes and sub-themes, 4 coders. Each figure passes the print check
(figure_check) on such data, growing or splitting into panels as a journal sets a figure; the
check still fails on the layouts that broke before (one row of 60 participants' labels, names
wrapped into a tower of lines) and on a figure taller than a page.

The frames are built here by hand; counts are in the comments."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import ListedColormap

from psu_study import agreement, figure_check, interviews, style, themes

LONG = ("Never thinking it could happen to them and what the trainees who took part said "
        "about it in their interviews, in their words.")
assert len(LONG) == 125


def codebook(n_themes: int, long: bool) -> pd.DataFrame:
    """``n_themes`` themes T1.., each with sub-themes T<j>a and T<j>b: 3 n rows."""
    rows = []
    for j in range(1, n_themes + 1):
        name = f"{j} {LONG}"[:125] if long else f"Theme {j}"
        rows.append((f"T{j}", None, "theme", name, j))
        rows += [(f"T{j}{p}", f"T{j}", "subtheme", f"Sub-theme {j}{p}", k)
                 for k, p in enumerate("ab", start=1)]
    return pd.DataFrame(rows, columns=["code_id", "parent_id", "level", "name", "order"])


def presence(n_participants: int, n_themes: int) -> pd.DataFrame:
    """P<k> coded for theme j when j divides k."""
    return pd.DataFrame([[int(k % j == 0) for j in range(1, n_themes + 1)]
                         for k in range(1, n_participants + 1)],
                        index=[f"P{k}" for k in range(1, n_participants + 1)],
                        columns=[f"T{j}" for j in range(1, n_themes + 1)])


# --- names: wrapped while they fit, else numbered with a key ------------------------------

def test_short_names_are_their_own_labels():
    labels, key = themes.figure_labels(["Breaking the cycle", "Role of PSU in the recovery"])
    assert labels == ["Breaking the cycle", "Role of PSU in the recovery"] and key == []


def test_names_of_a_sentence_are_numbered_with_a_key():
    """README, section Running on your own data: "a theme named in a sentence is numbered, with
    a key under the figure"."""
    # 125 characters wrap at 34 into four lines (more than KEY_LINES, 3): numbered by place.
    assert textwrap.fill(LONG, themes.WRAP_CHARS).count("\n") + 1 == 4
    labels, key = themes.figure_labels([LONG, "Short", "All themes (pooled)"])
    assert labels == ["1", "Short", "All themes (pooled)"]
    assert len(key) == 1 and " ".join(key[0].split()) == f"1 {LONG}"


# --- the heatmap: 60 participants, names of a sentence ------------------------------------

def test_a_heatmap_of_60_participants_and_long_names_passes_the_check():
    codes = codebook(10, long=True)
    fig = themes.plot_heatmap(presence(60, 10), codes)
    assert figure_check.problems(fig) == []
    # Labelled upright and split into panels one under the other, every participant
    # labelled once.
    assert len(fig.axes) > 1
    ticks = [t for ax in fig.axes for t in ax.get_xticklabels()]
    assert [t.get_text() for t in ticks] == [f"P{k}" for k in range(1, 61)]
    assert {t.get_rotation() for t in ticks} == {90}
    # The rows are numbered 1-10 in every panel; the key spells each name out.
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [str(j) for j in
                                                                      range(1, 11)]
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(key) == 10 and " ".join(key[9].split()).startswith("10 10 Never thinking")


def test_the_check_still_refuses_the_layout_that_broke():
    # The old heatmap: 60 participants' labels in one row at full width, names wrapped in 4
    # lines each. Its labels overlap, and the check says so.
    fig = style.figure(style.DOUBLE_COLUMN_IN, 1.1 + 0.13 * 40)
    ax = fig.subplots()
    ax.pcolormesh(presence(60, 10).T.to_numpy(), cmap=ListedColormap(["#EEEEEE", "#0072B2"]))
    ax.set_xticks(np.arange(60) + 0.5, [f"P{k}" for k in range(1, 61)])
    ax.set_yticks(np.arange(10) + 0.5, [textwrap.fill(LONG, themes.WRAP_CHARS)] * 10)
    found = figure_check.problems(fig)
    assert any("x tick label 'P1' overlaps x tick label 'P2'" in p for p in found), found


def test_a_figure_taller_than_a_page_is_refused():
    """README, section Running on your own data: "the figure growing to at most a page's
    height"."""
    fig = style.figure(style.SINGLE_COLUMN_IN, 1.0 + 0.16 * 60)  # 10.6 in, 269 mm
    fig.subplots().plot([0, 1], [0, 1])
    with pytest.raises(figure_check.FigureCheckError, match="269 mm tall, more than a page"):
        figure_check.check(fig, "tower")


# --- the thematic map: 30 themes and sub-themes, long names --------------------------------

def test_a_thematic_map_of_30_themes_and_sub_themes_passes_the_check():
    codes = codebook(10, long=True)
    counts = codes.assign(n_participants=range(len(codes)))
    fig = themes.plot_thematic_map(codes, counts)
    assert figure_check.problems(fig) == []
    # Ten themes, at most seven a row: two rows of five, every box's text drawn, and an
    # arrow (an annotation without text) between neighbours in a row, 4 a row.
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len([t for t in texts if t]) == 30 and texts.count("") == 8
    assert fig.get_figheight() * style.MM_PER_IN <= style.MAX_HEIGHT_MM


# --- agreement: 4 coders, names of a sentence -----------------------------------------------

def test_agreement_of_four_coders_and_long_names_passes_the_check():
    # Four coders who all share transcripts: 6 pairs, one unit, so two rows of three panels.
    codes = codebook(10, long=True)
    rows = []
    coders = ["C1", "C2", "C3", "C4"]
    for i, a in enumerate(coders):
        for b in coders[i + 1:]:
            for j, name in enumerate([*codes.loc[codes.level == "theme", "name"],
                                      "All themes (pooled)"]):
                rows.append({"unit": "participant", "coders": f"{a} vs {b}",
                             "theme_id": f"T{j + 1}" if j < 10 else agreement.POOLED_ID,
                             "theme": name, "kappa": 0.5, "kappa_ci_low": 0.1,
                             "kappa_ci_high": 0.9, "alpha": 0.4, "alpha_ci_low": 0.0,
                             "alpha_ci_high": 0.8, "n_units": 200, "n_transcripts": 20,
                             "n_distinct_resamples": 1000, "pooled_driven_by": ""})
    fig = agreement.plot_agreement(pd.DataFrame(rows))
    assert figure_check.problems(fig) == []
    assert len([ax for ax in fig.axes if ax.axison]) == 6
    assert fig.get_figheight() * style.MM_PER_IN <= style.MAX_HEIGHT_MM


# --- interviews: 60 rows split side by side -------------------------------------------------

@pytest.mark.parametrize("plot", [interviews.plot_durations, interviews.plot_timeline])
def test_sixty_interviews_are_split_into_two_panels_of_thirty(plot):
    """README, section Running on your own data: "participants, coders' pairs, themes or
    interviews too many for one panel are set in several"."""
    # 60 rows of 0.16 in plus 1.0 in would be 10.6 in; a page holds 8.86 in less 0.6 for a
    # footnote, (8.86 - 0.6 - 1.0) // 0.16 = 45 rows a panel: two panels, of 30 each.
    frame = pd.DataFrame({
        "participant_id": [f"P{k}" for k in range(1, 61)],
        "interview_date": pd.date_range("2022-02-01", periods=60, freq="D"),
        "duration_min": [30 + k for k in range(1, 61)], "mode": "telephone"})
    fig = plot(frame)
    assert figure_check.problems(fig) == []
    assert [len(ax.get_yticklabels()) for ax in fig.axes] == [30, 30]
    assert fig.get_figwidth() == pytest.approx(style.DOUBLE_COLUMN_IN)


def test_a_key_of_long_names_and_a_footnote_share_the_figure_without_overlap():
    """Issue 19, requirement 8: the matrix heatmap of the large study stopped the build (its
    names ran into each other, then its key into the small-cell footnote). Ten themes named
    in sentences and twenty short sub-themes by five training stages, under a two-line
    footnote: the long names are numbered with a key, and the key, the footnote and the
    grid do not meet."""
    from psu_study import matrix
    from psu_study.outputs import add_footnote

    long = [(f"T{i}", f"Theme {i} named in a whole sentence, as qualitative studies often "
             f"name them, and longer than any line of a figure can hold") for i in range(10)]
    short = [(f"S{i}", f"How it showed itself, in part {i}") for i in range(20)]
    table = pd.DataFrame(long + short, columns=["code_id", "name"])
    for stage in ("FY1", "FY2", "CT1", "ST3", "ST5"):
        table[stage] = 3
    fig = matrix.plot_by_attribute(table, "training_stage")
    add_footnote(fig, "Small-cell rule: counts below 5 suppressed (shown <5); [c] marks a "
                 "count withheld so that it cannot be worked out from the row's total. "
                 "Synthetic data: training stage is synthetic. See data/README.md.")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:10] == [str(i) for i in range(1, 11)]  # numbered, with a key
    assert labels[10] == "How it showed itself, in part 0"
    assert figure_check.problems(fig) == []
