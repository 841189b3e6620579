"""The contract's participant ids sort by their number everywhere (P2 before P10)."""

from psu_study.schema import participant_number


def test_participants_sort_by_number_not_by_text():
    assert sorted(["P10", "P2", "P1", "P02"], key=participant_number) == \
        ["P1", "P2", "P02", "P10"]
