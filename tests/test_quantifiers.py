"""The word-to-count convention, checked on cases worked by hand for N = 8 and N = 20."""

from __future__ import annotations

import pytest

from psu_study import quantifiers


@pytest.mark.parametrize(("word", "n", "expected"), [
    ("all", 8, (8, 8)), ("none", 8, (0, 0)), ("one", 8, (1, 1)),
    ("some", 8, (2, 4)), ("several", 8, (3, 4)), ("many", 8, (4, 7)), ("most", 8, (5, 7)),
    ("some", 20, (2, 10)), ("many", 20, (10, 19)), ("most", 20, (11, 19)),
    ("many", 7, (4, 6)), ("most", 7, (4, 6)),
])
def test_count_range(word, n, expected):
    assert quantifiers.count_range(word, n) == expected


@pytest.mark.parametrize(("word", "count", "ok"), [
    ("all", 7, False), ("most", 8, False), ("most", 4, False), ("some", 1, False),
    ("some", 5, False), ("several", 2, False), ("one", 2, False), ("many", 3, False),
    ("many", 4, True), ("several", 3, True),
])
def test_holds_on_eight(word, count, ok):
    assert quantifiers.holds(word, count, 8) is ok


def test_unknown_word_is_refused():
    with pytest.raises(ValueError, match="unknown quantifier"):
        quantifiers.count_range("a few", 8)
