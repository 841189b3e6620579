"""Hostile and broken input (issue 12): every refusal is one line naming the file, no input
reaches the user as a traceback, no link is followed, identities stay unambiguous, work is
bounded by what is produced, and ``--overwrite`` loses none of the user's files.

Each case is generated here; the memory-bound cases run in a subprocess under an address-space
limit (``RLIMIT_AS``) the test sets, so a refusal that comes only after exhausting memory fails.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import tracemalloc
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from psu_study.qda import cli as qda_cli
from psu_study.qda import importer
from psu_study.qda.archive import QdaError
from psu_study.validation import DataError, load_study

REPO = Path(__file__).resolve().parents[1]
MAX_LINE = 400 + 60  # a message of at most 400 characters (written out), after a file name


def one_line(error: Exception, file: str) -> str:
    """The error's text, asserted to be one short line that names ``file``."""
    text = str(error)
    assert "\n" not in text and len(text) <= MAX_LINE, text[:500]
    assert file in text, text
    return text


# ------------------------------------------------------------------------------ the loader

def test_a_symlinked_transcript_is_refused_naming_the_link(data_copy, tmp_path):
    """docs/security.md, section Security: "a symbolic link ... is refused, naming the link"."""
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
    """docs/security.md, section Security: "a pipe, socket or device is refused"."""
    path = data_copy / "transcripts" / "P3.txt"
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block forever without O_NONBLOCK
    with pytest.raises(DataError, match=r"P3\.txt: is not a regular file"):
        load_study(data_copy, tables=["segments"])


def test_only_known_participants_transcripts_are_read(data_copy):
    """docs/security.md, section Security: "It reads only `transcripts/<participant_id>.txt` of the
    participants in `participants.csv`"."""
    stray = data_copy / "transcripts" / "notes.txt"
    stray.write_bytes(b"\xff not UTF-8, and named for no participant")  # would be refused
    (data_copy / "transcripts" / "P99.txt").write_text("nobody's", encoding="utf-8")
    study = load_study(data_copy, tables=["segments"])
    participants = set(study.participants["participant_id"])
    assert set(study.transcripts) <= participants
    assert "notes" not in study.transcripts and "P99" not in study.transcripts


def test_an_empty_transcript_is_refused_as_such(data_copy):
    (data_copy / "transcripts" / "P3.txt").write_bytes(b"")
    with pytest.raises(DataError, match=r"P3\.txt: file is empty; expected text$"):
        load_study(data_copy, tables=["segments"])


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
    ``message``, within a memory bound (32 MiB plus four times the project file: a refusal
    that first inflates or builds what the file only describes fails), and leave neither the
    output folder nor a hidden partial one."""
    out = tmp_path / "out"
    tracemalloc.start()
    try:
        with pytest.raises(QdaError) as caught:
            importer.import_project(path, out, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 32 * 2**20 + 4 * path.stat().st_size, f"peak {peak / 2**20:.0f} MiB"
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
    """docs/security.md, section Security: "or two zip entries with one name, are refused"."""
    path = write_zip(tmp_path / "p.qdpx", [("project.qde", qde(source(50, "P1"))),
                                            ("project.qde", qde(source(51, "P2")))])
    refused(tmp_path, path, "project.qde' appears twice")


def test_two_entries_naming_one_source_file_are_refused(tmp_path):
    xml = qde(source(50, "P1", TWO_SELECTIONS, "internal://a.txt"))
    path = project(tmp_path, xml, **{"sources/a.txt": b"one", "Sources/a.txt": b"two"})
    refused(tmp_path, path, "are the same source file")


def test_a_position_beyond_64_bits_is_one_line(tmp_path):
    xml = qde(source(50, "P1", sel(101, 0, 2**64) + sel(102, *HELPED)))
    refused(tmp_path, project(tmp_path, xml), f"endPosition '{2**64}' is not a whole number")


def test_codes_nested_100000_deep_are_refused(tmp_path):
    """docs/security.md, section Security: "a 64 MiB `.qde` of at most 1,000,000 elements and 100
    levels"."""
    deep = "".join(f'<Code guid="{g(1000 + i)}" name="c{i}" isCodable="true">'
                   for i in range(100_000)) + "</Code>" * 100_000
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=CODES + deep))
    refused(tmp_path, path, "nests elements over 100 deep")


@pytest.mark.parametrize("digits", [600, 5000])  # 5,000: past int()'s 4,300-digit limit
def test_a_source_name_with_hundreds_of_digits_imports_numbered(tmp_path, digits):
    # No participant number is that long (the naming rule reads at most six digits), so the
    # source is numbered P1 like any unnamed one, and the summary shows its name cut short.
    name = "P" + "7" * digits
    report = importer.import_project(project(tmp_path, qde(source(50, name, TWO_SELECTIONS))),
                                tmp_path / "out")
    assert report.participants == {name: "P1"}
    assert max(len(line) for line in report.summary().splitlines()) <= MAX_LINE


def test_a_position_of_thousands_of_digits_is_one_line(tmp_path):
    xml = qde(source(50, "P1", sel(101, *BREAKING) + sel(102, *HELPED)).replace(
        f'startPosition="{BREAKING[0]}"', f'startPosition="{"9" * 5000}"'))
    refused(tmp_path, project(tmp_path, xml), "startPosition '9{40}' is not a whole number")


def test_a_participant_map_field_over_128_kib_is_one_line(tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(f'source_name,participant_id\n"{"x" * 200_000}",P1\n',
                       encoding="utf-8")
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)))
    out = tmp_path / "out"
    with pytest.raises(QdaError) as caught:
        importer.import_project(path, out, mapping)
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


# ---- identities

def test_two_sources_with_one_guid_are_refused(tmp_path):
    xml = qde(source(50, "P1", TWO_SELECTIONS) + source(50, "P2", sel(103, *HELPED)))
    refused(tmp_path, project(tmp_path, xml), "two sources share guid")


def test_two_users_with_one_guid_are_refused(tmp_path):
    users = f'<User guid="{g(1)}" name="EW"/><User guid="{g(1)}" name="FF"/>'
    refused(tmp_path, project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), users=users)),
            "two users share guid")


def test_two_codes_with_one_guid_are_refused(tmp_path):
    """docs/security.md, section Security: "Two codes, users or sources with one GUID ... are
    refused"."""
    codes = CODES + f'<Code guid="{g(21).lower()}" name="Again" isCodable="true"/>'
    refused(tmp_path, project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=codes)),
            "appears twice in the codebook")


# ---- bare .qde: no link followed out of the sources folder

def bare_project(tmp_path: Path) -> Path:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.txt").write_text(TEXT, encoding="utf-8")
    path = tmp_path / "project.qde"
    path.write_bytes(qde(source(50, "P1", TWO_SELECTIONS, "internal://a.txt")))
    return path


def test_a_bare_project_imports(tmp_path):
    importer.import_project(bare_project(tmp_path), tmp_path / "out")
    assert (tmp_path / "out" / "transcripts" / "P1.txt").read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize("make", ["file link", "folder link", "pipe"])
def test_links_and_special_files_in_a_bare_projects_sources_are_refused(tmp_path, make):
    """docs/security.md, section Security: "The importer's bare-`.qde` mode refuses links and
    special files in its sources folder the same way"."""
    path = bare_project(tmp_path)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("private", encoding="utf-8")
    entry = tmp_path / "sources" / "a.txt"
    entry.unlink()
    if make == "file link":
        entry.symlink_to(secret / "key.txt")
    elif make == "folder link":
        entry.mkdir()
        (tmp_path / "sources" / "b").symlink_to(secret, target_is_directory=True)
    else:
        os.mkfifo(entry)
    out = tmp_path / "out"
    with pytest.raises(QdaError) as caught:
        importer.import_project(path, out)
    text = one_line(caught.value, "project.qde")
    assert ("symbolic link" if "link" in make else "not a regular file") in text
    assert "'sources/" in text and "key" not in text and not out.exists()


# ---- work bounded by what is produced (in a child process under an address-space limit
# set 200 MiB above what it holds already, so a refusal that needs the memory the old code
# spent fails here with a MemoryError instead). One child, forked from this process with the
# package imported, imports every case in turn; the limit is set before the first, so a later
# case has no more room than the first had, never more.

BOUNDED_ROOM = 200 * 2**20


def _import_each_bounded(pairs: list[tuple[Path, Path]], results: Connection) -> None:
    """In the forked child: the limit, then each import's outcome sent back as it ends."""
    vm = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (vm + BOUNDED_ROOM, vm + BOUNDED_ROOM))
    for path, out in pairs:
        try:
            importer.import_project(path, out)
            outcome = ("imported", "")
        except QdaError as exc:
            outcome = ("refused", str(exc))
        except MemoryError as exc:
            outcome = ("MemoryError", str(exc))
        results.send(outcome)


def write_zip_directly(path: Path, entries: dict[str, bytes]) -> Path:
    """A zip of ``entries``, deflated and laid out as zipfile lays one out (zip64 end
    records past 65,535 entries), without zipfile's work per entry: each distinct content is
    deflated once (zipfile deflates each of 400 copies of 1 MiB again: 1.7 CPU-s) and the
    headers are packed here (zipfile spends 1 CPU-s on 70,000 empty entries)."""
    packed: dict[bytes, tuple[int, bytes]] = {}
    local, central = bytearray(), bytearray()
    for name, data in entries.items():
        if data not in packed:
            deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed[data] = (zlib.crc32(data), deflate.compress(data) + deflate.flush())
        crc, deflated = packed[data]
        raw = name.encode()
        # version 2.0, no flags, deflated, 1980-01-01 00:00, sizes, name, no extra field
        common = (0, 8, 0, 0x21, crc, len(deflated), len(data), len(raw), 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, *common, 0, 0, 0, 0,
                               len(local)) + raw
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, *common) + raw + deflated
    count, end = len(entries), b""
    if count > 0xFFFF:  # the zip64 end record and its locator, before the classic record
        at = len(local) + len(central)
        end = (struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                           len(central), len(local))
               + struct.pack("<IIQI", 0x07064B50, 0, at, 1))
        count = 0xFFFF
    end += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(local),
                       0)
    path.write_bytes(bytes(local + central + end))
    return path


def many_codings_project(folder: Path) -> Path:
    # 5 KB of XML: 300 selections of all of a 1 MiB source would cut (and write) 300 MiB.
    text = long_text(2**20)
    selections = "".join(sel(1000 + i, 1, len(text)) for i in range(300))  # each a new str
    return project(folder, qde(source(50, "P1", selections, "internal://a.txt")),
                   zipfile.ZIP_STORED, **{"sources/a.txt": text.encode()})


def one_mib_entries_project(folder: Path) -> Path:
    # Each entry inflates 1 MiB (under the per-entry ratio floor); together they are a bomb.
    sources = "".join(source(100 + i, f"P{i + 1}", sel(1000 + i, 0, 5), f"internal://{i}.txt")
                      for i in range(400))
    return write_zip_directly(folder / "p.qdpx", {
        "project.qde": qde(sources), **{f"sources/{i}.txt": b"a" * 2**20 for i in range(400)}})


BOUNDED = {"many codings": many_codings_project, "one MiB entries": one_mib_entries_project}


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str, Path]]:
    """Each case of ``BOUNDED`` imported by the bounded child: its outcome (``refused``,
    ``imported`` or ``MemoryError``), message and output folder."""
    pairs = []
    for make in BOUNDED.values():
        folder = tmp_path_factory.mktemp("bounded")
        pairs.append((make(folder), folder / "out"))
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_import_each_bounded,
                                                        args=(pairs, send))
    child.start()
    send.close()
    outcomes = {}
    for case, (_, out) in zip(BOUNDED, pairs, strict=True):
        assert receive.poll(120), f"the bounded child gave no outcome for {case}"
        outcomes[case] = (*receive.recv(), out)
    child.join(60)
    assert child.exitcode == 0, child.exitcode
    return outcomes


def refused_bounded(bounded: dict[str, tuple[str, str, Path]], case: str) -> str:
    outcome, message, out = bounded[case]
    assert outcome == "refused", (outcome, message)
    assert not out.exists()
    return message


def test_many_codings_of_a_long_source_are_refused_before_writing(bounded):
    """docs/security.md, section Security: "refuses codings that would cut more than 32 Mi
    characters before cutting any"."""
    message = refused_bounded(bounded, "many codings")
    assert "300 codings select 300.0 Mi characters in all, over the 32 Mi limit" in message


def test_many_one_mib_entries_are_refused_as_one_bomb(bounded):
    """docs/security.md, section Security: "The importer counts what it inflates as it reads (256
    MiB in all, 200-fold at most"."""
    message = refused_bounded(bounded, "one MiB entries")
    assert "fold in total (limit 200); refused as a zip bomb" in message


def test_the_total_read_is_held_to_max_bytes(tmp_path):
    # Text that deflates only ~2 fold, so only the size limit can stop it: 12 x 1 MiB > 8 MiB.
    rng = random.Random(7)
    entries = {f"sources/{i}.txt": rng.randbytes(2**19).hex().encode() for i in range(12)}
    sources = "".join(source(100 + i, f"P{i + 1}", sel(1000 + i, 0, 5), f"internal://{i}.txt")
                      for i in range(12))
    refused(tmp_path, project(tmp_path, qde(sources), **entries),
            "uncompressed, over the 8 MiB limit", max_bytes=8 * 2**20)


def test_unused_large_sources_are_never_read(tmp_path):
    # An audio file the project carries but does not use as text costs nothing.
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)),
                   **{"sources/interview.mp3": b"\0" * (8 * 2**20)})
    importer.import_project(path, tmp_path / "out", max_bytes=2**20)
    assert (tmp_path / "out" / "segments.csv").is_file()


def test_too_many_zip_entries_are_refused_before_the_directory_is_read(tmp_path, monkeypatch):
    """docs/security.md, section Security: "10,000 entries"."""
    monkeypatch.setattr("psu_study.qda.archive.MAX_ENTRIES", 50)
    entries = {f"sources/{i}.txt": b"x" for i in range(60)}
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)), **entries)
    monkeypatch.setattr(zipfile, "ZipFile", None)  # proves the check runs before zipfile does
    refused(tmp_path, path, "61 zip entries, over the limit of 50")


def test_too_many_xml_elements_are_refused_while_parsing(tmp_path, monkeypatch):
    """docs/security.md, section Security: "a 64 MiB `.qde` of at most 1,000,000 elements"."""
    monkeypatch.setattr("psu_study.qda.archive.MAX_XML_ELEMENTS", 1000)
    filler = "<Description>x</Description>" * 1000
    codes = CODES.replace('isCodable="true"/>', f'isCodable="true">{filler}</Code>')
    path = project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=codes))
    refused(tmp_path, path, "has over 1,000 elements")


# ---- the output folder

def good_project(tmp_path: Path) -> Path:
    return project(tmp_path, qde(source(50, "P1", TWO_SELECTIONS)))


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "out"
    out.write_text("mine", encoding="utf-8")
    with pytest.raises(QdaError) as caught:
        importer.import_project(good_project(tmp_path), out)
    assert "is a file, not a folder" in one_line(caught.value, "out")
    assert out.read_text(encoding="utf-8") == "mine"


def test_an_output_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("mine", encoding="utf-8")
    with pytest.raises(QdaError) as caught:
        importer.import_project(good_project(tmp_path), tmp_path / "afile" / "sub" / "out")
    assert "lies under .../afile, which is a file" in one_line(caught.value, "out")


def python_for_nobody() -> tuple[str, dict[str, str]] | None:
    """A Python the unprivileged user can run, with this checkout's package on its path (the
    environment's own interpreter may sit under root's home), or None."""
    def reachable(path: Path) -> bool:  # every folder above it lets others through
        return all(os.stat(p).st_mode & 0o001 for p in (path.resolve(), *path.resolve().parents))

    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    paths = [REPO / "src", Path(sysconfig.get_paths()["purelib"])]
    if not all(reachable(p) for p in paths):  # a checkout in a private folder (mktemp -d)
        return None
    for candidate in (sys.executable, f"/usr/bin/python{version}"):
        if reachable(Path(candidate)):
            return candidate, {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths))}
    return None


def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path):
    # Root may write anywhere, so as root the import runs as the unprivileged user nobody.
    parent = Path(tempfile.mkdtemp(prefix="psu-readonly-"))
    locked = parent / "locked"
    try:
        path = write_zip(parent / "p.qdpx",
                         {"project.qde": qde(source(50, "P1", TWO_SELECTIONS))})
        locked.mkdir()
        path.chmod(0o444)
        for folder in (locked, parent):
            folder.chmod(0o555)
        if os.geteuid() != 0:
            with pytest.raises(QdaError, match="cannot be written: no permission"):
                importer.import_project(path, locked / "out")
        else:
            found = python_for_nobody()
            if found is None:
                pytest.skip("running as root, and the user nobody can reach no Python or not "
                            "this checkout's package (is the checkout in a private folder?)")
            python, env = found
            done = subprocess.run(
                [python, "-m", "psu_study.qda", str(path), "--out-dir", str(locked / "out")],
                capture_output=True, text=True, timeout=120, check=False, cwd=parent, env=env,
                user=65534, group=65534, extra_groups=[])
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
            assert "out: cannot be written: no permission to write in" in lines[0], lines
        assert not (locked / "out").exists()
    finally:
        for folder in (parent, locked):
            folder.chmod(0o755)
        shutil.rmtree(parent)


PARTICIPANTS = "participant_id,gender,training_stage,provenance\nP1,female,FY1,study\n"


def test_overwrite_replaces_only_what_the_import_writes(tmp_path):
    """docs/security.md, section Security: "`--overwrite` replaces only the files an import
    writes"."""
    # The import-then-build path: import, add the contract files, import again.
    path = good_project(tmp_path)
    out = tmp_path / "out"
    importer.import_project(path, out)
    (out / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    (out / "notes.md").write_text("my notes", encoding="utf-8")
    (out / "transcripts" / "P9.txt").write_text("stale, from an earlier import", "utf-8")
    with pytest.raises(QdaError, match="pass overwrite=True"):
        importer.import_project(path, out)  # refused unasked, nothing touched
    assert (out / "transcripts" / "P9.txt").exists()
    importer.import_project(path, out, overwrite=True)
    assert (out / "participants.csv").read_text(encoding="utf-8") == PARTICIPANTS
    assert (out / "notes.md").read_text(encoding="utf-8") == "my notes"
    assert sorted(p.name for p in (out / "transcripts").iterdir()) == ["P1.txt"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    study = load_study(out, tables=["segments"])
    assert study.segments["text"].tolist() == ["I was at breaking point.", "the PSU helped"]


def test_an_interrupted_overwrite_puts_the_old_files_back(tmp_path, monkeypatch):
    """docs/security.md, section Security: "an interrupted swap puts the old files back"."""
    path = good_project(tmp_path)
    out = tmp_path / "out"
    importer.import_project(path, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (tmp_path / "other").mkdir()
    other = project(tmp_path / "other", qde(source(50, "P2", TWO_SELECTIONS)))
    real_replace = os.replace
    calls = []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 5:  # old codebook, coders moved aside and new ones placed; then ^C
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(importer.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        importer.import_project(other, out, overwrite=True)
    monkeypatch.setattr(importer.os, "replace", real_replace)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_refused_project_leaves_an_existing_folder_as_it_was(tmp_path):
    path = good_project(tmp_path)
    out = tmp_path / "out"
    importer.import_project(path, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (tmp_path / "bad").mkdir()
    bad = project(tmp_path / "bad", qde(source(50, "P1", TWO_SELECTIONS + sel(103, 0, 10**6))))
    with pytest.raises(QdaError, match="lie outside its text"):
        importer.import_project(bad, out, overwrite=True)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def cli_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m psu_study.qda`` run as its own process: what a user's shell sees."""
    return subprocess.run([sys.executable, "-m", "psu_study.qda", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def cli(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess[str]:
    """The CLI's ``main`` run in this process from ``cwd``, its status and printed lines as
    ``cli_process`` gives them, without starting Python and importing pandas again (about
    1.7 CPU-s a call). ``main`` catches every exception, so one escaping fails the test."""
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.chdir(cwd)
        code = qda_cli.main(list(args))
    printed = capsys.readouterr()
    return subprocess.CompletedProcess(["psu_study.qda", *args], code, printed.out,
                                       printed.err)


def test_cli_out_dot_overwrite_imports_into_the_current_folder(tmp_path, monkeypatch, capsys):
    path = good_project(tmp_path)
    here = tmp_path / "study"
    here.mkdir()
    (here / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    done = cli(str(path), "--out-dir", ".", cwd=here, monkeypatch=monkeypatch, capsys=capsys)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "pass overwrite=True (--overwrite)" in done.stderr
    done = cli(str(path), "--out-dir", ".", "--overwrite", cwd=here, monkeypatch=monkeypatch,
               capsys=capsys)
    assert done.returncode == 0, done.stderr
    assert (here / "participants.csv").read_text(encoding="utf-8") == PARTICIPANTS
    assert (here / "segments.csv").is_file() and (here / "transcripts" / "P1.txt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.qdpx", "study"]
    assert not [p for p in here.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("make, process", [("encrypted", True), ("deep", False),
                                           ("file out", False)])
def test_cli_prints_one_line_and_fails(tmp_path, monkeypatch, capsys, make, process):
    """docs/security.md, section Security: "Every refusal is one line ...; the importer's command
    line never prints a traceback"."""
    # One case runs the CLI as a process (its exit status, and no traceback from Python
    # itself); the others call its main in this process.
    path = good_project(tmp_path)
    out = tmp_path / "out"
    if make == "encrypted":
        patch_entry(path, "project.qde", flags=0x1)
    elif make == "deep":
        path = project(tmp_path, qde(source(50, "P1"), codes="<Code>" * 500 + "</Code>" * 500))
    else:
        out.write_text("mine", encoding="utf-8")
    args = (str(path), "--out-dir", str(out))
    done = (cli_process(*args, cwd=tmp_path) if process
            else cli(*args, cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys))
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


# ---- legitimate edge cases import

def imported(tmp_path: Path, xml: bytes) -> dict[str, list[str]]:
    out = tmp_path / "out"
    importer.import_project(project(tmp_path, xml), out)
    (out / "participants.csv").write_text(
        "participant_id,gender,training_stage,provenance\n"
        + "".join(f"{p.stem},female,FY1,study\n" for p in (out / "transcripts").iterdir()),
        encoding="utf-8")
    study = load_study(out, tables=["segments"])
    return {"codes": study.codebook["code_id"].tolist(),
            "texts": study.segments["text"].tolist(),
            "transcripts": sorted(study.transcripts)}


def test_a_project_with_one_selection_imports(tmp_path):
    # Was a TypeError in the offset conversion (a one-item groupby key); fixed on qdaimport.
    got = imported(tmp_path, qde(source(50, "P1", sel(101, *BREAKING))))
    assert got["texts"] == ["I was at breaking point."]


def test_one_source_and_one_code_import(tmp_path):
    codes = f'<Code guid="{g(21)}" name="Breaking point" isCodable="true"/>'
    got = imported(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=codes))
    assert got == {"codes": ["T1"], "texts": ["I was at breaking point.", "the PSU helped"],
                   "transcripts": ["P1"]}


def test_a_source_with_no_coding_imports(tmp_path):
    got = imported(tmp_path, qde(source(50, "P1", TWO_SELECTIONS) + source(51, "P2")))
    assert got["transcripts"] == ["P1", "P2"] and len(got["texts"]) == 2


def test_an_empty_codebook_folder_imports(tmp_path):
    folder = f'<Code guid="{g(30)}" name="Not yet used" isCodable="false"/>'
    got = imported(tmp_path, qde(source(50, "P1", TWO_SELECTIONS), codes=CODES + folder))
    assert got["codes"] == ["T1", "C1.1", "T2"]


@pytest.mark.parametrize("raised, code", [(TypeError("a bug\nover two lines"), 3),
                                          (KeyboardInterrupt(), 130)])
def test_cli_last_guard_is_one_line(tmp_path, monkeypatch, capsys, raised, code):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(qda_cli, "import_project", fail)
    assert qda_cli.main([str(good_project(tmp_path)), "--out-dir", str(tmp_path / "out")]) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err


# ---- inputs however made: seeded mutations of a good project import or are refused in one
# line, never anything else (found: an XML declaration naming an unknown encoding)

def test_an_unknown_xml_encoding_is_refused(tmp_path):
    xml = qde(source(50, "P1", TWO_SELECTIONS)).replace(b'encoding="utf-8"', b'encoding="P1"')
    refused(tmp_path, project(tmp_path, xml), "cannot be decoded")


ODD_VALUES = ["", "-1", "0", "1e5", str(2**64), "9" * 30, "{x}", "internal://../x",
              "sources/a.txt", "P1", "\u00e9", "&amp;", "1.5", " 3 "]


def mutated_projects(tmp_path: Path, n: int) -> Iterator[Path]:
    rng = random.Random(12)
    xml = qde(source(50, "P1", TWO_SELECTIONS, "internal://a.txt")
              + source(51, "P2", sel(103, *HELPED) + sel(104, *BREAKING))).decode()
    good = project(tmp_path, xml.encode(), **{"sources/a.txt": TEXT.encode()}).read_bytes()
    for i in range(n):
        path = tmp_path / f"m{i}.qdpx"
        if i % 2:  # flip bytes of the archive
            data = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data))
        else:  # odd attribute values, elements dropped or repeated
            text = xml
            for _ in range(rng.randint(1, 3)):
                m = rng.choice(list(re.finditer(r'="([^"]*)"', text)))
                text = text[:m.start(1)] + rng.choice(ODD_VALUES) + text[m.end(1):]
            elements = list(re.finditer(r"<(User|Code|CodeRef)\b[^>]*/>|"
                                        r"<(PlainTextSelection|TextSource)\b.*?</\2>", text))
            m = rng.choice(elements)
            text = text[:m.start()] + rng.choice(["", m.group(0) * 2]) + text[m.end():]
            write_zip(path, {"project.qde": text.encode(), "sources/a.txt": TEXT.encode()})
        yield path


def test_mutated_projects_import_or_are_refused_in_one_line(tmp_path):
    outcomes = {"imported": 0, "refused": 0}
    for path in mutated_projects(tmp_path, 200):
        out = tmp_path / f"out-{path.stem}"
        try:
            importer.import_project(path, out)
            outcomes["imported"] += 1
        except QdaError as exc:
            one_line(exc, path.name)
            assert not out.exists()
            outcomes["refused"] += 1
    assert outcomes["imported"] >= 10 and outcomes["refused"] >= 100, outcomes  # both paths
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _import_until_killed(args: list[str], printed: int, errors: int) -> None:
    """In a forked child: the CLI's main with its standard output and error on the pipes
    ``printed`` and ``errors``, waiting once the files are staged, until it is killed; its
    exit status is main's, as ``python -m psu_study.qda`` exits with it."""
    write = importer._write_tables

    def write_then_wait(*written: object) -> None:
        write(*written)
        print("written", flush=True)
        time.sleep(60)

    importer._write_tables = write_then_wait
    with (open(printed, "w", buffering=1, encoding="utf-8") as sys.stdout,
          open(errors, "w", buffering=1, encoding="utf-8") as sys.stderr):
        code = qda_cli.main(args)
    sys.exit(code)


def test_a_killed_import_leaves_no_hidden_folder_and_the_old_files(tmp_path):
    # The import runs in a child forked from this process (the package imported already, so
    # no new interpreter imports pandas) and is killed with SIGTERM, as a user's kill does.
    path = good_project(tmp_path)
    out = tmp_path / "out"
    importer.import_project(path, out)
    (out / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (printed, printing), (errors, erring) = os.pipe(), os.pipe()
    child = multiprocessing.get_context("fork").Process(target=_import_until_killed, args=(
        [str(path), "--out-dir", str(out), "--overwrite"], printing, erring))
    child.start()
    os.close(printing)
    os.close(erring)
    with open(printed, encoding="utf-8") as stdout, open(errors, encoding="utf-8") as stderr:
        assert stdout.readline() == "written\n"  # staged in a hidden folder inside out
        assert [p.name for p in out.iterdir() if p.name.startswith(".qda-import-")]
        child.terminate()
        err = stderr.read()
    child.join(60)
    assert child.exitcode == 130 and err.count("\n") == 1 and "interrupted" in err, err
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_entries_counted_in_a_zip64_end_record_are_refused_before_zipfile(tmp_path,
                                                                          monkeypatch):
    # 70,001 entries do not fit the classic end record's 16 bits: zip64 records count them.
    path = write_zip_directly(tmp_path / "p.qdpx", {
        **{f"sources/{i}.txt": b"" for i in range(70_000)},
        "project.qde": qde(source(50, "P1", TWO_SELECTIONS))})
    monkeypatch.setattr(zipfile, "ZipFile", None)  # the check runs before zipfile parses
    refused(tmp_path, path, "70,001 zip entries, over the limit of 10,000")
