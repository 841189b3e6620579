"""Interviews: how they were held, when, and for how long."""

from __future__ import annotations

import pandas as pd
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure

from . import style
from .schema import INTERVIEW_MODES


def duration_summary(interviews: pd.DataFrame) -> dict[str, float]:
    """The figures the article reports (range, mean) plus those a reader also needs."""
    minutes = interviews["duration_min"]
    return {
        "duration_min_minutes": int(minutes.min()),
        "duration_max_minutes": int(minutes.max()),
        "duration_mean_minutes": float(minutes.mean()),
        "duration_median_minutes": float(minutes.median()),
        "duration_sd_minutes": float(minutes.std(ddof=1)),
        "duration_total_minutes": int(minutes.sum()),
    }


def schedule(interviews: pd.DataFrame) -> dict[str, object]:
    """When interviews were held: the first and the last."""
    return {
        "interview_first_date": interviews["interview_date"].min().date().isoformat(),
        "interview_last_date": interviews["interview_date"].max().date().isoformat(),
    }


def modes(interviews: pd.DataFrame) -> dict[str, int]:
    """How many interviews, and how many in every mode of the contract, zeros included (a
    zero here is a count, not a missing value)."""
    counts = interviews["mode"].value_counts()
    return {"n_interviews": int(len(interviews)),
            **{f"n_interviews_{mode.replace('-', '_')}": int(counts.get(mode, 0))
               for mode in INTERVIEW_MODES}}


def duration_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """Every interview, in date order, for the reader who wants the rows behind the summary."""
    table = interviews.sort_values("interview_date")[["participant_id", "interview_date",
                                                      "mode", "duration_min"]].copy()
    table["interview_date"] = table["interview_date"].dt.strftime("%Y-%m-%d")
    return table.rename(columns={"participant_id": "Participant", "interview_date": "Date",
                                 "mode": "Mode", "duration_min": "Minutes"})


def plot_durations(interviews: pd.DataFrame) -> Figure:
    """Every interview's duration as a point, with the mean and the range marked."""
    ordered = interviews.sort_values(["duration_min", "participant_id"]).reset_index(drop=True)
    fig = style.figure(style.SINGLE_COLUMN_IN, 1.0 + 0.16 * len(ordered))
    ax = fig.subplots()
    ax.scatter(ordered["duration_min"], range(len(ordered)), color=style.PALETTE[0], zorder=3)
    ax.set_yticks(range(len(ordered)), ordered["participant_id"])
    mean = ordered["duration_min"].mean()
    ax.axvline(mean, color=style.PALETTE[5], lw=1, ls="--", label=f"mean {mean:.0f} min")
    ax.set_xlabel("Interview duration (minutes)")
    ax.legend(loc="lower right", frameon=False)
    low, high = ordered["duration_min"].min(), ordered["duration_min"].max()
    return style.describe(fig, (
        f"Dot plot of the {len(ordered)} interviews' durations, from {low} to {high} minutes "
        f"(mean {mean:.0f})."))


def plot_timeline(interviews: pd.DataFrame) -> Figure:
    """When the interviews took place: one row per interview, in date order, so no two
    labels can meet (they are the rows' tick labels); marker area shows the duration."""
    ordered = interviews.sort_values(["interview_date", "participant_id"]).reset_index(
        drop=True)
    fig = style.figure(style.SINGLE_COLUMN_IN, 1.0 + 0.16 * len(ordered))
    ax = fig.subplots()
    rows = range(len(ordered))
    ax.hlines(rows, ordered["interview_date"].min(), ordered["interview_date"], color="0.85",
              lw=0.6)
    ax.scatter(ordered["interview_date"], rows, s=ordered["duration_min"] * 1.2,
               color=style.PALETTE[0], alpha=0.8, zorder=3)
    ax.set_yticks(rows, ordered["participant_id"])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=5))
    ax.xaxis.set_major_formatter(DateFormatter("%b\n%Y"))
    ax.set_xlabel("Interview date (marker area proportional to duration)")
    first, last = ordered["interview_date"].min(), ordered["interview_date"].max()
    return style.describe(fig, (
        f"Timeline of the {len(ordered)} interviews, one row per participant, from "
        f"{first:%d %B %Y} to {last:%d %B %Y}."))
