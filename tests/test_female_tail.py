"""The all-female tail has one definition: notebook 02's female share and notebook 07's
explorer compute it by the same function, at a base rate taken from psu_users.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from psu_study import demographics, explore
from psu_study.loader import DataError


def users(n_all: int, n_female: int) -> pd.DataFrame:
    return pd.DataFrame({"characteristic": ["all", "gender"], "category": ["all", "female"],
                         "count": [n_all, n_female]})


def test_the_one_sided_tail_by_hand():
    # X ~ Binomial(3, 1/2): P(X >= 2) = (C(3,2) + C(3,3)) / 8 = 4/8; P(X >= 3) = 1/8;
    # P(X >= 0) = 1.
    tail = demographics.female_tail_one_sided
    assert tail(3, 0.5, k=2) == pytest.approx(0.5)
    assert tail(3, 0.5) == pytest.approx(0.125)
    assert tail(3, 0.5, k=0) == pytest.approx(1.0)


def test_explore_and_the_female_share_give_one_tail_at_the_datas_base_rate():
    """Methods > Participants and recruitment: all 8 participants female against 259 of 397
    PSU users (65%). The one-sided tail is (259/397)^8 = 0.0328, which the explorer shows as
    0.033; notebook 02 reports the same tail beside its two-sided p."""
    published = users(397, 259)
    participants = pd.DataFrame({"gender": ["female"] * 8})
    share = demographics.female_share(participants, published)
    shown = explore.tail_summary(8, explore.base_rate(published))
    assert share["p_sample_female_at_least_observed"] == pytest.approx((259 / 397) ** 8)
    assert shown["p_at_least_k_female"] == pytest.approx(0.0328, abs=5e-5)
    assert shown["base_rate_pct"] == 65.2
    # Another study's users: 3 of 4 women, so all of 2 participants female has P = 0.75^2.
    assert explore.tail_summary(2, explore.base_rate(users(4, 3)))["p_at_least_k_female"] \
        == pytest.approx(0.5625)


def test_a_base_rate_of_no_users_is_an_error_not_a_division():
    with pytest.raises(DataError, match=r"psu_users\.csv, column 'count'.*0 users"):
        explore.base_rate(users(0, 0))
