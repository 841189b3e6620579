"""Text search (keyword in context): where a word, phrase or regular expression occurs in the
transcripts, or in the coded segments' own text where a study has none, with the codes whose
passages cover each hit (NVivo's text search query, QualCoder's text search).

Matching ignores case and accents as a reader expects ("cafe" finds "Café", "STRASSE"
finds "Straße"): both sides are case-folded and stripped of combining marks after Unicode
decomposition. Every offset reported is in the original text's code points (the offsets of
``segments.start``/``end``), however many characters normalising added or removed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from .codebook_summary import tree_order

DEFAULT_CONTEXT = 40
"""Characters of context shown on each side of a hit."""
COLUMNS = ("Participant", "Source", "Start", "End", "Left", "Match", "Right", "Codes")


def fold(text: str) -> str:
    """One character (or any text) as matching sees it: case-folded, decomposed, without
    combining marks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Folded:
    """A text as matching sees it, with the original position of every folded character."""

    text: str
    origin: list[int]

    @classmethod
    def of(cls, text: str) -> Folded:
        chars: list[str] = []
        origin: list[int] = []
        for i, char in enumerate(text):
            folded = fold(char)
            chars.append(folded)
            origin.extend([i] * len(folded))
        return cls("".join(chars), origin)

    def span(self, start: int, end: int, original: str) -> tuple[int, int]:
        """The original span of the folded span ``[start, end)``: from the character that gave
        its first folded character to the one after the character that gave its last, plus any
        combining marks that follow it (they folded to nothing but belong to the match)."""
        first = self.origin[start]
        after = self.origin[end - 1] + 1
        while after < len(original) and not fold(original[after]):
            after += 1
        return first, after


def pattern(query: str, regex: bool = False, whole_word: bool = False) -> re.Pattern[str]:
    """The compiled search: a phrase (any run of whitespace in it matches any run in the
    text, so a phrase across a line break is found) or a regular expression, folded like the
    text; ``whole_word`` keeps a hit from starting or ending inside a word."""
    if not query.strip():
        raise ValueError("the search term is empty")
    if regex:
        # Accents are dropped from the expression as from the text; its case is left to
        # IGNORECASE, since folding would turn \S into \s.
        body = "".join(c for c in unicodedata.normalize("NFKD", query)
                       if not unicodedata.combining(c))
    else:
        body = r"\s+".join(re.escape(fold(part)) for part in query.split())
    if whole_word:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    try:
        return re.compile(body, re.IGNORECASE)
    except re.error as error:
        raise ValueError(f"the search term {query!r} is not a valid regular expression: "
                         f"{error}") from None


def find(text: str, compiled: re.Pattern[str]) -> list[tuple[int, int]]:
    """Every non-empty hit of ``compiled`` in ``text``, as original code-point spans."""
    folded = Folded.of(text)
    return [folded.span(m.start(), m.end(), text) for m in compiled.finditer(folded.text)
            if m.end() > m.start()]


def _one_line(text: str) -> str:
    """Context as one line: each run of whitespace (a line break too) as one space."""
    return re.sub(r"\s+", " ", text)


def _codes(spans: pd.DataFrame, start: int, end: int, labels: dict[str, str]) -> str:
    """The codes (tree order) of the coded passages in ``spans`` that overlap [start, end)."""
    over = spans[(spans["start"] < end) & (spans["end"] > start)]
    present = set(over["code_id"])
    return "; ".join(label for code, label in labels.items() if code in present)


def search(study_segments: pd.DataFrame, codebook: pd.DataFrame,
           transcripts: dict[str, str] | None, query: str, *, regex: bool = False,
           whole_word: bool = False, context: int = DEFAULT_CONTEXT,
           coder: str | None = None) -> pd.DataFrame:
    """Keyword in context: one row per hit, with its participant, where it is (the
    transcript, or the segment whose text it is in when there are no transcripts), its
    original offsets, ``context`` characters each side, and the covering codes (of
    ``coder``'s coding; every coder's when None), in the data's order."""
    compiled = pattern(query, regex, whole_word)
    if context < 0:
        raise ValueError(f"context must be 0 or more characters; got {context}")
    segments = study_segments if coder is None else \
        study_segments[study_segments["coder"] == coder]
    ordered = tree_order(codebook)
    labels = dict(zip(ordered["code_id"], ordered["code_id"] + " " + ordered["name"],
                      strict=True))
    if transcripts is not None:
        texts = [(pid, f"transcripts/{pid}.txt", text, segments[segments["participant_id"]
                                                                == pid])
                 for pid, text in transcripts.items()]
    else:  # each distinct passage once; the codes of every segment holding that text cover it
        texts = [(pid, ", ".join(group["segment_id"]), text,
                  group.assign(start=0, end=len(text)))
                 for (pid, text), group in segments.groupby(["participant_id", "text"],
                                                            sort=False)]
    rows = []
    for pid, source, text, spans in texts:
        for start, end in find(text, compiled):
            rows.append((pid, source, start, end, _one_line(text[max(0, start - context):start]),
                         text[start:end], _one_line(text[end:end + context]),
                         _codes(spans, start, end, labels)))
    return pd.DataFrame(rows, columns=list(COLUMNS))
