"""Hostile and broken input (issue 12): every refusal is one line naming the file, no input
reaches the user as a traceback, no link is followed, identities stay unambiguous, work is
bounded by what is produced, and ``--overwrite`` loses none of the user's files.

Each case is generated here; the memory-bound cases run in a subprocess under an address-space
limit (``RLIMIT_AS``) the test sets, so a refusal that comes only after exhausting memory fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

from psu_study.validation import DataError, load_study

MAX_LINE = 400  # loader.MAX_MESSAGE_CHARS and the QdaError limit, written out: one short line


def one_line(error: Exception, file: str) -> str:
    """The error's text, asserted to be one short line that names ``file``."""
    text = str(error)
    assert "\n" not in text and len(text) <= MAX_LINE + len(file), text[:500]
    assert file in text, text
    return text


# ------------------------------------------------------------------------------ the loader

def test_a_symlinked_transcript_is_refused_naming_the_link(data_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not a transcript", encoding="utf-8")
    link = data_copy / "transcripts" / "P3.txt"
    link.unlink()
    link.symlink_to(secret)
    with pytest.raises(DataError) as caught:
        load_study(data_copy, tables=["segments"])
    text = one_line(caught.value, "P3.txt")
    assert "symbolic link" in text and "secret" not in text


def test_a_symlinked_transcripts_folder_is_refused(data_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(data_copy / "transcripts", elsewhere)
    (data_copy / "transcripts").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError, match="transcripts: is a symbolic link"):
        load_study(data_copy, tables=["segments"])


def test_a_symlinked_table_is_refused(data_copy):
    real = data_copy / "coders.csv"
    moved = data_copy.parent / "coders-elsewhere.csv"
    real.rename(moved)
    real.symlink_to(moved)
    with pytest.raises(DataError, match=r"coders\.csv: is a symbolic link"):
        load_study(data_copy, tables=["coders"])


def test_a_pipe_in_place_of_a_transcript_is_refused_without_blocking(data_copy):
    path = data_copy / "transcripts" / "P3.txt"
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block forever without O_NONBLOCK
    with pytest.raises(DataError, match=r"P3\.txt: is not a regular file"):
        load_study(data_copy, tables=["segments"])


def test_only_known_participants_transcripts_are_read(data_copy):
    stray = data_copy / "transcripts" / "notes.txt"
    stray.write_bytes(b"\xff not UTF-8, and named for no participant")  # would be refused
    (data_copy / "transcripts" / "P99.txt").write_text("nobody's", encoding="utf-8")
    study = load_study(data_copy, tables=["segments"])
    participants = set(study.participants["participant_id"])
    assert set(study.transcripts) <= participants
    assert "notes" not in study.transcripts and "P99" not in study.transcripts


def test_a_header_field_over_the_csv_limit_is_one_line(data_copy):
    path = data_copy / "coders.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text("x" * (200 * 1024) + "," + text, encoding="utf-8")  # 200 KiB > 128 KiB
    with pytest.raises(DataError) as caught:
        load_study(data_copy, tables=["coders"])
    assert "header row" in one_line(caught.value, "coders.csv")


def test_a_huge_repeated_column_name_is_shortened(data_copy):
    path = data_copy / "coders.csv"
    name = "y" * (100 * 1024)
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{name},{name},{text}", encoding="utf-8")
    with pytest.raises(DataError, match="repeats an earlier column") as caught:
        load_study(data_copy, tables=["coders"])
    one_line(caught.value, "coders.csv")
