"""The word-to-count convention, checked on cases worked by hand for N = 8 and N = 20."""

from __future__ import annotations

import pytest

from psu_study import quantifiers
from psu_study.paths import REPO_ROOT


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


@pytest.mark.parametrize(("word", "smallest"), [
    # By hand from the convention: some = 2..N//2 needs N//2 >= 2, so N >= 4; several =
    # 3..N//2 needs N >= 6; many = ceil(N/2)..N-1 needs N - 1 >= 1, so N >= 2; most =
    # N//2+1..N-1: N = 2 gives 2..1, N = 3 gives 2..2, so N >= 3; none, one, all hold at N = 1.
    ("some", 4), ("several", 6), ("many", 2), ("most", 3), ("none", 1), ("one", 1), ("all", 1),
])
def test_each_word_is_checkable_from_its_smallest_n(word, smallest):
    assert quantifiers.smallest_n(word) == smallest
    for n in range(1, 41):
        assert quantifiers.checkable(word, n) is (n >= smallest), (word, n)
        if n >= smallest:
            low, high = quantifiers.count_range(word, n)
            assert 0 <= low <= high <= n, (word, n)
        else:
            with pytest.raises(quantifiers.Uncheckable, match=f"cannot be checked among {n}"):
                quantifiers.count_range(word, n)


def test_several_at_five_says_why_and_describes_no_count():
    # 3 to 5 // 2 = 2: empty. The message gives the N from which it can be checked.
    with pytest.raises(quantifiers.Uncheckable, match="below N = 6"):
        quantifiers.count_range("several", 5)
    assert not any(quantifiers.holds("several", k, 5) for k in range(6))


def test_the_conventions_wording_is_the_datasheets():
    # data/README.md, "Verbal quantifiers: the word-to-count convention", is written by hand:
    # each row's rule, its counts for N = 8 and whether it is a fact or a convention must be
    # what the ranges say (their wording is generated from the same bounds as their counts).
    readme = (REPO_ROOT / "data" / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Verbal quantifiers")[1].split("| word |")[1].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in table.splitlines()[2:]]
    assert [r[0].split()[0] for r in rows] == list(quantifiers.QUANTIFIERS)
    for word, rule, at_eight, status in ([c.strip() for c in r] for r in rows):
        word = word.split()[0]
        assert quantifiers.CONVENTION[word].startswith(rule.replace(", ", " and ") + " ("), word
        assert quantifiers.IS_CONVENTION[word] is (status == "convention"), word
        low, high = quantifiers.count_range(word, 8)
        assert at_eight == (str(low) if low == high else f"{low}-{high}"), word
