"""Hostile and broken input (issue 12): every refusal is one line naming the file, no input
reaches the user as a traceback, no link is followed, identities stay unambiguous, work is
bounded by what is produced, and ``--overwrite`` loses none of the user's files.

Each case is generated here; the memory-bound cases run in a subprocess under an address-space
limit (``RLIMIT_AS``) the test sets, so a refusal that comes only after exhausting memory fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from psu_study import qda
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


# ---------------------------------------------------------------------------- the importer

def g(n: int) -> str:
    """A GUID as NVivo writes it (braces, upper case)."""
    return f"{{{n:08d}-0000-4000-8000-00000000ABCD}}"


TEXT = "Interviewer: how was it?\nP: I was at breaking point. Then the PSU helped a lot.\n"


def sel(n: int, start: int, end: int, code: int = 21, user: int = 1) -> str:
    return (f'<PlainTextSelection guid="{g(n)}" startPosition="{start}" endPosition="{end}" '
            f'creatingUser="{g(user)}"><Coding guid="{g(n + 50_000)}" creatingUser="{g(user)}">'
            f'<CodeRef targetGUID="{g(code)}"/></Coding></PlainTextSelection>')


BREAKING = (TEXT.index("I was"), TEXT.index(" Then"))  # "I was at breaking point."
HELPED = (TEXT.index("the PSU"), TEXT.index(" a lot"))  # "the PSU helped"


def source(n: int, name: str, selections: str = "", path: str | None = None) -> str:
    where = f'plainTextPath="{path}"' if path else ""
    body = "" if path else f"<PlainTextContent>{TEXT}</PlainTextContent>"
    return f'<TextSource guid="{g(n)}" name="{name}" {where}>{body}{selections}</TextSource>'


USERS = f'<User guid="{g(1)}" name="EW"/><User guid="{g(2)}" name="FF"/>'
CODES = (f'<Code guid="{g(20)}" name="Edge" isCodable="true">'
         f'<Code guid="{g(21)}" name="Breaking point" isCodable="true"/></Code>')


def qde(sources: str, users: str = USERS, codes: str = CODES) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
            f'name="p"><Users>{users}</Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
            f'<Sources>{sources}</Sources></Project>').encode()


TWO_SELECTIONS = sel(101, *BREAKING) + sel(102, *HELPED, user=2)


def write_zip(path: Path, entries: dict[str, bytes] | list[tuple[str, bytes]],
              method: int = zipfile.ZIP_DEFLATED) -> Path:
    items = entries.items() if isinstance(entries, dict) else entries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names we make
        with zipfile.ZipFile(path, "w", method) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return path


def project(tmp_path: Path, xml: bytes, method: int = zipfile.ZIP_DEFLATED,
            **entries: bytes) -> Path:
    return write_zip(tmp_path / "p.qdpx", {"project.qde": xml, **entries}, method)


def refused(tmp_path: Path, path: Path, message: str, **kwargs: object) -> str:
    """Import must fail with one short QdaError line naming the project, matching
    ``message``, and leave neither the output folder nor a hidden partial one."""
    out = tmp_path / "out"
    with pytest.raises(qda.QdaError) as caught:
        qda.import_project(path, out, **kwargs)
    text = one_line(caught.value, path.name)
    assert re.search(message, text), text
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    return text


def patch_entry(path: Path, name: str, *, flags: int | None = None,
                method: int | None = None, corrupt: bool = False) -> None:
    """Rewrite one entry's general-purpose flags or compression method in its local and
    central headers, or garble the middle of its compressed bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    local = info.header_offset
    central = next(m.start() for m in re.finditer(b"PK\x01\x02", data)
                   if data[m.start() + 46:m.start() + 46 + len(name)] == name.encode())
    if flags is not None:
        struct.pack_into("<H", data, local + 6, flags)
        struct.pack_into("<H", data, central + 8, flags)
    if method is not None:
        struct.pack_into("<H", data, local + 8, method)
        struct.pack_into("<H", data, central + 10, method)
    if corrupt:
        start = local + 30 + len(name) + struct.unpack_from("<H", data, local + 28)[0]
        middle = start + info.compress_size // 2
        data[middle:middle + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))


def long_text(chars: int) -> str:
    return ("Talking to a stranger was easier. " * (chars // 34 + 1))[:chars]


# ---- every kind of broken archive: one line, never a traceback

def test_an_encrypted_entry_is_refused(tmp_path):
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)))
    patch_entry(path, "project.qde", flags=0x1)
    refused(tmp_path, path, "project.qde' is encrypted")


def test_a_corrupt_deflate_stream_is_refused(tmp_path):
    text = long_text(50_000).encode()
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS, "internal://a.txt")),
                   **{"sources/a.txt": text})
    patch_entry(path, "sources/a.txt", corrupt=True)
    refused(tmp_path, path, "sources/a.txt' cannot be read: damaged zip archive")


def test_an_unknown_compression_method_is_refused(tmp_path):
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)))
    patch_entry(path, "project.qde", method=99)
    refused(tmp_path, path, "compression method 99, which is not supported")


def test_duplicate_zip_entry_names_are_refused(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", [("project.qde", qde(source(50, "P1"))),
                                            ("project.qde", qde(source(51, "P2")))])
    refused(tmp_path, path, "project.qde' appears twice")


def test_two_entries_naming_one_source_file_are_refused(tmp_path):
    xml = qde(source(50, "P1", TWO_SELECTIONS, "internal://a.txt"))
    path = project(tmp_path, xml, **{"sources/a.txt": b"one", "Sources/a.txt": b"two"})
    refused(tmp_path, path, "are the same source file")


def test_a_position_beyond_64_bits_is_one_line(tmp_path):
    xml = qde(source(50, "P1", sel(101, 0, 2**64) + sel(102, *HELPED)))
    refused(tmp_path, project(tmp_path, xml), "")


def test_codes_nested_100000_deep_are_refused(tmp_path):
    deep = "".join(f'<Code guid="{g(1000 + i)}" name="c{i}" isCodable="true">'
                   for i in range(100_000)) + "</Code>" * 100_000
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=CODES + deep))
    refused(tmp_path, path, "nests elements over 100 deep")


def test_a_source_name_with_hundreds_of_digits_is_one_line(tmp_path):
    # P777... (600 digits) is a participant id by the naming rule, but no file can be named
    # after it: refused when its transcript is written, naming the output folder.
    path = project(tmp_path, qde(source(50, "P" + "7" * 600, TWO_SELECTIONS)))
    out = tmp_path / "out"
    with pytest.raises(qda.QdaError) as caught:
        qda.import_project(path, out)
    assert "File name too long" in one_line(caught.value, "out")
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["p.qdpx"]


def test_a_participant_map_field_over_128_kib_is_one_line(tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(f'source_name,participant_id\n"{"x" * 200_000}",P1\n',
                       encoding="utf-8")
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)))
    out = tmp_path / "out"
    with pytest.raises(qda.QdaError) as caught:
        qda.import_project(path, out, mapping)
    assert "field larger than field limit" in one_line(caught.value, "map.csv")
    assert not out.exists()


def test_a_20_mb_attribute_is_echoed_shortened(tmp_path):
    huge = "n" * (20 * 2**20)
    codes = CODES + f'<Code name="{huge}" isCodable="true"/>'  # no guid: refused, echoing it
    # Stored, not deflated: 20 MB of one letter would be refused as a zip bomb first.
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=codes),
                   zipfile.ZIP_STORED)
    assert "has no guid" in refused(tmp_path, path, "code 'nnnn")


def test_a_20_mb_guid_in_a_coding_is_echoed_shortened(tmp_path):
    huge = "9" * (20 * 2**20)
    coding = (f'<PlainTextSelection guid="{g(101)}" startPosition="0" endPosition="5" '
              f'creatingUser="{g(1)}"><Coding guid="{huge}"><CodeRef targetGUID="{g(99)}"/>'
              "</Coding></PlainTextSelection>")
    path = project(tmp_path, qde(source(50, "P1", coding + sel(102, *HELPED))),
                   zipfile.ZIP_STORED)
    refused(tmp_path, path, "which the codebook does not define")
