"""The participants against the PSU's users: gender and training stage (Table 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import disclosure, inference, provenance, style
from .loader import DataError
from .schema import TRAINING_STAGE_LABELS, TRAINING_STAGES


def user_counts(psu_users: pd.DataFrame) -> tuple[int, int]:
    """PSU users in all, and how many of them are women (397 and 259 in the article)."""
    users = psu_users.set_index(["characteristic", "category"])["count"]
    for row in (("all", "all"), ("gender", "female")):
        if row not in users.index:
            raise DataError("psu_users.csv", f"no row with characteristic {row[0]!r} and "
                            f"category {row[1]!r}: the base rate needs it", column="category")
    return int(users[("all", "all")]), int(users[("gender", "female")])


ALPHA = inference.ALPHA
"""The project's convention (``inference``): two-sided, intervals at 95%."""


def base_rate(psu_users: pd.DataFrame) -> float:
    """The PSU users' share of women (259/397 in the article): the rate at which a
    participant drawn from them would be a woman, for every test of the female share."""
    n_users, n_users_female = user_counts(psu_users)
    if n_users == 0:
        raise DataError("psu_users.csv", "the row 'all' counts 0 users: there is no base rate",
                        column="count")
    return n_users_female / n_users


def female_tail_one_sided(n: int, rate: float, k: int | None = None) -> float:
    """The one-sided binomial tail P(X >= k), X ~ Binomial(n, rate): the chance of a sample
    at least this female if participants were drawn independently from users at ``rate``
    (``k`` defaults to ``n``: all female, P = rate**n). One-sided, the direction seen: the
    paper's p is two-sided (``inference``); this tail is kept beside it for comparison, and
    is what the analysts' explorer shows."""
    if n < 1 or not 0 <= rate <= 1:
        raise ValueError(f"need n >= 1 and 0 <= rate <= 1; got n={n}, rate={rate}")
    k = n if k is None else k
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n; got k={k}, n={n}")
    from scipy.stats import binom  # see female_share

    return float(binom.sf(k - 1, n, rate))


def _two_sided_hypergeom(k: int, population: int, successes: int, n: int) -> float:
    """Two-sided exact p of the hypergeometric, as scipy's binomial test defines two-sided:
    the total probability of every count no more likely than the one observed."""
    from scipy.stats import hypergeom  # see female_share

    dist = hypergeom(population, successes, n)
    support = np.arange(max(0, n - (population - successes)), min(n, successes) + 1)
    pmf = dist.pmf(support)
    return float(min(1.0, pmf[pmf <= dist.pmf(k) * (1 + 1e-7)].sum()))


def female_share(participants: pd.DataFrame, psu_users: pd.DataFrame) -> dict[str, float]:
    """How surprising the sample's share of women is, given the PSU's users, two ways.

    Binomial: participants drawn independently at the users' base rate. Hypergeometric
    (finite population): participants drawn without replacement from the users, who are
    a known, finite population. For each, the one-sided tail P(X >= observed), and the
    two-sided exact p (every count no more likely than the one observed). The intervals
    are the exact (Clopper-Pearson) two-sided 95% interval and the one-sided 95% lower
    bound. Neither model knows that the participants chose themselves, nor that the
    direction of the one-sided test was chosen after seeing the sample.
    """
    # scipy.stats costs ~0.5 s to import: only the notebooks that test shares pay for it,
    # not the paper or the notebooks that import this module for its tables.
    from scipy.stats import binomtest, hypergeom

    n_users, n_users_female = user_counts(psu_users)
    n = len(participants)
    if n == 0:
        raise ValueError("the female share needs at least one participant")
    k = int((participants["gender"] == "female").sum())
    base = base_rate(psu_users)
    two_sided = binomtest(k, n, base)
    ci = binomtest(k, n).proportion_ci(confidence_level=1 - ALPHA, method="exact")
    lower = binomtest(k, n, alternative="greater").proportion_ci(confidence_level=1 - ALPHA,
                                                                method="exact")
    return provenance.with_sources({
        "n_participants": n,
        "n_participants_female": k,
        "pct_participants_female": 100 * k / n,
        "pct_participants_female_ci_low": 100 * ci.low,
        "pct_participants_female_ci_high": 100 * ci.high,
        "pct_participants_female_lower_bound_one_sided": 100 * lower.low,
        "n_psu_users": n_users,
        "n_psu_users_female": n_users_female,
        "pct_psu_users_female": 100 * base,
        "p_sample_female_at_least_observed": female_tail_one_sided(n, base, k),
        "p_female_binomial_two_sided": float(two_sided.pvalue),
        "p_female_hypergeometric_at_least_observed": float(
            hypergeom(n_users, n_users_female, n).sf(k - 1)),
        "p_female_hypergeometric_two_sided": _two_sided_hypergeom(k, n_users, n_users_female,
                                                                  n),
    }, (participants, "gender"), (psu_users, "count"))


def female_share_table(share: dict[str, float]) -> pd.DataFrame:
    """The female-share test under both sampling models, one row each: the tails and the
    two-sided p side by side, so a reader sees which one a statement uses."""
    none = "none (the users' share is known)"
    return provenance.with_sources(pd.DataFrame([
        {"Model": "Binomial (independent draws at the base rate)",
         "P(X >= observed), one-sided": share["p_sample_female_at_least_observed"],
         "One-sided 95% lower bound (%)":
             f"{share['pct_participants_female_lower_bound_one_sided']:.1f}",
         "Exact p, two-sided": share["p_female_binomial_two_sided"],
         "Two-sided 95% interval (%)": (f"{share['pct_participants_female_ci_low']:.1f}"
                                        f"\u2013{share['pct_participants_female_ci_high']:.1f}")},
        {"Model": (f"Hypergeometric ({share['n_participants']} drawn without replacement from "
                   f"{share['n_psu_users']} users, {share['n_psu_users_female']} female)"),
         "P(X >= observed), one-sided": share["p_female_hypergeometric_at_least_observed"],
         "One-sided 95% lower bound (%)": none,
         "Exact p, two-sided": share["p_female_hypergeometric_two_sided"],
         "Two-sided 95% interval (%)": none},
    ]), share)


FEMALE_SHARE_NOTE = ("Two-sided throughout: the direction of a one-sided test would have been "
                     "chosen after seeing the sample. Participants chose themselves, so no "
                     "test here can say why the sample is as it is.")
FEMALE_SHARE_TABLE_NOTE = (
    "The one-sided tail tests only the direction seen, chosen after seeing the sample, and "
    "goes with the one-sided lower bound; the two-sided p goes with the two-sided interval "
    "(exact, Clopper-Pearson), and is what the figure shows. Participants chose themselves, "
    "so neither model can say why the sample is as it is.")


def training_table(
    participants: pd.DataFrame, threshold: int = disclosure.SMALL_CELL_THRESHOLD,
    small_cell_rule: bool | None = None
) -> tuple[pd.DataFrame, str]:
    """Table 1: participants per training stage, in training order, stages held only; and
    the line saying which small-cell rule applied.

    On the study's own records the rule is on unless switched off: with eight participants a
    stage held by one or two of them could identify them. The published and synthetic data
    run with it off (nothing there is confidential), and the table says so either way.
    """
    enabled = provenance.small_cell_rule(participants, small_cell_rule)
    counts = participants["training_stage"].value_counts()
    table = pd.DataFrame([
        {"Training stage": TRAINING_STAGE_LABELS[s], "Code": s, "Participants": int(counts[s])}
        for s in TRAINING_STAGES if s in counts
    ])
    table, report = disclosure.suppress_small_cells(table, ["Participants"], threshold,
                                                    enabled=enabled)
    return provenance.with_sources(table, (participants, "training_stage")), report.rule


def stage_span(participants: pd.DataFrame) -> dict[str, object]:
    """Earliest and latest stage held, and how many distinct stages ("various stages")."""
    ranks = participants["training_stage"].map(TRAINING_STAGES.index)
    return provenance.with_sources({
        "stage_earliest": TRAINING_STAGES[int(ranks.min())],
        "stage_latest": TRAINING_STAGES[int(ranks.max())],
        "n_training_stages": int(participants["training_stage"].nunique()),
        "n_participants_foundation": int(participants["training_stage"].str.startswith(
            "FY").sum()),
    }, (participants, "training_stage"))


def plot_female_share(summary: dict[str, float]) -> Figure:
    """The sample's share of women with its exact two-sided 95% interval, beside the PSU
    users' share, titled with the two-sided p of both sampling models (consistent with the
    interval: a two-sided interval beside two-sided tests)."""
    fig = style.figure(style.SINGLE_COLUMN_IN, 2.2)
    ax = fig.subplots()
    labels = [f"PSU users\n(n = {summary['n_psu_users']})",
              f"Participants\n(n = {summary['n_participants']})"]
    values = [summary["pct_psu_users_female"], summary["pct_participants_female"]]
    ax.barh(labels, values, color=[style.PALETTE[4], style.PALETTE[0]], height=0.55)
    low = summary["pct_participants_female_ci_low"]
    high = summary["pct_participants_female_ci_high"]
    ax.errorbar([values[1]], [1], xerr=[[values[1] - low], [high - values[1]]], fmt="none",
                ecolor="0.2", capsize=3, lw=1)
    for y, (v, colour) in enumerate(zip(values, ("black", "white"), strict=True)):
        # At the bar's root, where no interval reaches unless it includes 0%.
        ax.text(2, y, f"{v:.0f}%", va="center", ha="left", color=colour, fontweight="bold")
    ax.axvline(values[0], color="0.4", lw=0.6, ls=":")
    ax.set_xlim(0, 100)
    ax.set_xlabel("Female (%); bar: exact two-sided 95% interval")
    ax.set_title(f"Two-sided exact p = {summary['p_female_binomial_two_sided']:.3f} "
                 f"(binomial),\n{summary['p_female_hypergeometric_two_sided']:.3f} "
                 "(finite population)", fontsize=7)
    return provenance.with_sources(style.describe(fig, (
        f"Bar chart: {summary['n_participants_female']} of {summary['n_participants']} "
        f"participants ({values[1]:.0f}%, exact 95% interval {low:.1f}% to {high:.1f}%) were "
        f"female against {values[0]:.1f}% of {summary['n_psu_users']} PSU users; two-sided "
        f"exact p = {summary['p_female_binomial_two_sided']:.3f} (binomial) and "
        f"{summary['p_female_hypergeometric_two_sided']:.3f} (hypergeometric).")), summary)
