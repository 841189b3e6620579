"""Recruitment flow: who was contacted, expressed interest, consented and was interviewed."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from . import inference, style
from .provenance import with_sources
from .schema import RECRUITMENT_STAGES

LOSS_LABELS = ("No reply", "Did not consent", "Not interviewed")
"""Why trainees left between consecutive stages."""

STAGE_LABELS = {
    "contacted": "Contacted by e-mail",
    "interested": "Expressed interest",
    "consented": "Gave informed consent",
    "interviewed": "Interviewed",
}


def stage_counts(recruitment: pd.DataFrame) -> pd.DataFrame:
    """Trainees who reached at least each stage (the stages are ordered)."""
    rank = recruitment["stage_reached"].map({s: i for i, s in enumerate(RECRUITMENT_STAGES)})
    counts = [int((rank >= i).sum()) for i in range(len(RECRUITMENT_STAGES))]
    return with_sources(pd.DataFrame({
        "stage": list(RECRUITMENT_STAGES),
        "label": [STAGE_LABELS[s] for s in RECRUITMENT_STAGES],
        "n": counts,
    }), (recruitment, "stage_reached"))


def stages_table(counts: pd.DataFrame) -> pd.DataFrame:
    """``stage_counts`` as the paper's table shows it: each stage's label and its trainees."""
    return counts.rename(columns={"label": "Stage", "n": "Trainees"})[["Stage", "Trainees"]]


def rates(counts: pd.DataFrame, alpha: float = inference.ALPHA) -> pd.DataFrame:
    """Response and interview rates of the contacted, with exact (Clopper-Pearson) CIs:
    with 20 trainees a normal approximation would be misleading."""
    from scipy.stats import binomtest  # ~0.5 s to import: only this function needs it

    n = counts.set_index("stage")["n"]
    rows = []
    for name, numerator in (("responded", "interested"), ("interviewed", "interviewed")):
        low, high = binomtest(int(n[numerator]), int(n["contacted"])).proportion_ci(
            confidence_level=1 - alpha, method="exact")
        rows.append({
            "rate": name,
            "numerator": int(n[numerator]),
            "denominator": int(n["contacted"]),
            "pct": 100 * n[numerator] / n["contacted"],
            "ci_low_pct": 100 * float(low),
            "ci_high_pct": 100 * float(high),
        })
    return with_sources(pd.DataFrame(rows), counts)


def recruitment_period_days(recruitment: pd.DataFrame) -> int:
    """Days from the first to the last contact, both included."""
    dates = recruitment["contacted_on"]
    return int((dates.max() - dates.min()).days) + 1


def plot_flow(counts: pd.DataFrame) -> Figure:
    """A CONSORT-style flow diagram: each stage, and how many left at each step."""
    style.use()
    fig = Figure(figsize=(style.SINGLE_COLUMN_IN, 3.2))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    n = counts["n"].tolist()
    ys = [0.88, 0.63, 0.38, 0.13]
    for i, (label, count, y) in enumerate(zip(counts["label"], n, ys, strict=True)):
        ax.add_patch(FancyBboxPatch((0.08, y - 0.07), 0.5, 0.14, boxstyle="round,pad=0.01",
                                    facecolor="#DCEBF5", edgecolor=style.PALETTE[0]))
        ax.text(0.33, y, f"{label}\nn = {count}", ha="center", va="center")
        if i + 1 < len(n):
            ax.annotate("", xy=(0.33, ys[i + 1] + 0.075), xytext=(0.33, y - 0.075),
                        arrowprops={"arrowstyle": "->", "color": "0.3"})
            lost = count - n[i + 1]
            ax.add_patch(FancyBboxPatch((0.66, (y + ys[i + 1]) / 2 - 0.05), 0.3, 0.1,
                                        boxstyle="round,pad=0.01", facecolor="#F7F7F7",
                                        edgecolor="0.5"))
            ax.text(0.81, (y + ys[i + 1]) / 2, f"{LOSS_LABELS[i]}\nn = {lost}", ha="center",
                    va="center", fontsize=style.MIN_FONT_PT)
            ax.plot([0.33, 0.66], [(y + ys[i + 1]) / 2] * 2, color="0.5", lw=0.8)
    steps = "; ".join(f"{label.lower()}: {count}" for label, count in zip(
        counts["label"], n, strict=True))
    return with_sources(style.describe(
        fig, f"Flow diagram of recruitment, trainees at each stage ({steps})."), counts)


def summary(recruitment: pd.DataFrame) -> dict[str, object]:
    """The headline numbers of recruitment, under their stable keys: how many reached each
    stage, and the rates (these rest on ``stage_reached`` alone; ``contact_window`` gives
    the dates, which rest on ``contacted_on``)."""
    frame = stage_counts(recruitment)
    counts = frame.set_index("stage")["n"]
    table = rates(frame).set_index("rate")
    values: dict[str, object] = {f"n_{stage}": int(counts[stage]) for stage in counts.index}
    for rate in table.index:
        values[f"pct_{rate}"] = float(table.loc[rate, "pct"])
        values[f"pct_{rate}_ci_low"] = float(table.loc[rate, "ci_low_pct"])
        values[f"pct_{rate}_ci_high"] = float(table.loc[rate, "ci_high_pct"])
    return with_sources(values, frame)


def contact_window(recruitment: pd.DataFrame) -> dict[str, object]:
    """When trainees were contacted: the first and last e-mail and the days they span."""
    return with_sources({
        "recruitment_period_days": recruitment_period_days(recruitment),
        "recruitment_first_contact": recruitment["contacted_on"].min().date().isoformat(),
        "recruitment_last_contact": recruitment["contacted_on"].max().date().isoformat(),
    }, (recruitment, "contacted_on"))
