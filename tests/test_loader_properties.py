"""Property tests: however a data file is mangled, the loader accepts it or raises DataError,
never any other exception, and the DataError points at a real file, row and column.

Each example mangles one file of a private copy of ``data/`` and restores it afterwards, so
examples are independent. No example database is kept and hypothesis' caches go to a
temporary folder: nothing is written in the repository or the working directory.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from psu_study.schema import TABLES
from psu_study.validation import DataError, load_study

REPO = Path(__file__).resolve().parents[1]
CSV_FILES = [table.file for table in TABLES.values()]
FILES = [*CSV_FILES, "transcripts/P1.txt"]

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="psu-study-hypothesis-"))
"""Hypothesis' pytest plugin caches constants while collecting, before any fixture runs, in
``.hypothesis`` under the cwd; at import time this sends its caches to a temporary folder."""

SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
"""The fixture is one directory that every example restores, so sharing it is safe. How many
examples: the profile's (tests/conftest.py), fewer in ``make test-fast``."""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(REPO / "data", target)
    return target


def rows_of(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def put(path: Path, content: bytes) -> None:
    """Write ``content`` as a new file at ``path``. Truncating the old one instead makes ext4
    flush it on close (its ``auto_da_alloc``), a wait of milliseconds per example."""
    path.unlink()
    path.write_bytes(content)


def load_mangled(data: Path, file: str, mangled: bytes) -> DataError | None:
    """Load with ``file`` replaced by ``mangled``; the DataError if refused, None if accepted.

    Any other exception propagates and fails the test with hypothesis' minimal example.
    """
    path = data / file
    original = path.read_bytes()
    put(path, mangled)
    try:
        load_study(data)
    except DataError as error:
        check_points_somewhere_real(error, data)
        return error
    finally:
        put(path, original)
    return None


def check_points_somewhere_real(error: DataError, data: Path) -> None:
    """File is one the loader reads; row is within that file; column is a string."""
    name = Path(error.file).name
    assert name in {Path(f).name for f in FILES} | {p.name for p in data.rglob("*.txt")}, error
    assert error.row is None or error.row >= 0, error
    assert error.column is None or isinstance(error.column, str), error
    assert str(error).startswith(error.file), error


ANY_TEXT = st.text(
    # Every character UTF-8 can encode: all but the surrogates (category Cs), the alphabet
    # codec="utf-8" gives. Named by category, as hypothesis need not encode each of the 1.1
    # million code points to find it (1.5 CPU-s a session: its cache is in a fresh folder).
    alphabet=st.characters(exclude_categories=["Cs"]), max_size=30
) | st.sampled_from(["", " ", "NA", "null", "nan", "inf", "-1", "0", "1e3", "3.5", "2014-02-30",
                     "P1", "ÉÑ", "\u200b", "\ufeff", '"', ",", "\n", "\r\n", "é,\"x\n"])
"""Random text (any Unicode, control characters and quotes included) and hand-picked
troublemakers: missing-value spellings, numbers in odd notations, impossible dates."""


@SETTINGS
@given(file=st.sampled_from(CSV_FILES), data_=st.data())
def test_dropping_a_column(data: Path, file: str, data_: st.DataObject) -> None:
    rows = rows_of((data / file).read_bytes())
    k = data_.draw(st.integers(0, len(rows[0]) - 1))
    error = load_mangled(data, file, csv_bytes([r[:k] + r[k + 1:] for r in rows]))
    assert error is not None and error.row == 0


@SETTINGS
@given(file=st.sampled_from(CSV_FILES), data_=st.data())
def test_duplicating_a_column(data: Path, file: str, data_: st.DataObject) -> None:
    rows = rows_of((data / file).read_bytes())
    k = data_.draw(st.integers(0, len(rows[0]) - 1))
    error = load_mangled(data, file, csv_bytes([r + [r[k]] for r in rows]))
    assert error is not None and error.row == 0


@SETTINGS
@given(file=st.sampled_from(CSV_FILES), data_=st.data(), header_only=st.booleans())
def test_swapping_columns(data: Path, file: str, data_: st.DataObject, header_only: bool) -> None:
    """Swapping whole columns keeps the file valid (columns are read by name); swapping
    only the header's names may be refused, but only with a DataError."""
    rows = rows_of((data / file).read_bytes())
    i, j = data_.draw(st.lists(st.integers(0, len(rows[0]) - 1), min_size=2, max_size=2))
    for r in rows[:1] if header_only else rows:
        r[i], r[j] = r[j], r[i]
    error = load_mangled(data, file, csv_bytes(rows))
    assert header_only or error is None, error


@SETTINGS
@given(file=st.sampled_from(CSV_FILES), data_=st.data())
def test_replacing_cells_with_random_text(data: Path, file: str, data_: st.DataObject) -> None:
    rows = rows_of((data / file).read_bytes())
    for _ in range(data_.draw(st.integers(1, 3))):
        r = data_.draw(st.integers(0, len(rows) - 1))
        c = data_.draw(st.integers(0, len(rows[0]) - 1))
        rows[r][c] = data_.draw(ANY_TEXT)
    load_mangled(data, file, csv_bytes(rows))


@SETTINGS
@given(file=st.sampled_from(FILES), data_=st.data())
def test_truncating_at_a_random_byte(data: Path, file: str, data_: st.DataObject) -> None:
    raw = (data / file).read_bytes()
    load_mangled(data, file, raw[: data_.draw(st.integers(0, len(raw)))])


@SETTINGS
@given(file=st.sampled_from(FILES), data_=st.data(), junk=st.binary(min_size=1, max_size=8))
def test_inserting_random_bytes(data: Path, file: str, data_: st.DataObject, junk: bytes) -> None:
    raw = (data / file).read_bytes()
    at = data_.draw(st.integers(0, len(raw)))
    load_mangled(data, file, raw[:at] + junk + raw[at:])


@SETTINGS
@given(file=st.sampled_from(CSV_FILES), data_=st.data())
def test_shuffling_rows_keeps_data_valid(data: Path, file: str, data_: st.DataObject) -> None:
    """Nothing in the contract depends on row order, so a shuffled file still loads."""
    rows = rows_of((data / file).read_bytes())
    body = data_.draw(st.permutations(rows[1:]))
    assert load_mangled(data, file, csv_bytes([rows[0], *body])) is None


@SETTINGS
@example(column="start", number=10**20)
@given(column=st.sampled_from(["start", "end"]), number=st.integers(min_value=2**63))
def test_huge_integers_in_span_columns(data: Path, column: str, number: int) -> None:
    rows = rows_of((data / "segments.csv").read_bytes())
    rows[1][rows[0].index(column)] = str(number)
    error = load_mangled(data, "segments.csv", csv_bytes(rows))
    # Refused, naming the cell: every such number is past int64 (2**63 = 9.2e18), far past
    # any character offset a transcript can have.
    assert error is not None, f"{number} in {column} was accepted"
    assert (Path(error.file).name, error.row, error.column) == ("segments.csv", 1, column)
