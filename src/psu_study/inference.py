"""The project's one inferential convention, and the sidedness of every p-value and interval
it writes to ``numbers.json``.

Every test the notebooks run is exact and two-sided, every interval is a two-sided 95%
interval: that is declared here, once, and the modules that compute (``demographics``,
``recruitment``, ``agreement``) take their level from here. A value computed another way
(the one-sided tail the article's discussion invites, the one-sided lower bound) is kept for
comparison, and its key says so; ``sides`` reads that from the key and refuses a p-value or
an interval whose sidedness no rule gives, so the paper never prints one it cannot label.
"""

from __future__ import annotations

import re

SIDES = "two-sided"
"""The convention's sidedness: the direction of a one-sided test would have been chosen
after seeing the sample (every participant female), so no one-sided value is headline."""
LEVEL = 0.95
"""The confidence level of every interval."""
ALPHA = round(1 - LEVEL, 12)
"""The significance level that goes with it (two-sided; rounded, so 1 - ALPHA is LEVEL
exactly in floating point)."""
TAIL_PERCENTILES = (round(100 * ALPHA / 2, 12), round(100 * (1 - ALPHA / 2), 12))
"""A two-sided percentile interval's bounds, in percent (2.5 and 97.5)."""
METHOD = "exact"
"""Tests and intervals on counts are exact (binomial, hypergeometric, Clopper-Pearson): with
counts of eight and twenty a normal approximation would mislead."""

ONE_SIDED = "one-sided"

RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^p_.*_two_sided$"), SIDES),
    (re.compile(r"^p_.*_at_least_observed$"), ONE_SIDED),
    (re.compile(r"^.*_lower_bound_one_sided$"), ONE_SIDED),
    (re.compile(r"^.*_ci_(low|high)$"), SIDES),
)
"""How each statistic's key names its sidedness (first match wins)."""

STATISTIC = re.compile(r"^p_|_ci_(low|high)$|_bound_")
"""Keys that hold a p-value or an interval bound, whose sidedness must be known."""


class SidednessError(ValueError):
    """A p-value or interval whose sidedness no rule gives: the paper cannot label it."""


def sides(numbers: dict[str, object]) -> dict[str, str]:
    """``{key: sidedness}`` for every p-value and interval bound in ``numbers``."""
    found = {}
    for key in sorted(numbers):
        if not STATISTIC.search(key):
            continue
        side = next((s for pattern, s in RULES if pattern.search(key)), None)
        if side is None:
            raise SidednessError(f"numbers.json key {key!r} is a p-value or an interval "
                                 "whose sidedness no rule of psu_study.inference gives")
        found[key] = side
    return found
