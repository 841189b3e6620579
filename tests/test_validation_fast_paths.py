"""The loader's fast paths (one regular-expression pass over joined distinct values, numbers
parsed by the C parser) must refuse exactly what the value-by-value checks refuse, at the
same row."""

from __future__ import annotations

import pandas as pd
import pytest

from psu_study import schema
from psu_study.loader import DataError, _check_column

IDS = schema.Column("segment_id", "str", pattern=r"^[A-Za-z0-9_.-]+$", unique=True)
PARTICIPANT = schema.Column("participant_id", "str", pattern=r"^P[0-9]+$")
MINUTES = schema.Column("duration_min", "int", minimum=1, maximum=300)


def column(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def refusal(values: list[object], spec: schema.Column) -> DataError:
    with pytest.raises(DataError) as raised:
        _check_column(column(values), spec, "t.csv")
    return raised.value


def test_many_valid_ids_pass():
    ids = [f"S{i:07d}" for i in range(20_000)] + ["a.b-c_d"]
    assert _check_column(column(ids), IDS, "t.csv").tolist() == ids


@pytest.mark.parametrize(("bad", "why"), [
    ("S 12", "a value matching"),   # a space is outside the class
    ("S\n12", "a value matching"),  # a newline must not split one value into two
    ("   ", "value is empty"),
])
def test_one_bad_id_among_many_is_found_at_its_row(bad, why):
    ids = [f"S{i:07d}" for i in range(5_000)]
    ids[3_141] = bad
    error = refusal(ids, IDS)
    assert (error.row, error.column) == (3_142, "segment_id")
    assert why in error.message


def test_repeated_id_is_found_at_the_second_occurrence():
    ids = [f"S{i:07d}" for i in range(1_000)]
    ids[900] = ids[10]
    assert refusal(ids, IDS).row == 901


def test_patterns_that_are_not_a_single_class():
    assert refusal(["P1", "P2", "Q3"], PARTICIPANT).row == 3
    assert refusal(["P1", "P2\nP3"], PARTICIPANT).row == 2


@pytest.mark.parametrize(("values", "row", "why"), [
    ([35.0, 100.0, 35.5], 3, "a whole number"),
    ([35.0, float("nan"), 40.0], 2, "value is empty"),
    ([35.0, 301.0], 2, "at most 300"),
    ([35.0, 1e20], 2, "at most"),
])
def test_numbers_parsed_by_the_c_parser(values, row, why):
    with pytest.raises(DataError) as raised:
        _check_column(pd.Series(values, dtype=float), MINUTES, "t.csv")
    assert raised.value.row == row and why in raised.value.message


def test_ids_in_order_with_one_repeated_next_to_itself():
    # Sorted ids skip hashing; a repeat beside its twin breaks the strict order and is found.
    ids = [f"S{i:07d}" for i in range(1_000)]
    ids[501] = ids[500]
    assert refusal(ids, IDS).row == 502


@pytest.mark.parametrize(("values", "row"), [
    (["a", "", "b"], 2),        # an empty value inside: a doubled newline when joined
    (["", "a", "b"], 1),        # first
    (["a", "b", ""], 3),        # last
    ([""], 1),                  # the only value
    (["a", "b\t", " \t "], 3),  # white space other than newlines
    (["a", "\u00a0"], 2),       # Unicode white space
])
def test_blank_values_are_found_whatever_their_place(values, row):
    spec = schema.Column("text", "str")
    error = refusal(values, spec)
    assert (error.row, "value is empty") == (row, error.message)


def test_white_space_inside_values_is_not_blank():
    spec = schema.Column("text", "str")
    assert _check_column(column(["a b", " c", "d\n"]), spec, "t.csv").tolist() == [
        "a b", " c", "d\n"]


def test_repeated_text_that_looks_like_numbers_keeps_its_text(tmp_path):
    # Text columns must come back as written: no parser inference of numbers or booleans
    # ("007" -> 7, "True" -> True), as reading them as categories, say, would do.
    from psu_study.loader import read_table

    table = schema.Table("codes", (
        schema.Column("code", "str", unique=True),
        schema.Column("band", "str"),
        schema.Column("flag", "str"),
        schema.Column("label", "str", pattern=r"^[a-z]+$"),
    ))
    (tmp_path / "codes.csv").write_text(
        "code,band,flag,label\na,007,True,x\nb,007,False,x\nc,1e2,True,y\n", encoding="utf-8")
    frame = read_table(tmp_path, table)
    assert frame["band"].tolist() == ["007", "007", "1e2"]
    assert frame["flag"].tolist() == ["True", "False", "True"]
    assert frame["label"].tolist() == ["x", "x", "y"]
    (tmp_path / "codes.csv").write_text(
        "code,band,flag,label\na,007,True,x\nb,007,False,9\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_table(tmp_path, table)
    assert (raised.value.row, raised.value.column) == (2, "label")
    assert "'9'" in raised.value.message


def test_pattern_fast_path_with_empty_values_in_a_nullable_column():
    # Empty values pass the one-pass check (they are judged as blanks); a bad one still fails.
    nullable = schema.Column("participant_id", "str", pattern=r"^P[0-9]+$", nullable=True)
    ok = ["P1", "", "P2", ""] * 50
    assert _check_column(column(ok), nullable, "t.csv").tolist() == [
        v if v else None for v in ok]
    assert refusal(["P1", "", "P2", "Q3", ""], nullable).row == 4


@pytest.mark.parametrize("value", [-(2**63), 2**62, -(10**15) - 1])
def test_integers_beyond_the_limit_either_side(value):
    # Read by the parser as int64: no float detour, and the most negative int64 (whose
    # absolute value overflows) is refused like any other out-of-range number.
    spec = schema.Column("n", "int")
    with pytest.raises(DataError) as raised:
        _check_column(pd.Series([1, value], dtype="int64"), spec, "t.csv")
    assert raised.value.row == 2 and "at most" in raised.value.message
