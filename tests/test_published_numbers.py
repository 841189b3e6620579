"""Every number the article publishes about the study, recomputed from data/ by the package.

Expected values are typed from the article, never taken from the code's output; each test
names the section the number comes from.
"""

from __future__ import annotations

import pytest

from psu_study import demographics, interviews, recruitment, themes

RECRUITMENT = "Methods > Participants and recruitment"
COLLECTION = "Methods > Data collection and analysis"
RESULTS = "Results"


def test_recruitment_counts(study):
    """README, section What it computes: "20 contacted, 10 interested, 8 consented and
    interviewed"."""
    counts = recruitment.stage_counts(study.recruitment).set_index("stage")["n"].to_dict()
    assert counts == {"contacted": 20, "interested": 10, "consented": 8, "interviewed": 8}, (
        f"{RECRUITMENT}: 20 contacted, N = 10 expressed interest, 8 consented, all interviewed")


def test_recruitment_rates(study):
    """README, section What it computes: "(50% response, 40% interviewed)"."""
    rates = recruitment.rates(recruitment.stage_counts(study.recruitment)).set_index("rate")
    assert rates.loc["responded", "pct"] == 50, f"{RECRUITMENT}: 'the response rate was 50%'"
    assert rates.loc["interviewed", "pct"] == 40, (
        f"{RECRUITMENT}: '40% of contacted individuals were actually interviewed'")


def test_recruitment_within_six_months(study):
    assert recruitment.recruitment_period_days(study.recruitment) <= 184, (
        f"{RECRUITMENT}: 'Within a six month recruitment period'")


def test_all_participants_female_against_base_rate(study):
    """README, section What it computes: "all 8 female, against 65% (259/397) of PSU users"."""
    share = demographics.female_share(study.participants, study.psu_users)
    assert (share["n_participants"], share["n_participants_female"]) == (8, 8), (
        f"{RECRUITMENT}: 'All participants were female'")
    assert (share["n_psu_users_female"], share["n_psu_users"]) == (259, 397), (
        f"{RECRUITMENT}: '65% (259/397) of PSU users overall'")
    assert round(share["pct_psu_users_female"]) == 65, f"{RECRUITMENT}: '65%'"


def test_binomial_tail_by_hand(study):
    """P(8 of 8 female | p = 259/397) is (259/397)**8: computed here by hand, not by scipy."""
    share = demographics.female_share(study.participants, study.psu_users)
    assert share["p_sample_female_at_least_observed"] == pytest.approx((259 / 397) ** 8)


def test_training_stages_within_inclusion_range(study):
    stages = set(study.participants["training_stage"])
    assert stages <= {"FY1", "FY2", "CT1", "CT2", "CT3", *(f"ST{i}" for i in range(1, 9))}, (
        f"{RECRUITMENT}: 'from the first postgraduate year (Foundation) up to the year below "
        "consultant status'")
    assert len(stages) >= 3, f"{RECRUITMENT}: 'at various stages of training'"


def test_interviews(study):
    """README, section What it computes: "telephone, April 2014 to March 2015, 35-100 min, mean
    50"."""
    summary = interviews.duration_summary(study.interviews)
    assert interviews.modes(study.interviews)["n_interviews"] == 8, (
        f"{RECRUITMENT}: '8 participants, who were all subsequently interviewed'")
    assert summary["duration_min_minutes"] == 35, f"{COLLECTION}: 'Interviews lasted 35-100 min'"
    assert summary["duration_max_minutes"] == 100, f"{COLLECTION}: 'Interviews lasted 35-100 min'"
    assert round(summary["duration_mean_minutes"]) == 50, f"{COLLECTION}: '(mean: 50)'"
    assert set(study.interviews["mode"]) == {"telephone"}, (
        f"{COLLECTION}: 'semi-structured telephone interviews'")
    dates = study.interviews["interview_date"]
    assert dates.min().strftime("%Y-%m") >= "2014-04", f"{COLLECTION}: 'between April 2014"
    assert dates.max().strftime("%Y-%m") <= "2015-03", f"{COLLECTION}: '– March 2015'"


def test_seven_themes_three_subthemes(study):
    """README, introduction: "a thematic analysis found seven themes"; section What it computes: "7
    themes, one with 3 sub-themes"."""
    # Methods: "EW coded all data": hers is the coding that covers every transcript.
    coder = themes.prevalence_coder(study.segments, study.participants, study.coders)
    assert coder == "EW"
    table = themes.prevalence(study.segments, study.codebook, study.participants, coder)
    assert (table["level"] == "theme").sum() == 7, f"{RESULTS}: seven themed sections"
    subthemes = table[table["level"] == "subtheme"]
    assert len(subthemes) == 3, f"{RESULTS}: 'Analysis identified three sub-themes'"
    recovery = table.set_index("code_id").loc[subthemes["parent_id"].unique()[0], "name"]
    assert "recovery" in recovery, f"{RESULTS}: the sub-themes are of the 'recovery' process"


def test_theme_names_and_order(study):
    names = study.codebook.query("level == 'theme'").sort_values("order")["name"].tolist()
    assert names == [
        "Medical identity intact (It will never happen to me)",
        "Denial of disrupted medical identity",
        "Being on the edge: accepting help",
        "Role of PSU in the \u2018recovery\u2019 process",
        "Repaired identity / Coming back from the edge",
        "Different ways to be a doctor",
        "Breaking the cycle",
    ], f"{RESULTS}: the section headings, in order"


def test_double_coding(study):
    """README, section What it computes: "one coder coded all transcripts, a second independently
    coded half"."""
    coded = study.segments.groupby("coder")["participant_id"].nunique().to_dict()
    assert coded == {"EW": 8, "FF": 4}, (
        f"{COLLECTION}: 'EW coded all data, and FF independently coded half the data'")
