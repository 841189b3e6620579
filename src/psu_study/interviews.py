"""Interviews: how they were held, when, and for how long."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from . import style
from .provenance import with_sources
from .schema import INTERVIEW_MODES

ROW_COLUMNS = ("participant_id", "interview_date", "mode", "duration_min")
"""An interview's row: what the per-interview table and both figures are credited to."""


def duration_summary(interviews: pd.DataFrame) -> dict[str, float]:
    """The figures the article reports (range, mean) plus those a reader also needs."""
    minutes = interviews["duration_min"]
    return with_sources({
        "duration_min_minutes": int(minutes.min()),
        "duration_max_minutes": int(minutes.max()),
        "duration_mean_minutes": float(minutes.mean()),
        "duration_median_minutes": float(minutes.median()),
        "duration_sd_minutes": float(minutes.std(ddof=1)),
        "duration_total_minutes": int(minutes.sum()),
    }, (interviews, "duration_min"))


def summary_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """The durations' summary the notebook shows (n, minimum, maximum, mean, median, SD in
    minutes), from the numbers ``duration_summary`` publishes."""
    numbers = duration_summary(interviews)
    return pd.DataFrame({"n": [len(interviews)],
                         **{label: [numbers[f"duration_{key}_minutes"]] for key, label in (
                             ("min", "Minimum"), ("max", "Maximum"), ("mean", "Mean"),
                             ("median", "Median"), ("sd", "SD"))}}).round(1)


def schedule(interviews: pd.DataFrame) -> dict[str, object]:
    """When interviews were held: the first and the last."""
    return with_sources({
        "interview_first_date": interviews["interview_date"].min().date().isoformat(),
        "interview_last_date": interviews["interview_date"].max().date().isoformat(),
    }, (interviews, "interview_date"))


def modes(interviews: pd.DataFrame) -> dict[str, int]:
    """How many interviews, and how many in every mode of the contract, zeros included (a
    zero here is a count, not a missing value)."""
    counts = interviews["mode"].value_counts()
    return with_sources({"n_interviews": int(len(interviews)),
                         **{f"n_interviews_{mode.replace('-', '_')}": int(counts.get(mode, 0))
                            for mode in INTERVIEW_MODES}}, (interviews, "mode"))


def duration_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """Every interview, in date order, for the reader who wants the rows behind the summary."""
    table = interviews.sort_values("interview_date")[list(ROW_COLUMNS)].copy()
    table["interview_date"] = table["interview_date"].dt.strftime("%Y-%m-%d")
    return with_sources(table, (interviews, *ROW_COLUMNS)).rename(columns={
        "participant_id": "Participant", "interview_date": "Date", "mode": "Mode",
        "duration_min": "Minutes"})


ROW_IN = 0.16
"""The height of one interview's row in the dot plots."""


def _panels(n: int) -> tuple[Figure, list, list]:
    """A figure for ``n`` rows of interviews: one column wide while the rows fit the page's
    height, else full width with the rows split into panels side by side, on one x scale.
    Returns it, its axes and each axes' rows."""
    panels = style.side_by_side(n, ROW_IN, 1.0)
    chunks = [list(c) for c in np.array_split(np.arange(n), panels)]
    width = style.SINGLE_COLUMN_IN if panels == 1 else style.DOUBLE_COLUMN_IN
    fig = style.figure(width, 1.0 + ROW_IN * len(chunks[0]))
    axes = list(np.atleast_1d(fig.subplots(1, panels, sharex=True)))
    return fig, axes, chunks


def plot_durations(interviews: pd.DataFrame) -> Figure:
    """Every interview's duration as a point, with the mean and the range marked."""
    ordered = interviews.sort_values(["duration_min", "participant_id"]).reset_index(drop=True)
    fig, axes, chunks = _panels(len(ordered))
    mean = ordered["duration_min"].mean()
    for ax, rows in zip(axes, chunks, strict=True):
        part = ordered.iloc[rows]
        ax.scatter(part["duration_min"], range(len(part)), color=style.PALETTE[0], zorder=3)
        ax.set_yticks(range(len(part)), part["participant_id"])
        ax.axvline(mean, color=style.PALETTE[5], lw=1, ls="--", label=f"mean {mean:.0f} min")
        ax.set_xlabel("Interview duration (minutes)")
    ax.legend(loc="lower right", frameon=False)
    low, high = ordered["duration_min"].min(), ordered["duration_min"].max()
    return with_sources(style.describe(fig, (
        f"Dot plot of the {len(ordered)} interviews' durations, from {low} to {high} minutes "
        f"(mean {mean:.0f}).")), (interviews, *ROW_COLUMNS))


def _date_label(value: float, _position: int) -> str:
    """A date tick: its month and year, and its day too where the tick is not on the first of
    a month (a span of weeks ticks twice a month, which would print one month twice)."""
    day = num2date(value)
    return f"{day:%b}\n{day:%Y}" if day.day == 1 else f"{day.day} {day:%b}\n{day:%Y}"


def plot_timeline(interviews: pd.DataFrame) -> Figure:
    """When the interviews took place: one row per interview, in date order, so no two
    labels can meet (they are the rows' tick labels); marker area shows the duration."""
    ordered = interviews.sort_values(["interview_date", "participant_id"]).reset_index(
        drop=True)
    fig, axes, chunks = _panels(len(ordered))
    for ax, rows in zip(axes, chunks, strict=True):
        part = ordered.iloc[rows]
        ticks = range(len(part))
        ax.hlines(ticks, ordered["interview_date"].min(), part["interview_date"], color="0.85",
                  lw=0.6)
        ax.scatter(part["interview_date"], ticks, s=part["duration_min"] * 1.2,
                   color=style.PALETTE[0], alpha=0.8, zorder=3)
        ax.set_yticks(ticks, part["participant_id"])
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=5))
        ax.xaxis.set_major_formatter(FuncFormatter(_date_label))
        ax.set_xlabel("Interview date (marker area proportional to duration)")
    first, last = ordered["interview_date"].min(), ordered["interview_date"].max()
    return with_sources(style.describe(fig, (
        f"Timeline of the {len(ordered)} interviews, one row per participant, from "
        f"{first:%d %B %Y} to {last:%d %B %Y}.")), (interviews, *ROW_COLUMNS))
