"""Interviews: how they were held, when, and for how long."""

from __future__ import annotations

import pandas as pd
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.figure import Figure

from . import style
from .schema import INTERVIEW_MODES


def duration_summary(interviews: pd.DataFrame) -> dict[str, float]:
    """The figures the article reports (range, mean) plus those a reader also needs."""
    minutes = interviews["duration_min"]
    return {
        "n_interviews": int(len(minutes)),
        "duration_min_minutes": int(minutes.min()),
        "duration_max_minutes": int(minutes.max()),
        "duration_mean_minutes": float(minutes.mean()),
        "duration_median_minutes": float(minutes.median()),
        "duration_sd_minutes": float(minutes.std(ddof=1)),
        "duration_total_minutes": int(minutes.sum()),
    }


def schedule(interviews: pd.DataFrame) -> dict[str, object]:
    """When and how interviews were held: a count for every mode of the contract, zeros
    included (a zero here is a count, not a missing value)."""
    modes = interviews["mode"].value_counts()
    return {
        "interview_first_date": interviews["interview_date"].min().date().isoformat(),
        "interview_last_date": interviews["interview_date"].max().date().isoformat(),
        **{f"n_interviews_{mode.replace('-', '_')}": int(modes.get(mode, 0))
           for mode in INTERVIEW_MODES},
    }


def duration_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """Every interview, in date order, for the reader who wants the rows behind the summary."""
    table = interviews.sort_values("interview_date")[["participant_id", "interview_date",
                                                      "mode", "duration_min"]].copy()
    table["interview_date"] = table["interview_date"].dt.strftime("%Y-%m-%d")
    return table.rename(columns={"participant_id": "Participant", "interview_date": "Date",
                                 "mode": "Mode", "duration_min": "Minutes"})


def plot_durations(interviews: pd.DataFrame) -> Figure:
    """Every interview's duration as a point, with the mean and the range marked."""
    style.use()
    fig = Figure(figsize=(style.SINGLE_COLUMN_IN, 2.4))
    ax = fig.add_axes((0.16, 0.24, 0.8, 0.68))
    ordered = interviews.sort_values("duration_min").reset_index(drop=True)
    ax.scatter(ordered["duration_min"], range(len(ordered)), color=style.PALETTE[0], zorder=3)
    ax.set_yticks(range(len(ordered)), ordered["participant_id"])
    mean = ordered["duration_min"].mean()
    ax.axvline(mean, color=style.PALETTE[5], lw=1, ls="--", label=f"mean {mean:.0f} min")
    ax.set_xlabel("Interview duration (minutes)")
    ax.legend(loc="lower right", frameon=False)
    return fig


def plot_timeline(interviews: pd.DataFrame) -> Figure:
    """When the interviews took place, one marker per interview."""
    style.use()
    fig = Figure(figsize=(style.DOUBLE_COLUMN_IN, 1.6))
    ax = fig.add_axes((0.06, 0.35, 0.9, 0.55))
    ordered = interviews.sort_values("interview_date")
    ax.scatter(ordered["interview_date"], [0] * len(ordered), s=ordered["duration_min"] * 1.5,
               color=style.PALETTE[0], alpha=0.8, zorder=3)
    for date, pid in zip(ordered["interview_date"], ordered["participant_id"], strict=True):
        ax.annotate(pid, (date, 0), xytext=(0, 8), textcoords="offset points", ha="center",
                    fontsize=6)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(MonthLocator())
    ax.xaxis.set_major_formatter(DateFormatter("%b\n%Y"))
    ax.set_title("Interviews over time (marker area proportional to duration)", fontsize=7)
    return fig


def summary(interviews: pd.DataFrame) -> dict[str, object]:
    """The headline numbers about the interviews."""
    return {**duration_summary(interviews), **schedule(interviews)}
