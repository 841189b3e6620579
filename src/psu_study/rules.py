"""The study's rules across files: references between tables, recruitment stages, PSU
user totals, interview dates, the codebook's levels and segments against their transcripts.

Each rule reads frames already checked column by column (``loader``) and refuses the first
row that breaks it with one ``DataError`` naming file, row and column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from .loader import DataError, Distinct, show
from .paths import display_path

Seen = dict[str, dict[str, Distinct]]
"""Distinct values of each table's text columns, by table and column."""


def _first(mask: pd.Series) -> int:
    """Position of the first True in ``mask``."""
    return int(mask.to_numpy().argmax())


def _refuse_rows(
    where: str, frame: pd.DataFrame, bad: pd.Series, column: str, message: str
) -> None:
    if bad.any():
        i = _first(bad)
        raise DataError(where, message.format(value=show(frame[column].iloc[i])), row=i + 1,
                        column=column)


def _check_reference(frames: dict[str, pd.DataFrame], seen: Seen, data_dir: Path, table: str,
                     column: str, target: str, target_column: str) -> None:
    frame = frames[table]
    known = frames[target][target_column]
    distinct = seen[table][column]
    bad = distinct.present & ~distinct.values.isin(known).to_numpy()
    _refuse_rows(
        display_path(data_dir / f"{table}.csv"), frame, distinct.rows(bad), column,
        f"{{value}} is not a known {target_column} of {target}.csv",
    )


def _check_recruitment(frames: dict[str, pd.DataFrame], seen: Seen, data_dir: Path) -> None:
    where = display_path(data_dir / "recruitment.csv")
    rec = frames["recruitment"]
    interviewed = rec["stage_reached"] == "interviewed"
    _refuse_rows(where, rec, interviewed & rec["participant_id"].isna(), "participant_id",
                 "an interviewed trainee needs the participant_id of her interview")
    _refuse_rows(where, rec, ~interviewed & rec["participant_id"].notna(), "stage_reached",
                 "a trainee with a participant_id must have reached 'interviewed', not {value}")
    _check_reference(frames, seen, data_dir, "recruitment", "participant_id", "participants",
                     "participant_id")
    participants = frames["participants"]
    missing = ~participants["participant_id"].isin(rec["participant_id"])
    _refuse_rows(display_path(data_dir / "participants.csv"), participants, missing,
                 "participant_id",
                 "participant {value} has no interviewed trainee in recruitment.csv")


def _check_psu_users(frames: dict[str, pd.DataFrame], data_dir: Path) -> None:
    where = display_path(data_dir / "psu_users.csv")
    users = frames["psu_users"]
    key = users["characteristic"] + "/" + users["category"]
    _refuse_rows(where, users, key.duplicated(), "category",
                 "characteristic and category repeat an earlier row ({value})")
    total_rows = users[(users["characteristic"] == "all") & (users["category"] == "all")]
    if len(total_rows) != 1:
        raise DataError(where, "needs exactly one row with characteristic 'all' and category "
                        "'all' giving the number of PSU users", column="characteristic")
    total = int(total_rows["count"].iloc[0])
    for characteristic, rows in users[users["characteristic"] != "all"].groupby(
        "characteristic", sort=False
    ):
        if int(rows["count"].sum()) != total:
            raise DataError(
                where,
                f"counts for {show(characteristic)} add up to {int(rows['count'].sum())}, "
                f"not to the {total} PSU users of the 'all' row",
                row=int(rows.index[-1]) + 1, column="count",
            )


def _check_interviews(frames: dict[str, pd.DataFrame], seen: Seen, data_dir: Path,
                      window: tuple[dt.date, dt.date] | None) -> None:
    where = display_path(data_dir / "interviews.csv")
    interviews = frames["interviews"]
    _check_reference(frames, seen, data_dir, "interviews", "participant_id", "participants",
                     "participant_id")
    rec = frames["recruitment"]
    linked = rec[rec["participant_id"].notna()]  # participant_id is unique where set
    contacted = interviews["participant_id"].map(
        pd.Series(linked["contacted_on"].to_numpy(), index=linked["participant_id"].to_numpy()))
    _refuse_rows(where, interviews, interviews["interview_date"] < contacted, "interview_date",
                 "interview on {value} comes before the trainee was contacted (recruitment.csv)")
    if window is not None:
        start, end = (pd.Timestamp(d) for d in window)
        outside = (interviews["interview_date"] < start) | (interviews["interview_date"] > end)
        _refuse_rows(where, interviews, outside, "interview_date",
                     f"{{value}} is outside the study window {window[0]} to {window[1]}")
    interviewed = rec.loc[rec["stage_reached"] == "interviewed", "participant_id"]
    missing = ~interviewed.isin(interviews["participant_id"])
    if missing.any():
        i = int(interviewed.index[_first(missing)])
        raise DataError(display_path(data_dir / "recruitment.csv"),
                        f"interviewed trainee {show(rec['participant_id'].iloc[i])} has no row "
                        "in interviews.csv", row=i + 1, column="participant_id")


def _check_codebook(frames: dict[str, pd.DataFrame], data_dir: Path) -> None:
    where = display_path(data_dir / "codebook.csv")
    book = frames["codebook"]
    levels = book.set_index("code_id")["level"]
    parent_level = book["parent_id"].map(levels)
    _refuse_rows(where, book, book["parent_id"].notna() & parent_level.isna(), "parent_id",
                 "{value} is not a code_id of codebook.csv")
    _refuse_rows(where, book, (book["level"] == "theme") & book["parent_id"].notna(), "parent_id",
                 "a theme has no parent; got {value}")
    _refuse_rows(where, book, (book["level"] == "subtheme") & (parent_level != "theme"),
                 "parent_id", "a subtheme's parent must be a theme; got {value}")
    _refuse_rows(where, book, (book["level"] == "code") & book["parent_id"].isna(), "parent_id",
                 "a code needs a parent (a theme, sub-theme or code)")
    # Codes may nest under codes to any depth, but every chain of parents must end at a theme.
    # Each pass moves every code one step up its chain; once no code moves, later passes
    # change nothing, so stop there (a cycle never settles: at most one pass per code).
    parent = book.set_index("code_id")["parent_id"]
    root = pd.Series(book["code_id"].to_numpy(), index=book["code_id"].to_numpy())
    for _ in range(len(book)):
        up = root.map(parent)
        up = up.where(up.notna(), root)
        if up.equals(root):
            break
        root = up
    _refuse_rows(where, book, pd.Series((root.map(levels) != "theme").to_numpy(), book.index),
                 "parent_id",
                 "the chain of parents from this code never reaches a theme (a cycle?); "
                 "parent {value}")
    siblings = book["parent_id"].fillna("") + "#" + book["order"].astype(str)
    _refuse_rows(where, book, siblings.duplicated(), "order",
                 "order {value} repeats a sibling's order under the same parent")


def _check_segments(frames: dict[str, pd.DataFrame], seen: Seen, data_dir: Path,
                    transcripts: dict[str, str] | None) -> None:
    where = display_path(data_dir / "segments.csv")
    seg = frames["segments"]
    _check_reference(frames, seen, data_dir, "segments", "participant_id", "participants",
                     "participant_id")
    _check_reference(frames, seen, data_dir, "segments", "coder", "coders", "coder")
    _check_reference(frames, seen, data_dir, "segments", "code_id", "codebook", "code_id")
    has_span = seg["start"].notna() & seg["end"].notna()
    _refuse_rows(where, seg, seg["start"].notna() != seg["end"].notna(), "end",
                 "start and end are given together or not at all")
    _refuse_rows(where, seg, has_span & (seg["end"] <= seg["start"]), "end",
                 "end must be after start; got {value}")
    if transcripts is None:
        return
    _refuse_rows(where, seg, ~has_span, "start",
                 "with a transcripts/ folder every segment needs start and end")
    participants = seen["segments"]["participant_id"]
    no_text = ~participants.values.isin(list(transcripts)).to_numpy()
    _refuse_rows(where, seg, participants.rows(no_text), "participant_id",
                 "{value} has no transcripts/<participant_id>.txt")
    for i, (pid, start, end, text) in enumerate(
        zip(seg["participant_id"], seg["start"], seg["end"], seg["text"], strict=True)
    ):
        source = transcripts[pid]
        if end > len(source):
            raise DataError(where, f"end {end} is past the end of transcript {pid} "
                            f"({len(source)} characters)", row=i + 1, column="end")
        if source[start:end] != text:
            raise DataError(where, f"text differs from transcript {pid} at {start}-{end}",
                            row=i + 1, column="text")


def check_study(frames: dict[str, pd.DataFrame], seen: Seen, data_dir: Path,
                window: tuple[dt.date, dt.date] | None,
                transcripts: dict[str, str] | None) -> None:
    """Every rule whose tables were loaded, in dependency order."""
    if "recruitment" in frames:
        _check_recruitment(frames, seen, data_dir)
    if "psu_users" in frames:
        _check_psu_users(frames, data_dir)
    if "interviews" in frames:
        _check_interviews(frames, seen, data_dir, window)
    if "codebook" in frames:
        _check_codebook(frames, data_dir)
    if "segments" in frames:
        _check_segments(frames, seen, data_dir, transcripts)
