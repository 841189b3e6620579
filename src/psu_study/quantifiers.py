"""What the article's verbal quantifiers mean as counts of participants.

The article never defines its words; this mapping is the project's documented convention
(data/README.md), stated as proportions of the N participants so that it scales to other
data. For N = 8: one = 1; some = 2-4; several = 3-4; many = 4-7; most = 5-7; all = 8; none = 0.

At small N a convention can admit no count at all ("several", at least 3 and at most half,
needs N >= 6). The word is then not given a range it was never meant to have: the claim
cannot be checked at that N, and ``count_range`` says so (``Uncheckable``); ``smallest_n``
gives the N from which each word can be checked.
"""

from __future__ import annotations

import math

QUANTIFIERS = ("none", "one", "some", "several", "many", "most", "all")
CONVENTION = {
    "none": "exactly 0 (a fact, not a convention)",
    "one": "exactly 1 (a fact, not a convention)",
    "some": "at least 2 and at most half of N (convention)",
    "several": "at least 3 and at most half of N (convention)",
    "many": "at least half of N and fewer than N (convention)",
    "most": "more than half of N and fewer than N (convention)",
    "all": "exactly N (a fact, not a convention)",
}
IS_CONVENTION = {word: "(convention)" in text for word, text in CONVENTION.items()}


class Uncheckable(ValueError):
    """The convention admits no count for this word at this N: the claim cannot be checked."""


def _ranges(word: str, n: int) -> tuple[int, int]:
    if n < 1:
        raise ValueError(f"need at least one participant, got {n}")
    word = word.lower()
    ranges = {
        "none": (0, 0),
        "one": (1, 1),
        "some": (2, n // 2),
        "several": (3, n // 2),
        "many": (math.ceil(n / 2), n - 1),
        "most": (n // 2 + 1, n - 1),
        "all": (n, n),
    }
    if word not in ranges:
        raise ValueError(f"unknown quantifier {word!r}; known: {', '.join(QUANTIFIERS)}")
    return ranges[word]


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
