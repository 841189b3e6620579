"""How a tool counted a project's selection positions (UTF-16 units or code points, a
byte-order mark, CRLF as one character or two), found from how the selections fit the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn
from xml.etree import ElementTree as ET

import numpy as np

from .archive import QdaError
from .project import _Source


@dataclass
class _Span:
    source: int
    element: ET.Element
    start: int
    end: int


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Reading:
    """One way a tool may have counted positions: in UTF-16 code units (NVivo) or code
    points (the standard), with the file's byte-order mark counted as a character or not,
    and a CRLF line end as one character or two."""

    utf16: bool
    bom: bool
    crlf_one: bool

    @property
    def name(self) -> str:
        return ("utf16" if self.utf16 else "codepoint") + ("+bom" if self.bom else "") + (
            "+crlf1" if self.crlf_one else "")

    @property
    def description(self) -> str:
        return (f"{'UTF-16 code units' if self.utf16 else 'code points'}, BOM "
                f"{'counted' if self.bom else 'not counted'}, CRLF as "
                f"{'one character' if self.crlf_one else 'two'}")


READINGS = tuple(_Reading(u, b, c) for u in (False, True) for b in (False, True)
                 for c in (False, True))
"""Every reading, the standard's (code points, no BOM, CRLF as two) first: ties go to the
earlier one."""
OFFSET_NAMES = tuple(r.name for r in READINGS)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class _Layout:
    """Where a text's counts differ between readings: the code-point index of each
    character outside the BMP and of each CRLF's CR. Memory grows with those characters
    (8 bytes each), not with the text."""

    length: int
    bom: bool
    astral: np.ndarray
    crlf: np.ndarray

    @classmethod
    def of(cls, source: _Source) -> _Layout:
        text = source.text
        wide = bool(text) and max(text) > "\uffff"
        return cls(len(text), source.bom,
                   np.fromiter((m.start() for m in _ASTRAL.finditer(text)), np.int64)
                   if wide else _EMPTY,
                   np.fromiter((m.start() for m in re.finditer("\r\n", text)), np.int64)
                   if "\r\n" in text else _EMPTY)

    def units(self) -> int:
        """The text's length in the longest reading (UTF-16 units, BOM counted)."""
        return self.length + len(self.astral) + int(self.bom)


def _to_code_points(layout: _Layout, raw: np.ndarray, reading: _Reading) -> np.ndarray | None:
    """Positions (any shape) read under ``reading``, as code-point indices into the text
    as written (BOM removed, CRLF kept); None if one splits a surrogate pair or leaves
    the text."""
    if (raw < 0).any():
        return None
    points = raw.astype(np.int64)
    if reading.bom and layout.bom:
        points = np.maximum(points - 1, 0)  # 0 is before the mark: the text's start
    astral, newlines = layout.astral, _EMPTY
    if reading.crlf_one and len(layout.crlf):
        # In the counted text each CRLF is one LF, at its CR's index less the CRs before it.
        newlines = layout.crlf - np.arange(len(layout.crlf))
        astral = astral - np.searchsorted(layout.crlf, astral)
    if reading.utf16 and len(astral):
        high = astral + np.arange(len(astral))  # each one's high surrogate, in units
        if np.isin(points, high + 1).any():
            return None
        points = points - np.searchsorted(high + 2, points, side="right")
    if len(newlines):
        points = points + np.searchsorted(newlines, points, side="left")
    return None if (points > layout.length).any() else points


def _start_clean(text: str, start: int) -> bool:
    if start == 0 or text[start - 1] == "\n":
        return True
    before, at = text[start - 1], text[start]
    return not at.isspace() and not (before.isalnum() and at.isalnum())


def _end_clean(text: str, end: int) -> bool:
    if end == len(text) or text[end - 1] == "\n" or text[end] == "\r" or (
            text[end] == "\n" and text[end - 1] != "\r"):
        return True
    before, at = text[end - 1], text[end]
    return not before.isspace() and not (before.isalnum() and at.isalnum())


def _clean_ends(text: str, start: int, end: int) -> int:
    """How many of a span's two ends sit where a person selecting text puts them: at the
    text's or a line's start or end, or between a word and a space or punctuation; never
    inside a word, on the space beside it, or between a CR and its LF."""
    if start >= end:
        return 0
    return _start_clean(text, start) + _end_clean(text, end)


def _detect_offsets(where: str, sources: list[_Source], spans: list[_Span],
                    forced: str | None = None) -> tuple[str, str, np.ndarray]:
    """The reading of the selections' positions under which they fit the text best.

    Every reading that keeps each span inside its text (and off half a surrogate pair) is
    scored by how many selection names match the text it cuts, then by how many span ends
    fall on word or line boundaries; the best wins, the standard's on a tie. Refused when
    no reading fits or the best still cuts most spans mid-word (``forced`` names a reading
    to use regardless)."""
    layouts = [_Layout.of(s) for s in sources]
    rows: dict[int, list[int]] = {}
    for i, span in enumerate(spans):
        rows.setdefault(span.source, []).append(i)
    raw = np.array([(s.start, s.end) for s in spans], dtype=np.int64).reshape(-1, 2)
    relevant = [r for r in READINGS
                if (not r.utf16 or any(len(x.astral) for x in layouts))
                and (not r.bom or any(x.bom for x in layouts))
                and (not r.crlf_one or any(len(x.crlf) for x in layouts))]
    if forced is not None:
        relevant = [r for r in READINGS if r.name == forced]
        if not relevant:
            raise QdaError(where, f"unknown offset reading {forced!r}; one of "
                           f"{', '.join(OFFSET_NAMES)}")
    names = [_norm(s.element.get("name") or "").rstrip("…. ") for s in spans]
    scored: list[tuple[int, int, int, _Reading, np.ndarray]] = []
    for order, reading in enumerate(relevant):
        points = np.empty_like(raw)
        for source, indices in rows.items():
            mapped = _to_code_points(layouts[source], raw[indices], reading)
            if mapped is None or (mapped[:, 0] > mapped[:, 1]).any():
                break
            points[indices] = mapped
        else:
            matches = ends = 0
            for span, name, (start, end) in zip(spans, names, points.tolist(), strict=True):
                text = sources[span.source].text
                ends += _clean_ends(text, start, end)
                matches += bool(name) and _norm(text[start:end]).startswith(name)
            scored.append((matches, ends, -order, reading, points))
    if not scored:
        _refuse_span(where, sources, spans, layouts)
    scored.sort(key=lambda s: s[:3], reverse=True)
    matches, ends, _, best, points = scored[0]
    named, total = sum(map(bool, names)), 2 * len(spans)

    def score(m: int, e: int) -> str:
        return (f"selection names match {m} of {named} spans, " if named else "") + (
            f"{e} of {total} span ends on word or line boundaries")

    if forced is not None:
        return best.name, f"{best.description}, as asked; {score(matches, ends)}", points
    if not spans:
        return best.name, "no selections to place", points
    if 2 * ends < total and 2 * matches <= named:
        raise QdaError(where, f"no reading of the selection positions fits the text: the "
                       f"best, {best.name} ({best.description}), has {score(matches, ends)}; "
                       "if the project is right, import with --offsets NAME (one of "
                       f"{', '.join(OFFSET_NAMES)})")
    if len(scored) == 1:
        others = "the only reading that keeps every span inside its text"
    else:
        m2, e2, _, runner, _ = scored[1]
        tie = " (a tie: the standard's convention is assumed)" if (m2, e2) == (
            matches, ends) else ""
        others = f"next best {runner.name}: {score(m2, e2)}{tie}"
        if len(relevant) > len(scored):
            others += (f"; {len(relevant) - len(scored)} of {len(relevant)} readings put a "
                       "span outside its text")
    return best.name, f"{best.description}: {score(matches, ends)}; {others}", points


def _refuse_span(where: str, sources: list[_Source], spans: list[_Span],
                 layouts: list[_Layout]) -> NoReturn:
    for span in spans:
        if not 0 <= span.start <= span.end <= layouts[span.source].units():
            raise QdaError(where, f"PlainTextSelection {str(span.element.get('guid'))[:40]} "
                           f"in source {sources[span.source].name[:80]!r}: positions "
                           f"{span.start}-{span.end} lie outside its text "
                           f"({layouts[span.source].length} characters)")
    raise QdaError(where, "selection positions fit no reading (code points or UTF-16 units, "
                   "BOM counted or not, CRLF as one or two): some split a character or run "
                   "past the text")
