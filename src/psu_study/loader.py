"""Read one data file of the contract fast, and check each of its columns.

Every refusal is one ``DataError`` that names the file, the row (1-based, header not
counted), the column and what was expected, so an analyst can fix the data without reading
a traceback. Checks are vectorised and run on each column's distinct values: the same code
validates eight participants or a million coded segments. The study's rules across files
live in ``rules``; ``validation.load_study`` runs both.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema, staging
from .paths import display_path

MAX_FILE_BYTES = 128 * 1024 * 1024
"""Larger than any study of this kind needs; a bigger file is a mistake (or an export of the
wrong table), refused before it is read into memory."""

_SHOWN_VALUE_CHARS = 24
MAX_MESSAGE_CHARS = 400
"""An error is one line a person reads; no message is longer than this."""

MAX_INT = 10**15
"""Beyond any count, duration or offset in a study; keeps integers exact in float64 and
within int64, so a mistyped huge number is refused where it is, not wrapped round."""


class DataError(ValueError):
    """A data file breaks the contract; says where and what was expected."""

    def __init__(
        self, file: Path | str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = clip_message(message)
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{clip(column)}'")
        super().__init__(f"{', '.join(where)}: {self.message}")


def clip(text: str, limit: int = _SHOWN_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def show(value: object) -> str:
    """A value quoted for an error message, cut short so logs never carry a whole field."""
    return repr(clip(str(value)))


def clip_message(message: str) -> str:
    """A message kept to one line of at most ``MAX_MESSAGE_CHARS``: the last guard, for a
    value that reached a message without ``show`` (its head and tail are kept)."""
    message = " ".join(message.splitlines())
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[:MAX_MESSAGE_CHARS - 81] + " … " + message[-78:]


@dataclass(frozen=True)
class Distinct:
    """A text column as its distinct values and each row's position among them.

    Kept from the column checks so the cross-file reference checks also cost what the
    distinct participants, coders and codes cost, not what a million rows cost.
    """

    codes: np.ndarray
    values: pd.Series
    present: np.ndarray
    """Which distinct values are not blank."""

    def rows(self, bad: np.ndarray) -> pd.Series:
        """A per-distinct-value verdict spread back over the rows."""
        return pd.Series(bad[self.codes])


def _shown_path(path: Path) -> str:
    """``display_path`` of the file itself, not of what a link at ``path`` points to, so a
    refused link is named as the user sees it in the folder."""
    folder = display_path(path.parent)
    if folder.startswith(".../"):  # outside the repository: the name only, as display_path
        return f".../{path.name}"
    return path.name if folder == "." else f"{folder}/{path.name}"


def refuse_link_or_special(mode: int, where: str, *, folders: bool = False) -> None:
    """Refuse, by its ``lstat`` mode, what is not a regular file: a symbolic link (never
    followed, so a folder cannot pull in a file from elsewhere), a pipe, socket or device
    (reading it may never end), and a folder unless ``folders`` allows one."""
    if stat.S_ISLNK(mode):
        raise DataError(where, "is a symbolic link; links are not followed (copy the file "
                        "into the folder instead)")
    if stat.S_ISDIR(mode):
        if folders:
            return
        raise DataError(where, "is a folder; expected a file")
    if not stat.S_ISREG(mode):
        raise DataError(where, "is not a regular file (a pipe, socket or device); refused")


def open_regular(path: Path, where: str) -> int:
    """A read-only descriptor of ``path`` once it is known to be a regular file, not a link.

    Links are refused rather than followed, so a data folder cannot pull in a file from
    elsewhere (a transcript linked to ``~/.ssh/id_rsa`` would otherwise be read, and then
    exported); pipes and devices are refused before they are opened, as reading them may
    never end. ``O_NOFOLLOW`` closes the gap between the check and the open.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        raise DataError(where, "file is missing (every data directory needs it; "
                        "see data/README.md)") from None
    except OSError as exc:
        raise DataError(where, f"cannot be read ({exc.strerror})") from None
    refuse_link_or_special(mode, where)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise DataError(where, f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DataError(where, "changed into something other than a regular file; refused")
    return fd


def read_regular(path: Path, where: str, admit: Callable[[int], None]) -> bytes:
    """The bytes of ``path`` once it is known to be a regular file, not a link
    (``open_regular``); ``admit`` sees its size before anything is read and raises to refuse
    it. At most one byte past that size is read: a file that grows while it is read is
    refused, never read without bound."""
    with os.fdopen(open_regular(path, where), "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        admit(size)
        raw = handle.read(size + 1)
    if len(raw) > size:
        raise DataError(where, "grew while it was read; refused")
    return raw


def _checked_bytes(path: Path, max_bytes: int, expected: str = "a header row") -> bytes:
    """A file's bytes once it is known to be a regular file (no link), fit the limit, hold
    something, and be UTF-8."""
    where = _shown_path(path)

    def admit(size: int) -> None:
        if size > max_bytes:
            raise DataError(
                where,
                f"file is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        if size == 0:
            raise DataError(where, f"file is empty; expected {expected}")

    raw = read_regular(path, where, admit)
    try:
        if not raw.isascii():  # ASCII is UTF-8; only other bytes need the (slower) decode
            raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            where, f"line {line} is not UTF-8 (byte {raw[exc.start]:#04x}); save the file as UTF-8"
        ) from None
    staging.record_read(path)
    return raw


def read_bytes_checked(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a text file as UTF-8, refusing missing, oversized, empty and non-UTF-8 files."""
    return _checked_bytes(path, max_bytes, "text").decode("utf-8").removeprefix("\ufeff")


def read_table(
    data_dir: Path, table: schema.Table, max_bytes: int = MAX_FILE_BYTES,
    seen: dict[str, Distinct] | None = None,
) -> pd.DataFrame:
    """Read one CSV and check its header, types, allowed values, ranges and unique ids.

    ``seen``, when given, receives each text column's distinct values for later checks.
    """
    path = Path(data_dir) / table.file
    where = display_path(path)
    raw = _checked_bytes(path, max_bytes)
    end = raw.find(b"\n")
    first_line = (raw if end < 0 else raw[:end]).decode("utf-8").removeprefix("\ufeff")
    try:
        header = next(csv.reader([first_line]), [])
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
        raise DataError(where, f"the header row is not a CSV header ({exc})", row=0) from None
    names: set[str] = set()
    for name in header:  # a set: linear in the number of columns
        if name in names:
            raise DataError(where, "column name repeats an earlier column", row=0, column=name)
        names.add(name)
    try:
        # Text as Python strings; whole-number columns parsed by the C parser when they are
        # clean (they come back as objects, and are checked value by value, when not).
        ints = [c.name for c in table.columns if c.kind == "int"]
        frame = pd.read_csv(
            io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False,
            dtype={name: object for name in header if name not in ints},
            na_values={name: [""] for name in ints},
        )
    except pd.errors.EmptyDataError:
        raise DataError(where, "file is empty; expected a header row") from None
    except pd.errors.ParserError as exc:
        # pandas counts records (a quoted field may span lines): its "line" is 1-based with
        # the header as line 1, its "row" 0-based with the header as row 0.
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if fields:
            raise DataError(where, f"row has {fields.group(3)} fields, the header has "
                            f"{fields.group(1)}", row=int(fields.group(2)) - 1) from None
        quote = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if quote:
            raise DataError(where, 'a quoted field is never closed (a " with no partner)',
                            row=int(quote.group(1))) from None
        raise DataError(where, str(exc).strip()) from None
    expected = table.column_names
    for name in expected:
        if name not in frame.columns:
            raise DataError(where, f"missing column; expected columns {', '.join(expected)}",
                            row=0, column=name)
    added = [str(name) for name in frame.columns if name not in expected]
    for name in added:
        if table.added is None:
            raise DataError(where, f"unexpected column; expected only {', '.join(expected)}",
                            row=0, column=name)
        if not re.fullmatch(schema.ADDED_COLUMN_NAME, name):
            raise DataError(where, "an added column's name must be a lower-case letter, then "
                            "at most 39 lower-case letters, digits or _", row=0, column=name)
    frame = frame.loc[:, [*expected, *added]]
    for column in table.columns + tuple(replace(table.added, name=n) for n in added):
        frame[column.name] = _check_column(frame[column.name], column, where, seen)
    return frame


def _all_match(pattern: str, distinct: pd.Series, joined: str) -> np.ndarray:
    """Which distinct values match ``pattern`` (anchored ``^...$``).

    One regular-expression pass over all values joined by newlines (``joined``) answers the
    common case (everything matches) in C; only when it fails is each value tried alone.
    An empty value may come out either way: the caller has judged it already, as a blank.
    """
    core = pattern.removeprefix("^").removesuffix("$")
    whole = re.fullmatch(r"\[([^\]]+)\]\+", core)  # a single class, e.g. [A-Za-z0-9_-]+
    combined = f"[\n{whole.group(1)}]*" if whole else f"(?:{core})?(?:\n(?:{core})?)*"
    if joined.count("\n") == len(distinct) - 1 and re.fullmatch(combined, joined):
        return np.ones(len(distinct), dtype=bool)
    return distinct.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


def _blank(distinct: pd.Series, joined: str) -> np.ndarray:
    """Which distinct values are empty or only white space (C-level searches first).

    An empty value shows as a leading, trailing or doubled newline; only values holding
    some other white space need the line-by-line search, and only a hit needs each value.
    """
    maybe = (not joined or "\n\n" in joined or joined[0] == "\n" or joined[-1] == "\n"
             or re.search(r"[^\S\n]", joined))
    if not maybe or not re.search(r"(?m)^\s*$", joined):
        return np.zeros(len(distinct), dtype=bool)
    return (distinct.str.strip() == "").to_numpy(dtype=bool)


def _check_parsed_numbers(values: pd.Series, column: schema.Column, where: str) -> pd.Series:
    """The fast path of a whole-number column the C parser read as numbers."""
    whole = values.dtype.kind in "iu"  # read as integers: none missing, none fractional
    numbers = values.to_numpy() if whole else values.to_numpy(dtype=float)
    missing = np.zeros(len(numbers), dtype=bool) if whole else np.isnan(numbers)

    def refuse(bad: np.ndarray, expected: str) -> None:
        if bad.any():
            i = int(bad.argmax())
            raise DataError(where, f"expected {expected}; got {show(values.iloc[i])}",
                            row=i + 1, column=column.name)

    if missing.any() and not column.nullable:
        raise DataError(where, "value is empty", row=int(missing.argmax()) + 1,
                        column=column.name)
    with np.errstate(invalid="ignore"):
        if not whole:
            refuse(~missing & (numbers % 1 != 0), "a whole number")
        refuse((numbers > MAX_INT) | (numbers < -MAX_INT), f"a number of at most {MAX_INT:,}")
        if column.minimum is not None:
            refuse(numbers < column.minimum, f"a number of at least {column.minimum}")
        if column.maximum is not None:
            refuse(numbers > column.maximum, f"a number of at most {column.maximum}")
    return values.astype("Int64") if column.nullable else values.astype("int64")


def _strictly_increasing(values: pd.Series) -> bool:
    """Whether each value sorts after the one before: ids written in order are then unique
    without hashing them all."""
    array = values.to_numpy(dtype=object)
    try:
        return bool((array[1:] > array[:-1]).all())
    except TypeError:  # values that do not compare (never from read_csv's text columns)
        return False


def _check_column(
    values: pd.Series, column: schema.Column, where: str,
    seen: dict[str, Distinct] | None = None,
) -> pd.Series:
    if column.kind == "int" and pd.api.types.is_numeric_dtype(values):
        return _check_parsed_numbers(values, column, where)
    if column.kind == "int":  # a column the parser could not read as numbers: check as text
        values = values.where(values.notna(), "").astype(str).astype(object)
    # Every check runs on the distinct values, then maps back to rows: a million coded
    # segments cost what their distinct participants, codes and texts cost.
    in_order = column.unique and _strictly_increasing(values)
    if in_order:  # every value is already distinct
        codes, distinct = np.arange(len(values)), values.reset_index(drop=True)
    else:
        codes, uniques = pd.factorize(values)
        distinct = pd.Series(np.asarray(uniques, dtype=object))
    joined = "\n".join(distinct.tolist())
    empty_u = _blank(distinct, joined)
    present_u = ~empty_u

    def refuse(bad_u: np.ndarray, expected: str) -> None:
        if bad_u.any():
            i = int(bad_u[codes].argmax())
            raise DataError(
                where, f"expected {expected}; got {show(values.iloc[i])}", row=i + 1,
                column=column.name,
            )

    if empty_u.any() and not column.nullable:
        i = int(empty_u[codes].argmax())
        raise DataError(where, "value is empty", row=i + 1, column=column.name)
    if column.kind == "int":
        numbers = pd.to_numeric(distinct.where(present_u), errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            refuse(present_u & (np.isnan(numbers) | (numbers % 1 != 0)), "a whole number")
            refuse(present_u & (np.abs(numbers) > MAX_INT), f"a number of at most {MAX_INT:,}")
            if column.minimum is not None:
                refuse(present_u & (numbers < column.minimum),
                       f"a number of at least {column.minimum}")
            if column.maximum is not None:
                refuse(present_u & (numbers > column.maximum),
                       f"a number of at most {column.maximum}")
        rows = pd.Series(numbers[codes], index=values.index)
        return rows.astype("Int64") if column.nullable else rows.astype("int64")
    if column.kind == "date":
        dates = pd.to_datetime(distinct.where(present_u), format="%Y-%m-%d", errors="coerce")
        refuse(present_u & dates.isna().to_numpy(), "a date written YYYY-MM-DD")
        return pd.Series(dates.to_numpy()[codes], index=values.index)
    if column.allowed is not None:
        refuse(present_u & ~distinct.isin(column.allowed).to_numpy(),
               f"one of {', '.join(column.allowed)}")
    if column.pattern is not None:
        refuse(present_u & ~_all_match(column.pattern, distinct, joined),
               f"a value matching {column.pattern}")
    if seen is not None:
        seen[column.name] = Distinct(codes, distinct, present_u)
    if column.unique and not in_order:
        repeated = pd.Series(codes).duplicated().to_numpy() & present_u[codes]
        if repeated.any():
            i = int(repeated.argmax())
            raise DataError(where, "expected a unique value (it repeats an earlier row); got "
                            f"{show(values.iloc[i])}", row=i + 1, column=column.name)
    return values.where(~empty_u[codes], None) if column.nullable else values


def check_provenance(distinct: Distinct, columns: list[str], where: str) -> None:
    """Refuse a provenance that names a column its table does not have."""
    named = distinct.values.str.extract(schema.SYNTHETIC_COLUMNS)[0].dropna()
    for k, names in named.items():
        for name in names.split(", "):
            if name not in columns:
                row = int(np.argmax(distinct.codes == k)) + 1  # first row with this value
                raise DataError(where, f"provenance names unknown column {name!r}",
                                row=row, column="provenance")


def load_transcripts(data_dir: Path, participant_ids: list[str],
                     max_bytes: int) -> dict[str, str] | None:
    """``transcripts/<participant_id>.txt`` of each known participant that has one, or None
    without the folder.

    Only those names are read: any other file in the folder is not the study's and is
    ignored (a segment whose participant lacks a transcript is refused by the rules).
    """
    folder = data_dir / schema.TRANSCRIPTS_DIR
    if folder.is_symlink():
        raise DataError(_shown_path(folder), "is a symbolic link; links are not followed "
                        "(make it a folder of the data directory)")
    if not folder.is_dir():
        return None
    paths = {pid: folder / f"{pid}.txt" for pid in participant_ids}
    return {pid: read_bytes_checked(path, max_bytes) for pid, path in paths.items()
            if os.path.lexists(path)}
