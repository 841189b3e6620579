"""Disclosure control: keep direct identifiers and small counts out of every output.

The real interview data are confidential and are analysed by Deanery staff on shared servers;
anything the notebooks print, save or tabulate may end up in a report. This module finds
direct identifiers in text (``scan_text``, ``scan_frame``, ``scan_notebook``) and suppresses
small counts in participant-characteristic tables (``suppress_small_cells``). No message it
produces contains a whole identifier: at most its first two characters.

``docs/confidential-data.md`` documents each detection rule and its known limits.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import staging
from .notebook_files import cell_text

if TYPE_CHECKING:  # nbformat costs a kernel ~1 s to import, pandas the runner ~0.9 s (it
    # scans executed notebooks, which needs neither): only their types are needed here
    import nbformat
    import pandas as pd

DISCLOSURE_DIR = "disclosure"
"""The folder, inside a data folder, of the analyst's names list and allow list."""

KIND_LABELS = {
    "email": "an e-mail address",
    "phone": "a UK phone number",
    "nhs_number": "an NHS number",
    "gmc_number": "a GMC number",
    "postcode": "a UK postcode",
    "date_of_birth": "a date of birth",
    "name": "a personal name from the names list",
}
"""Every kind of identifier ``scan_text`` reports, with the words its errors use."""

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)

_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ -]?(?:\(0\)[ -]?)?|\(?0)[1-9]\d{1,4}\)?(?:[ -]?\d){5,8}(?!\d)"
)
"""A candidate: +44 (optionally "(0)") or a leading 0, an area/mobile prefix, then digits
with single spaces or hyphens. ``_phone_ok`` then requires 9 or 10 digits after the 0/+44."""

_NHS = re.compile(r"(?<![\w-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w-])")
"""Ten digits, bare or grouped 3-3-4 with the same separator; ``_nhs_ok`` checks the digit."""

_GMC = re.compile(
    r"\b(?:GMC|General Medical Council)\b[^\d\n]{0,25}?(?<!\d)(\d{7})(?!\d)", re.IGNORECASE
)
"""Seven digits following "GMC" or "General Medical Council" within 25 characters of
non-digits on the same line ("GMC 1234567", "GMC no. 1234567", "GMC reference number:
1234567"). A bare seven-digit number is not flagged: too many counts and ids look alike."""

_POSTCODE = re.compile(
    r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) ?\d[ABD-HJLNP-UW-Z]{2}\b|\bGIR ?0AA\b"
)
"""Upper-case UK postcodes with or without the space. Lower case is not matched: "st4 3rd"
and "fy1 2nd" read as postcodes, and training stages are everywhere in this study."""

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTHS},? \d{{4}}"
    rf"|{_MONTHS} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
)
_DOB = re.compile(
    rf"\b(?:born|d\.?o\.?b\.?|date of birth|birth ?date|birthday)\b[^\d\n]{{0,25}}?({_DATE})(?!\d)",
    re.IGNORECASE,
)
"""A full date (day, month and year, in any common form) at most 25 non-digit characters
after "born", "DOB"/"D.O.B.", "date of birth", "birth date" or "birthday". Dates elsewhere
(interview dates, contact dates) are study data, not identifiers."""


@dataclass(frozen=True)
class Finding:
    """One identifier in a string: where it is and a masked form safe to print."""

    kind: str
    start: int
    end: int
    masked: str


class DisclosureError(ValueError):
    """An output would carry a direct identifier; says where and what kind, never the value."""

    def __init__(
        self,
        file: str,
        row: int | None,
        column: str | None,
        kind: str,
        masked: str = "",
        *,
        cell: int | None = None,
        output: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.kind = str(file), row, column, kind
        self.cell, self.output = cell, output
        where = [self.file]
        if cell is not None:
            where.append(f"cell {cell}")
        if output is not None:
            where.append(f"output {output}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        shown = f" ({masked})" if masked else ""
        super().__init__(
            f"{', '.join(where)}: contains {KIND_LABELS.get(kind, kind)}{shown}; remove it, or "
            "add the exact value to the allow file if it is approved for publication"
        )


def mask(value: str) -> str:
    """A value cut to at most its first two characters, never all of a short one."""
    keep = 2 if len(value) >= 6 else 1 if len(value) >= 3 else 0
    return value[:keep] + "…"


def _normal(value: str) -> str:
    return " ".join(value.split()).casefold()


def _nhs_ok(digits: str) -> bool:
    """The NHS modulus-11 check: weights 10..2 on the first nine digits."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phone_ok(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    national = digits[2:] if text.startswith("+") else digits[1:]
    if text.startswith("+") and "(0)" in text:
        national = national[1:]
    return len(national) in (9, 10)


def _names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word pattern for every name, longest first."""
    words = sorted({" ".join(n.split()) for n in names if n.strip()}, key=len, reverse=True)
    if not words:
        return None
    body = "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in words)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _raw_findings(text: str, names: re.Pattern[str] | None) -> list[tuple[str, int, int]]:
    found = [("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [("phone", m.start(), m.end()) for m in _PHONE.finditer(text) if _phone_ok(m[0])]
    found += [
        ("nhs_number", m.start(), m.end())
        for m in _NHS.finditer(text)
        if _nhs_ok(m[1] + m[3] + m[4])
    ]
    found += [("gmc_number", m.start(1), m.end(1)) for m in _GMC.finditer(text)]
    found += [("postcode", m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    found += [("date_of_birth", m.start(1), m.end(1)) for m in _DOB.finditer(text)]
    if names is not None:
        found += [("name", m.start(), m.end()) for m in names.finditer(text)]
    return found


class _Scanner:
    """Compiled names and normalised allow list, reused across many strings."""

    def __init__(self, names: Iterable[str], allow: Iterable[str]) -> None:
        self.names = _names_pattern(names)
        self.allow = {_normal(a) for a in allow if a.strip()}

    def scan(self, text: str) -> list[Finding]:
        hits = [
            Finding(kind, start, end, mask(text[start:end]))
            for kind, start, end in _raw_findings(text, self.names)
            if _normal(text[start:end]) not in self.allow
        ]
        return sorted(hits, key=lambda f: (f.start, f.end, f.kind))


def scan_text(text: str, names: Iterable[str] = (), allow: Iterable[str] = ()) -> list[Finding]:
    """Every identifier in ``text``, in order; a hit whose matched text equals an ``allow``
    entry (ignoring case and runs of whitespace) is not reported."""
    return _Scanner(names, allow).scan(text)


def scan_frame(
    df: pd.DataFrame, file_label: str, names: Iterable[str] = (), allow: Iterable[str] = ()
) -> None:
    """Refuse a table holding an identifier anywhere: header (row 0) or any cell.

    Raises ``DisclosureError`` for the first hit in reading order (row by row). Each distinct
    value is scanned once, so a million coded segments cost what their distinct texts cost.
    """
    scanner = _Scanner(names, allow)
    for column in df.columns:
        hits = scanner.scan(str(column))
        if hits:
            raise DisclosureError(file_label, 0, str(column), hits[0].kind, hits[0].masked)
    first: tuple[int, int, Finding] | None = None
    for j in range(df.shape[1]):
        values = df.iloc[:, j]
        present = values.notna().to_numpy()
        texts = values[present].astype(str)
        found = {v: scanner.scan(v) for v in texts.unique()}
        flagged = texts.map(lambda v, found=found: bool(found[v])).to_numpy()
        if not flagged.any():
            continue
        i = int(present.nonzero()[0][flagged.argmax()])
        if first is None or i < first[0]:
            first = (i, j, found[texts.iloc[int(flagged.argmax())]][0])
    if first is not None:
        i, j, hit = first
        raise DisclosureError(file_label, i + 1, str(df.columns[j]), hit.kind, hit.masked)


def _output_texts(output: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(label, text) for every textual part of one cell output; images are skipped."""
    kind = output.get("output_type")
    if kind == "stream":
        return [(output.get("name", "stream"), cell_text(output.get("text", "")))]
    if kind == "error":
        parts = [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
        return [("error", "\n".join(parts))]
    data = output.get("data", {})
    return [(mime, cell_text(value)) for mime, value in data.items() if mime.startswith("text/")]


def scan_notebook(
    nb: nbformat.NotebookNode, label: str, names: Iterable[str] = (), allow: Iterable[str] = ()
) -> None:
    """Refuse a notebook whose saved outputs (stream, error and every text/* form of a
    result: plain, HTML, Markdown, LaTeX) carry an identifier; names the cell (0-based, as
    nbformat counts) and the output (its index and MIME type or stream name)."""
    scanner = _Scanner(names, allow)
    for c, cell in enumerate(nb.get("cells", [])):
        for o, output in enumerate(cell.get("outputs", [])):
            for part, text in _output_texts(output):
                hits = scanner.scan(text)
                if hits:
                    raise DisclosureError(label, None, None, hits[0].kind, hits[0].masked,
                                          cell=c, output=f"{o} ({part})")


def load_list(path: str | Path) -> tuple[str, ...]:
    """Entries of a names or allow file: one per line; blank lines, lines starting with '#'
    and anything after whitespace + '#' (a note on why a value is approved) are ignored."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        entry = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if entry:
            entries.append(entry)
    return tuple(entries)


def list_paths(data_dir: Path) -> tuple[Path, Path]:
    """Where a data folder keeps its names list and its allow list."""
    return data_dir / DISCLOSURE_DIR / "names.txt", data_dir / DISCLOSURE_DIR / "allow.txt"


def disclosure_lists(data_dir: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The analyst's names list and allow list, kept with the (confidential) data they
    protect: ``<data_dir>/disclosure/names.txt`` and ``allow.txt``, each optional."""
    lists = []
    for path in list_paths(data_dir):
        staging.record_read(path)  # absent too: a list added later reruns the notebook
        lists.append(load_list(path) if path.exists() else ())
    return lists[0], lists[1]


PRIMARY, SECONDARY = "primary", "secondary"
"""Why a cell is hidden: it is small, or it would let a small cell be worked out."""

SECONDARY_MARK = "[c]"
"""Shown for a count withheld only to protect a small one; it is at least the threshold, so
showing "<5" for it would be false."""


@dataclass
class SuppressionReport:
    """Which cells were hidden and why, to print or test against."""

    threshold: int
    enabled: bool
    primary: list[tuple[Hashable, str]] = field(default_factory=list)
    secondary: list[tuple[Hashable, str]] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)
    """Groups whose hidden cells could still be derived and had nothing left to hide
    (only zeros beside them and a total published outside the table)."""

    @property
    def rule(self) -> str:
        return rule_description(self.threshold, self.enabled)


SMALL_CELL_THRESHOLD = 5
"""Counts from 1 to 4 are held back: the project's small-cell rule (Table 1, matrix coding)."""


def rule_description(threshold: int = SMALL_CELL_THRESHOLD, enabled: bool = True) -> str:
    """The line printed under every table the small-cell rule touched (or could have)."""
    if not enabled:
        return "Small-cell rule off: published counts"
    return (
        f"Small-cell rule: counts below {threshold} suppressed (shown <{threshold}); "
        f"{SECONDARY_MARK} marks a count withheld so that none can be worked out from totals; "
        "zeros are shown"
    )


def _determined(values: Sequence[int], kinds: Sequence[str], threshold: int) -> bool:
    """Whether a reader who knows these hidden cells' sum can pin every one of them down.

    A primary cell lies in 1..threshold-1, a secondary one in threshold..infinity; with two
    or more cells the values are fixed only when the sum sits at an end of its range.
    """
    if len(values) < 2:
        return True
    low = sum(1 if k == PRIMARY else threshold for k in kinds)
    if sum(values) == low:
        return True
    return all(k == PRIMARY for k in kinds) and sum(values) == (threshold - 1) * len(values)


def suppress_small_cells(
    table: pd.DataFrame,
    count_columns: Sequence[str],
    threshold: int = SMALL_CELL_THRESHOLD,
    *,
    total_row: Hashable | None = None,
    total_column: str | None = None,
    column_totals_known: bool = True,
    enabled: bool = True,
) -> tuple[pd.DataFrame, SuppressionReport]:
    """Hide counts 1..threshold-1 (primary) and then enough others (secondary) that no
    hidden count can be derived by subtraction from a total.

    Groups that share a total: each count column (its total is the row labelled
    ``total_row``, or, when ``column_totals_known``, the number of participants published
    elsewhere), and each row when ``total_column`` holds row totals. While a group with a
    visible total has hidden cells that its total pins down (one hidden cell, or several
    whose sum forces each value), the smallest non-zero visible cell of the group is also
    hidden, or failing that its total. Zeros are structural (nobody in that category) and
    are always shown. With ``enabled=False`` the table passes through unchanged.
    """
    import pandas as pd  # see the imports: the runner imports this module without pandas

    report = SuppressionReport(threshold, enabled)
    if not enabled:
        return table.copy(), report
    columns = list(dict.fromkeys([*count_columns, *([total_column] if total_column else [])]))
    counts = table[columns]
    numeric = counts.apply(pd.to_numeric, errors="coerce")
    if numeric.isna().any().any() or (numeric < 0).any().any() or (numeric % 1 != 0).any().any():
        raise ValueError(f"count columns {columns} must hold whole numbers of at least 0")
    labels = list(table.index)
    if total_row is not None and total_row not in labels:
        raise ValueError(f"total_row {total_row!r} is not an index label of the table")
    value = {(r, c): int(numeric.iloc[r, j]) for r in range(len(labels)) for j, c in
             enumerate(columns)}
    body = [r for r, label in enumerate(labels) if label != total_row]
    total_r = labels.index(total_row) if total_row is not None else None
    groups: list[tuple[list[tuple[int, str]], tuple[int, str] | None]] = []
    if total_r is not None or column_totals_known:
        for c in columns:
            groups.append(([(r, c) for r in body], (total_r, c) if total_r is not None else None))
    if total_column is not None:
        members = [c for c in columns if c != total_column]
        for r in range(len(labels)):
            groups.append(([(r, c) for c in members], (r, total_column)))

    hidden = {cell: PRIMARY for cell, v in value.items() if 0 < v < threshold}
    changed = True
    while changed:
        changed = False
        for members, total in groups:
            if total is not None and total in hidden:
                continue
            inside = [m for m in members if m in hidden]
            if not inside or not _determined(
                [value[m] for m in inside], [hidden[m] for m in inside], threshold
            ):
                continue
            visible = [m for m in members if m not in hidden and value[m] > 0]
            if visible:
                pick: tuple[int, str] | None = min(
                    visible, key=lambda m: (value[m], members.index(m))
                )
            else:
                pick = total
            if pick is None:
                note = ", ".join(f"{labels[r]!r}/{c}" for r, c in inside)
                if note not in report.unprotected:
                    report.unprotected.append(note)
                continue
            hidden[pick] = SECONDARY
            changed = True

    out = table.copy()
    for c in columns:
        out[c] = out[c].astype(object)
    for (r, c), why in sorted(hidden.items(), key=lambda kv: (kv[0][0], columns.index(kv[0][1]))):
        out.iloc[r, out.columns.get_loc(c)] = f"<{threshold}" if why == PRIMARY else SECONDARY_MARK
        (report.primary if why == PRIMARY else report.secondary).append((labels[r], c))
    return out, report
