"""The participants against the PSU's users: gender and training stage (Table 1)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import binomtest

from . import disclosure, provenance, style
from .schema import TRAINING_STAGE_LABELS, TRAINING_STAGES


def user_counts(psu_users: pd.DataFrame) -> tuple[int, int]:
    """PSU users in all, and how many of them are women (397 and 259 in the article)."""
    users = psu_users.set_index(["characteristic", "category"])["count"]
    return int(users[("all", "all")]), int(users.get(("gender", "female"), 0))


def female_share(participants: pd.DataFrame, psu_users: pd.DataFrame) -> dict[str, float]:
    """How surprising an all-female sample is, given the PSU's base rate.

    The exact binomial tail P(X >= observed) assumes participants were drawn independently
    from PSU users at the base rate; the interval is the exact (Clopper-Pearson) one.
    """
    n_users, n_users_female = user_counts(psu_users)
    n = len(participants)
    k = int((participants["gender"] == "female").sum())
    base = n_users_female / n_users
    test = binomtest(k, n, base, alternative="greater")
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return {
        "n_participants": n,
        "n_participants_female": k,
        "pct_participants_female": 100 * k / n,
        "pct_participants_female_ci_low": 100 * ci.low,
        "pct_participants_female_ci_high": 100 * ci.high,
        "n_psu_users": n_users,
        "n_psu_users_female": n_users_female,
        "pct_psu_users_female": 100 * base,
        "p_sample_female_at_least_observed": float(test.pvalue),
    }


def training_table(
    participants: pd.DataFrame, threshold: int = 5, small_cell_rule: bool | None = None
) -> tuple[pd.DataFrame, str]:
    """Table 1: participants per training stage, in training order, stages held only; and
    the line saying which small-cell rule applied.

    On the study's own records the rule is on unless switched off: with eight participants a
    stage held by one or two of them could identify them. The published and synthetic data
    run with it off (nothing there is confidential), and the table says so either way.
    """
    enabled = provenance.is_study_data(participants) if small_cell_rule is None else (
        small_cell_rule)
    counts = participants["training_stage"].value_counts()
    table = pd.DataFrame([
        {"Training stage": TRAINING_STAGE_LABELS[s], "Code": s, "Participants": int(counts[s])}
        for s in TRAINING_STAGES if s in counts
    ])
    table, report = disclosure.suppress_small_cells(table, ["Participants"], threshold,
                                                    enabled=enabled)
    return table, report.rule


def stage_span(participants: pd.DataFrame) -> dict[str, object]:
    """Earliest and latest stage held, and how many distinct stages ("various stages")."""
    ranks = participants["training_stage"].map(TRAINING_STAGES.index)
    return {
        "stage_earliest": TRAINING_STAGES[int(ranks.min())],
        "stage_latest": TRAINING_STAGES[int(ranks.max())],
        "n_training_stages": int(participants["training_stage"].nunique()),
        "n_participants_foundation": int(participants["training_stage"].str.startswith(
            "FY").sum()),
    }


def plot_female_share(summary: dict[str, float]) -> Figure:
    """The sample's share of women (with its exact CI) beside the PSU users' share."""
    style.use()
    fig = Figure(figsize=(style.SINGLE_COLUMN_IN, 2.2))
    ax = fig.add_axes((0.3, 0.22, 0.65, 0.7))
    labels = [f"PSU users\n(n = {summary['n_psu_users']})",
              f"Participants\n(n = {summary['n_participants']})"]
    values = [summary["pct_psu_users_female"], summary["pct_participants_female"]]
    ax.barh(labels, values, color=[style.PALETTE[4], style.PALETTE[0]], height=0.55)
    low = summary["pct_participants_female_ci_low"]
    high = summary["pct_participants_female_ci_high"]
    ax.errorbar([values[1]], [1], xerr=[[values[1] - low], [high - values[1]]], fmt="none",
                ecolor="0.2", capsize=3, lw=1)
    for y, v in enumerate(values):
        ax.text(min(v, 100) - 2, y, f"{v:.0f}%", va="center", ha="right", color="white",
                fontweight="bold")
    ax.set_xlim(0, 100)
    ax.set_xlabel("Female (%)")
    ax.set_title(f"P(sample this female | base rate) = "
                 f"{summary['p_sample_female_at_least_observed']:.3f}", fontsize=7)
    return fig


def summary(participants: pd.DataFrame, psu_users: pd.DataFrame) -> dict[str, object]:
    """The headline numbers about who took part."""
    return {**female_share(participants, psu_users), **stage_span(participants)}
