"""What the article's verbal quantifiers mean as counts of participants, and back.

The article never defines its words; this mapping is the project's documented convention
(data/README.md), stated as proportions of the N participants so that it scales to other
data. For N = 8: one = 1; some = 2-4; several = 3-4; many = 4-7; most = 5-7; all = 8; none = 0.

Each word's range is defined once, as two bounds that carry both their wording and their count
(``RANGES``): the convention's prose (``CONVENTION``), which words are conventions rather than
facts (``IS_CONVENTION``), the counts a word admits (``count_range``) and the word a count is
given (``quantity_word``) all follow from it.

At small N a convention can admit no count at all ("several", at least 3 and at most half,
needs N >= 6). The word is then not given a range it was never meant to have: the claim
cannot be checked at that N, and ``count_range`` says so (``Uncheckable``); ``smallest_n``
gives the N from which each word can be checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """One end of a word's range: as the convention words it, and as a count among n."""

    words: str
    at: Callable[[int], int]


_NONE = Bound("exactly 0", lambda n: 0)
_ONE = Bound("exactly 1", lambda n: 1)
_ALL = Bound("exactly N", lambda n: n)
_HALF_DOWN = Bound("at most half of N", lambda n: n // 2)
_FEWER_THAN_ALL = Bound("fewer than N", lambda n: n - 1)

RANGES: dict[str, tuple[Bound, Bound]] = {
    # word: (lowest count, highest count); one bound for both ends is a fact, not a convention
    "none": (_NONE, _NONE),
    "one": (_ONE, _ONE),
    "some": (Bound("at least 2", lambda n: 2), _HALF_DOWN),
    "several": (Bound("at least 3", lambda n: 3), _HALF_DOWN),
    "many": (Bound("at least half of N", lambda n: math.ceil(n / 2)), _FEWER_THAN_ALL),
    "most": (Bound("more than half of N", lambda n: n // 2 + 1), _FEWER_THAN_ALL),
    "all": (_ALL, _ALL),
}
QUANTIFIERS = tuple(RANGES)
IS_CONVENTION = {word: low is not high for word, (low, high) in RANGES.items()}
CONVENTION = {
    word: (f"{low.words} and {high.words} (convention)" if IS_CONVENTION[word]
           else f"{low.words} (a fact, not a convention)")
    for word, (low, high) in RANGES.items()
}
"""Each word's rule in words, as data/README.md states it."""


class Uncheckable(ValueError):
    """The convention admits no count for this word at this N: the claim cannot be checked."""


def _ranges(word: str, n: int) -> tuple[int, int]:
    if n < 1:
        raise ValueError(f"need at least one participant, got {n}")
    word = word.lower()
    if word not in RANGES:
        raise ValueError(f"unknown quantifier {word!r}; known: {', '.join(QUANTIFIERS)}")
    low, high = RANGES[word]
    return low.at(n), high.at(n)


def smallest_n(word: str) -> int:
    """The fewest participants at which ``word`` admits at least one count."""
    n = 1
    while _ranges(word, n)[0] > _ranges(word, n)[1]:
        n += 1
    return n


def checkable(word: str, n: int) -> bool:
    """Whether the convention gives ``word`` a non-empty range among ``n`` participants."""
    low, high = _ranges(word, n)
    return low <= high


def count_range(word: str, n: int) -> tuple[int, int]:
    """Inclusive, non-empty range of participant counts that ``word`` admits among ``n``
    participants; ``Uncheckable`` where the convention admits none."""
    if not checkable(word, n):
        rule = CONVENTION[word.lower()].removesuffix(" (convention)")
        raise Uncheckable(f"'{word.lower()}' cannot be checked among {n} participant(s): the "
                          f"convention ({rule}) admits no count below N = {smallest_n(word)}")
    return _ranges(word, n)


def holds(word: str, count: int, n: int) -> bool:
    """Whether ``count`` of ``n`` participants is described truthfully by ``word``; never,
    where the convention admits no count at this N (a claim checker says "cannot be
    checked" instead, from ``count_range``)."""
    if not checkable(word, n):
        return False
    low, high = count_range(word, n)
    return low <= count <= high


def quantity_word(count: int, n: int) -> str:
    """The word the convention gives ``count`` of ``n`` participants (``holds`` read
    backwards): of the words that hold, the one that says most (the narrowest range; ties go
    to the earlier word), so "one" and "all" win where they hold and "several" says more than
    "some". A count no word describes (more than ``n``) is a ``ValueError``."""
    fitting = [w for w in QUANTIFIERS if holds(w, count, n)]
    if not fitting:
        raise ValueError(f"no quantifier of the convention describes {count} of {n}")

    def width(word: str) -> int:
        low, high = count_range(word, n)
        return high - low

    return min(fitting, key=lambda w: (width(w), QUANTIFIERS.index(w)))
