"""One test per way a data directory can be wrong: the loader must refuse it with a DataError
naming the file, row (1-based, header = 0) and column, so an analyst never reads a traceback.

Each test mutates a copy of the repository's data; the original ``data/`` is never touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import pathlib
import shutil
from pathlib import Path

import pytest

from psu_study.validation import DataError, load_study

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private, valid copy of the repository's data directory."""
    target = tmp_path / "data"
    shutil.copytree(REPO / "data", target)
    return target


def replace(data: Path, file: str, old: str, new: str, count: int = 1) -> None:
    """Edit one file's text in place; fails loudly if ``old`` is not there to replace."""
    path = data / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def set_cell(data: Path, file: str, row: int, column: str, value: str) -> None:
    """Overwrite one cell (row 1-based, as DataError counts) of a CSV."""
    path = data / file
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row][rows[0].index(column)] = value
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def refused(data: Path, **kwargs: object) -> DataError:
    with pytest.raises(DataError) as caught:
        load_study(data, **kwargs)
    return caught.value


def check(error: DataError, file: str, row: int | None, column: str | None) -> None:
    """The error carries, and its message shows, the file, row and column."""
    assert Path(error.file).name == file, str(error)
    assert (error.row, error.column) == (row, column), str(error)
    # "<file>, row <n>, column '<name>': <message>", each part only when known.
    where = [error.file, *([f"row {row}"] if row is not None else []),
             *([f"column '{column}'"] if column is not None else [])]
    assert str(error).startswith(", ".join(where) + ": "), str(error)


def test_the_unmutated_copy_loads(data: Path) -> None:
    """Every other test's failure is caused by its own mutation, not by the copy."""
    assert len(load_study(data).participants) == 8


def test_missing_file(data: Path) -> None:
    (data / "interviews.csv").unlink()
    error = refused(data)
    check(error, "interviews.csv", None, None)
    assert "missing" in str(error)


def test_missing_column(data: Path) -> None:
    replace(data, "coders.csv", "coder,role,provenance", "coder,provenance")
    replace(data, "coders.csv", "EW,interviewer; coded all transcripts,", "EW,")
    replace(data, "coders.csv", "FF,independently coded half the transcripts,", "FF,")
    check(refused(data), "coders.csv", 0, "role")


def test_extra_column(data: Path) -> None:
    # participants.csv takes a study's own attribute columns (tests/test_queries.py); no
    # other file takes one.
    path = data / "interviews.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + ",x" for line in lines) + "\n", encoding="utf-8")
    # The header's new last column is named "x".
    check(refused(data), "interviews.csv", 0, "x")


def test_non_integer_duration(data: Path) -> None:
    set_cell(data, "interviews.csv", 3, "duration_min", "forty")
    error = refused(data)
    check(error, "interviews.csv", 3, "duration_min")
    assert "whole number" in str(error)


def test_empty_file(data: Path) -> None:
    (data / "codebook.csv").write_bytes(b"")
    error = refused(data)
    check(error, "codebook.csv", None, None)
    assert "empty" in str(error)


def test_non_utf8_bytes_name_the_line(data: Path) -> None:
    path = data / "participants.csv"
    raw = path.read_bytes()
    # Data row 3 is the file's line 4 (the header is line 1); 0xe9 is Latin-1 for "é".
    path.write_bytes(raw.replace(b"P3,female", b"P3,f\xe9male"))
    error = refused(data)
    check(error, "participants.csv", None, None)
    assert "line 4 is not UTF-8" in str(error)


def test_duplicate_ids(data: Path) -> None:
    replace(data, "participants.csv", "P6,female", "P2,female")
    check(refused(data), "participants.csv", 6, "participant_id")


def test_unknown_participant_in_segments(data: Path) -> None:
    set_cell(data, "segments.csv", 5, "participant_id", "P99")
    error = refused(data)
    check(error, "segments.csv", 5, "participant_id")
    assert "P99" in str(error)


def test_unknown_participant_in_interviews(data: Path) -> None:
    set_cell(data, "interviews.csv", 8, "participant_id", "P9")
    check(refused(data), "interviews.csv", 8, "participant_id")


def test_unknown_code(data: Path) -> None:
    set_cell(data, "segments.csv", 7, "code_id", "C9.9")
    check(refused(data), "segments.csv", 7, "code_id")


def test_unknown_coder(data: Path) -> None:
    set_cell(data, "segments.csv", 2, "coder", "ZZ")
    check(refused(data), "segments.csv", 2, "coder")


def test_participant_id_on_trainee_who_only_reached_interested(data: Path) -> None:
    # T10 (data row 10) reached 'interested'; a participant_id claims she was interviewed.
    replace(data, "recruitment.csv", "T10,interested,,", "T10,interested,P9,")
    error = refused(data)
    check(error, "recruitment.csv", 10, "stage_reached")
    assert "'interested'" in str(error)


def test_interview_before_contact(data: Path) -> None:
    # P1's trainee T01 was contacted on 2014-03-17.
    set_cell(data, "interviews.csv", 1, "interview_date", "2014-03-01")
    error = refused(data)
    check(error, "interviews.csv", 1, "interview_date")
    assert "before the trainee was contacted" in str(error)


def test_negative_duration(data: Path) -> None:
    set_cell(data, "interviews.csv", 4, "duration_min", "-5")
    error = refused(data)
    check(error, "interviews.csv", 4, "duration_min")
    assert "at least 1" in str(error)


def test_absurd_duration(data: Path) -> None:
    """README, section Running on your own data: "one error naming the file, row and column, for
    example `data/interviews.csv, row 3, column 'duration_min': expected a number of at most 300;
    got '480'`" (a copy outside the repository shows only the file's name)."""
    set_cell(data, "interviews.csv", 2, "duration_min", "301")
    error = refused(data)
    check(error, "interviews.csv", 2, "duration_min")
    assert "at most 300" in str(error)
    set_cell(data, "interviews.csv", 2, "duration_min", "42")
    set_cell(data, "interviews.csv", 3, "duration_min", "480")
    assert str(refused(data)) == (".../interviews.csv, row 3, column 'duration_min': expected "
                                  "a number of at most 300; got '480'")


def test_interview_outside_study_window(data: Path) -> None:
    # P8 was interviewed on 2015-03-12, after a window ending in 2014.
    window = (dt.date(2014, 4, 1), dt.date(2014, 12, 31))
    error = refused(data, study_window=window)
    check(error, "interviews.csv", 8, "interview_date")
    assert "outside the study window 2014-04-01 to 2014-12-31" in str(error)


def test_psu_user_counts_not_adding_up(data: Path) -> None:
    replace(data, "psu_users.csv", "not female,138", "not female,137")
    error = refused(data)
    check(error, "psu_users.csv", 3, "count")
    assert "add up to 396" in str(error)


def test_file_over_a_small_size_limit(data: Path) -> None:
    # participants.csv is the first file read and is a few hundred bytes long.
    error = refused(data, max_bytes=100)
    check(error, "participants.csv", None, None)
    assert "limit" in str(error)


def test_big_sparse_file_refused_before_reading(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200 MB file (sparse: made in milliseconds) is refused from its size alone.

    docs/security.md, section Security: "The loader refuses any file over 128 MiB before reading
    it"."""
    with open(data / "segments.csv", "r+b") as handle:
        handle.truncate(200 * 2**20)
    read_bytes = pathlib.Path.read_bytes

    def guarded(path: Path) -> bytes:
        assert path.name != "segments.csv", "the loader read the oversized file"
        return read_bytes(path)

    monkeypatch.setattr(pathlib.Path, "read_bytes", guarded)
    monkeypatch.setattr(pathlib.Path, "read_text", lambda *a, **k: pytest.fail("read_text"))
    error = refused(data)
    check(error, "segments.csv", None, None)
    assert "200 MiB, over the 128 MiB limit" in str(error)


def test_row_with_too_many_fields_names_the_row(data: Path) -> None:
    replace(data, "participants.csv", "P3,female,FY1,", "P3,female,FY1,x,")
    check(refused(data), "participants.csv", 3, None)


def test_unclosed_quote_names_the_row(data: Path) -> None:
    replace(data, "participants.csv", "P3,female", '"P3,female')
    check(refused(data), "participants.csv", 3, None)


def test_repeated_header_names_the_column(data: Path) -> None:
    path = data / "coders.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",role"] + [line + ",x" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check(refused(data), "coders.csv", 0, "role")


def test_huge_number_in_nullable_int_column(data: Path) -> None:
    set_cell(data, "segments.csv", 1, "start", "99999999999999999999")
    check(refused(data), "segments.csv", 1, "start")


def test_huge_count_is_refused_where_it_is(data: Path) -> None:
    replace(data, "psu_users.csv", "all,all,397", "all,all,99999999999999999999")
    check(refused(data), "psu_users.csv", 1, "count")


def test_provenance_naming_an_unknown_column(data: Path) -> None:
    # The first participant whose provenance names a column participants.csv does not have.
    replace(data, "participants.csv", "P2,female,ST1,published (synthetic: training_stage)",
            "P2,female,ST1,published (synthetic: grade)")
    error = refused(data)
    check(error, "participants.csv", 2, "provenance")
    assert "'grade'" in str(error)


def test_segment_of_a_participant_without_a_transcript(data: Path) -> None:
    (data / "transcripts" / "P3.txt").unlink()
    error = refused(data)
    assert error.column == "participant_id" and "P3" in str(error)
    with open(data / "segments.csv", encoding="utf-8", newline="") as handle:
        first = next(i for i, row in enumerate(csv.DictReader(handle), start=1)
                     if row["participant_id"] == "P3")
    check(error, "segments.csv", first, "participant_id")
