"""Read and write REFI-QDA 1.0 projects, the exchange format of NVivo, ATLAS.ti and MAXQDA.

Import turns a ``.qdpx`` (or a bare ``.qde`` with its ``sources`` folder) into the data
contract's ``codebook.csv``, ``segments.csv`` and ``coders.csv`` plus ``sources.csv`` and
``transcripts/``, so the study's own NVivo coding can replace the synthetic stand-ins. Export
writes the repository's coding back out, so it can be opened in any QDA package. The rules
(levels, ids, coders, participants, offsets) are documented in ``docs/qda.md``.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import os
import re
import shutil
import signal
import stat
import struct
import sys
import tempfile
import uuid
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NoReturn
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np
import pandas as pd

from . import schema, staging, validation
from .loader import clip, clip_message, open_regular, show
from .paths import display_path

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
MAX_BYTES = 256 * 2**20
"""Uncompressed size of the project file and the sources it uses together: a hundred times
the text of a large interview study (a one-hour transcript is about 60 KB). Sources the
project holds but does not use as text (audio, PDF) are never read and do not count."""
MAX_XML_BYTES = 64 * 2**20
"""Size of the ``.qde`` alone: its tree takes about five times this in memory."""
MAX_XML_ELEMENTS = 1_000_000
"""Elements of the ``.qde``: a study of 100 interviews with 500 codings each has 150,000."""
MAX_XML_DEPTH = 100
"""Nesting of the ``.qde``: codebooks are rarely ten levels deep."""
MAX_ENTRIES = 10_000
"""Zip entries (or files in a bare project's sources folder): one or two per source."""
MAX_DIRECTORY_BYTES = 16 * 2**20
"""A zip's central directory, which ``zipfile`` reads whole before any check can run."""
MAX_SELECTED_CHARS = 32 * 2**20
"""Characters of coded text in all segments together: ``segments.csv`` then stays under the
loader's 128 MiB file limit, and the same long text coded over and over is refused before
anything is written rather than after writing hundreds of MiB."""
MAX_RATIO = 200
"""Text deflates about 3-10 fold; an entry that inflates more than this is a zip bomb."""
_RATIO_FLOOR = 2**20
"""Small entries may legitimately compress very well (a file of blanks); only larger ones
are held to ``MAX_RATIO``."""
_GUID_NS = uuid.uuid5(uuid.NAMESPACE_DNS, "psu-study.invalid")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,12}$")
PARTICIPANT_IN_NAME = re.compile(r"(?<![A-Za-z])(?:participant|ppt|p)[\s_#-]*0*(\d{1,6})(?!\d)",
                                 re.IGNORECASE)
"""First ``P3``, ``P03``, ``PPT 3``, ``Participant_3`` in a case or source name means P3."""


class QdaError(ValueError):
    """A project file cannot be read as REFI-QDA; names the file and what is wrong."""

    def __init__(self, file: Path | str, message: str) -> None:
        self.file = display_path(Path(file)) if isinstance(file, Path) else file
        self.message = clip_message(message)
        super().__init__(f"{self.file}: {self.message}")


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote and which of its documented rules decided what."""

    project: str
    out_dir: Path
    offsets: str
    offsets_reason: str
    n_codes: int
    n_segments: int
    coders: tuple[str, ...]
    participants: dict[str, str]
    warnings: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        lines = [
            f"{self.project}: {self.n_codes} codes, {self.n_segments} segments by "
            f"{', '.join(self.coders) or 'nobody'} -> {display_path(self.out_dir)}",
            f"offsets: {self.offsets} ({self.offsets_reason})",
            *(f"source {clip(name, 80)!r} -> {pid}" for name, pid in self.participants.items()),
            *(f"warning: {w}" for w in self.warnings),
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- reading files

def _local(tag: object) -> str:
    """An element's name without its namespace: exports differ in namespace, not in names."""
    return str(tag).rsplit("}", 1)[-1]


def _kids(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _kid(element: ET.Element, name: str) -> ET.Element | None:
    found = _kids(element, name)
    return found[0] if found else None


def _guid(value: str | None) -> str:
    """GUIDs compared as exports write them differently: braces and case vary."""
    return (value or "").strip().strip("{}").lower()


def _unsafe_member(name: str) -> bool:
    parts = re.split(r"[/\\]", name)
    return (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in parts)


class _Budget:
    """Bytes inflated or read so far, held to the project's limits as each file is read, so
    a project is refused for what it makes, not only for what it declares."""

    def __init__(self, where: str, max_bytes: int, max_ratio: float) -> None:
        self.where, self.max_bytes, self.max_ratio = where, max_bytes, max_ratio
        self.inflated = self.compressed = 0

    def spend(self, name: str, size: int, compressed: int | None = None) -> None:
        if compressed is not None:
            if size > _RATIO_FLOOR and size > self.max_ratio * max(compressed, 1):
                raise QdaError(self.where, f"entry {show(name)} inflates "
                               f"{size / max(compressed, 1):.0f}-fold (limit "
                               f"{self.max_ratio:.0f}); refused as a zip bomb")
            self.compressed += compressed
        self.inflated += size
        if self.inflated > self.max_bytes:
            raise QdaError(self.where, "the project and the sources it uses are, "
                           f"uncompressed, over the {self.max_bytes / 2**20:.3g} MiB limit")
        if (compressed is not None and self.inflated > _RATIO_FLOOR
                and self.inflated > self.max_ratio * max(self.compressed, 1)):
            raise QdaError(self.where, f"the entries read inflate "
                           f"{self.inflated / max(self.compressed, 1):.0f}-fold in total "
                           f"(limit {self.max_ratio:.0f}); refused as a zip bomb")


@dataclass
class _Bundle:
    """A project's XML, and its source files, read on demand within the limits: a project
    may carry audio or PDF sources far larger than its text, which are never read."""

    xml: bytes
    xml_name: str
    files: dict[str, str]
    """Each file under ``sources``/``Sources``, by its path inside that folder, to the key
    ``read`` takes (a zip entry's name, or a file's path)."""
    read: Callable[[str], bytes]
    folded: dict[str, list[str]] = field(init=False)
    """``files``' names by their lower case, built once: looked up per source, it stays
    linear in the number of sources."""

    def __post_init__(self) -> None:
        self.folded = {}
        for name in self.files:
            self.folded.setdefault(name.lower(), []).append(name)

    def source(self, where: str, path: str) -> bytes:
        """The file a ``plainTextPath`` names: ``internal://x.txt`` or a bare relative path,
        inside the ``sources``/``Sources`` folder."""
        relative = re.sub(r"^internal://", "", path).replace("\\", "/").lstrip("./")
        if "://" in relative:
            raise QdaError(where, f"source path {show(path)} points outside the project; only "
                           "internal:// and relative paths are supported")
        parts = PurePosixPath(relative).parts
        if parts and parts[0].lower() == "sources":
            relative = "/".join(parts[1:])
        if relative in self.files:
            return self.read(self.files[relative])
        folded = self.folded.get(relative.lower(), [])
        if len(folded) == 1:
            return self.read(self.files[folded[0]])
        raise QdaError(where, f"source file {show(path)} is not in the project's sources "
                       "folder")


def _pick_qde(where: str, names: list[str], stem: str) -> str:
    """``project.qde`` (any case), else the one named after the project, else the only one."""
    qdes = [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
    if not qdes:
        raise QdaError(where, "no .qde project file inside (a .qdpx holds one at its top level)")
    for wanted in ("project.qde", f"{stem.lower()}.qde"):
        hits = [n for n in qdes if n.lower() == wanted]
        if hits:
            return hits[0]
    if len(qdes) > 1:
        raise QdaError(where, f"several .qde files inside ({', '.join(map(show, sorted(qdes)))})"
                       "; expected one")
    return qdes[0]


def _source_files(where: str, names: list[str]) -> dict[str, str]:
    """The files under ``sources/`` (any case) by their path inside it; two entries that
    would be one file (``Sources/a.txt`` and ``sources/a.txt``) are refused."""
    files: dict[str, str] = {}
    for name in names:
        parts = name.split("/", 1)
        if len(parts) == 2 and parts[0].lower() == "sources" and parts[1]:
            if parts[1] in files:
                raise QdaError(where, f"entries {show(files[parts[1]])} and {show(name)} are "
                               "the same source file; refused as ambiguous")
            files[parts[1]] = name
    return files


_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
               NotImplementedError, RuntimeError, ValueError, struct.error)
"""What ``zipfile`` raises on a damaged archive: bad CRC or header, truncated or corrupt
deflate stream, unsupported feature, encryption, malformed numbers."""


def _central_directory(where: str, path: Path) -> None:
    """Refuse an archive whose end record announces more than ``MAX_ENTRIES`` entries or a
    central directory over ``MAX_DIRECTORY_BYTES``, before ``zipfile`` reads it all into
    memory (about 300 bytes per entry). Zip64 records are followed to their real counts."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 22 - 65535))
        tail = handle.read()
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or len(tail) < end + 22:
            raise QdaError(where, "damaged zip archive (no end of central directory)")
        entries, directory = struct.unpack("<HI", tail[end + 10:end + 16])
        locator = end - 20
        if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator >= 0 \
                and tail[locator:locator + 4] == b"PK\x06\x07":
            handle.seek(struct.unpack("<Q", tail[locator + 8:locator + 16])[0])
            record = handle.read(56)
            if len(record) < 56 or record[:4] != b"PK\x06\x06":
                raise QdaError(where, "damaged zip archive (bad zip64 end record)")
            entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ENTRIES:
        raise QdaError(where, f"{entries:,} zip entries, over the limit of {MAX_ENTRIES:,}")
    if directory > MAX_DIRECTORY_BYTES:
        raise QdaError(where, f"zip directory of {directory / 2**20:.1f} MiB, over the "
                       f"{MAX_DIRECTORY_BYTES / 2**20:.0f} MiB limit")


@contextmanager
def _open_zip(path: Path, max_bytes: int, max_ratio: float) -> Iterator[_Bundle]:
    where = display_path(path)
    if not zipfile.is_zipfile(path):
        raise QdaError(where, "not a zip archive; a .qdpx project is a zip holding a .qde file")
    _central_directory(where, path)
    budget = _Budget(where, max_bytes, max_ratio)
    try:
        archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise QdaError(where, f"damaged zip archive ({type(exc).__name__}: "
                       f"{clip(str(exc), 80)})") from None
    with archive:
        if len(infos) > MAX_ENTRIES:
            raise QdaError(where, f"{len(infos):,} zip entries, over the limit of "
                           f"{MAX_ENTRIES:,}")
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if _unsafe_member(info.filename):
                raise QdaError(where, f"entry {show(info.filename)} would be written outside "
                               "the project folder; refused")
            if info.filename in by_name:
                raise QdaError(where, f"entry {show(info.filename)} appears twice; refused "
                               "as ambiguous")
            by_name[info.filename] = info
        files = [i.filename for i in infos if not i.is_dir()]
        qde = _pick_qde(where, files, path.stem)

        def read(name: str) -> bytes:
            info = by_name[name]
            if info.flag_bits & 0x1:
                raise QdaError(where, f"entry {show(name)} is encrypted; export the project "
                               "without a password")
            if info.compress_type not in _METHODS:
                raise QdaError(where, f"entry {show(name)} uses compression method "
                               f"{info.compress_type}, which is not supported (stored, "
                               "deflate, bzip2, lzma)")
            if name == qde and info.file_size > MAX_XML_BYTES:
                raise QdaError(where, f"{show(name)} is {info.file_size / 2**20:.1f} MiB, "
                               f"over the {MAX_XML_BYTES / 2**20:.0f} MiB limit")
            budget.spend(name, info.file_size, info.compress_size)
            try:
                return archive.read(info)  # at most file_size bytes, CRC checked
            except _ZIP_ERRORS as exc:
                raise QdaError(where, f"entry {show(name)} cannot be read: damaged zip "
                               f"archive ({type(exc).__name__}: {clip(str(exc), 80)})"
                               ) from None

        yield _Bundle(read(qde), qde, _source_files(where, files), read)


def _regular_bytes(where: str, path: Path, shown: str, budget: _Budget) -> bytes:
    """A file of the project's folder, if it is a regular file and not a link."""
    try:
        fd = open_regular(path, shown)
    except validation.DataError as exc:
        raise QdaError(where, exc.message if shown == where else f"{shown} {exc.message}"
                       ) from None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        budget.spend(shown, size)
        data = handle.read(size + 1)
    if len(data) > size:
        raise QdaError(where, f"{shown} grew while it was read; refused")
    return data


@contextmanager
def _open_folder(path: Path, max_bytes: int) -> Iterator[_Bundle]:
    """A bare ``.qde`` with its sources in a ``sources``/``Sources`` folder beside it.

    Only that folder is read, and no link is followed out of it: a symbolic link or a
    special file anywhere in it is refused, naming it.
    """
    where = display_path(path)
    budget = _Budget(where, max_bytes, MAX_RATIO)
    files: dict[str, str] = {}

    def inside(entry: Path) -> str:  # named within the project's folder, as the user sees it
        return show(entry.relative_to(path.parent).as_posix())

    for folder in (path.parent / "sources", path.parent / "Sources"):
        if folder.is_symlink():
            raise QdaError(where, f"{inside(folder)} is a symbolic link; links are not "
                           "followed (make it a folder beside the .qde)")
        if not folder.is_dir():
            continue
        for top, dirs, names in os.walk(folder):  # never descends into a linked folder
            for name in sorted(dirs + names):
                entry = Path(top) / name
                mode = entry.lstat().st_mode
                if stat.S_ISLNK(mode):
                    raise QdaError(where, f"{inside(entry)} in the sources folder is a "
                                   "symbolic link; links are not followed (copy the file in)")
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    raise QdaError(where, f"{inside(entry)} in the sources folder is not "
                                   "a regular file (a pipe, socket or device); refused")
                if stat.S_ISREG(mode):
                    files[entry.relative_to(folder).as_posix()] = str(entry)
                    if len(files) > MAX_ENTRIES:
                        raise QdaError(where, f"the sources folder holds over {MAX_ENTRIES:,} "
                                       "files (the limit)")
        break

    def read(key: str) -> bytes:
        return _regular_bytes(where, Path(key), inside(Path(key)), budget)

    if path.stat().st_size > MAX_XML_BYTES:
        raise QdaError(where, f"is {path.stat().st_size / 2**20:.1f} MiB, over the "
                       f"{MAX_XML_BYTES / 2**20:.0f} MiB limit")
    yield _Bundle(_regular_bytes(where, path, where, budget), path.name, files, read)


def _open_project(path: Path, max_bytes: int, max_ratio: float
                  ) -> AbstractContextManager[_Bundle]:
    return (_open_folder(path, max_bytes) if path.suffix.lower() == ".qde"
            else _open_zip(path, max_bytes, max_ratio))


class _BoundedTree(ET.TreeBuilder):
    """A tree builder that refuses, while the XML is parsed, more than ``MAX_XML_ELEMENTS``
    elements or nesting deeper than ``MAX_XML_DEPTH``: a tree takes about five times its
    XML in memory, and deep nesting only ever comes from a crafted file."""

    def __init__(self, where: str, name: str) -> None:
        super().__init__()
        self.where, self.name, self.depth, self.elements = where, name, 0, 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth, self.elements = self.depth + 1, self.elements + 1
        if self.depth > MAX_XML_DEPTH:
            raise QdaError(self.where, f"{self.name} nests elements over {MAX_XML_DEPTH} deep "
                           "(the limit); refused")
        if self.elements > MAX_XML_ELEMENTS:
            raise QdaError(self.where, f"{self.name} has over {MAX_XML_ELEMENTS:,} elements "
                           "(the limit); refused")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return super().end(tag)


def _parse(where: str, bundle: _Bundle) -> ET.Element:
    # Fed in one call: expat rescans a token split across feeds, so a 20 MB attribute fed
    # in iterparse's 16 KiB chunks took 15 s (quadratic); in one feed, 0.35 s.
    parser = SafeET.XMLParser(target=_BoundedTree(where, bundle.xml_name))
    try:
        parser.feed(bundle.xml)
        root = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise QdaError(where, f"{bundle.xml_name} declares XML entities or external references "
                       f"({type(exc).__name__}); refused to protect against entity expansion"
                       ) from None
    except ET.ParseError as exc:
        raise QdaError(where, f"{bundle.xml_name} is not well-formed XML: {exc}") from None
    except (LookupError, UnicodeError) as exc:  # <?xml encoding="..."?> names no codec
        raise QdaError(where, f"{bundle.xml_name} cannot be decoded ({clip(str(exc), 80)}); "
                       "REFI-QDA projects are UTF-8") from None
    if _local(root.tag) != "Project":
        raise QdaError(where, f"{bundle.xml_name}: root element is <{clip(_local(root.tag))}>, "
                       "expected a REFI-QDA <Project>")
    return root


# ------------------------------------------------------------------------------ codebook

def _code_rows(where: str, root: ET.Element) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Codebook rows in the contract's three levels, and each code guid's code_id.

    Ids follow the repository's scheme from position alone (T1, S4.1, C4.1, C4.1.2), so a
    project exported from this repository comes back with its own ids.
    """
    book = _kid(root, "CodeBook")
    codes = _kid(book, "Codes") if book is not None else None
    rows: list[dict[str, object]] = []
    id_of: dict[str, str] = {}
    notes: list[str] = []

    def add(element: ET.Element, code_id: str, parent: str | None, level: str, order: int,
            name: str) -> None:
        guid = _guid(element.get("guid"))
        if not guid:
            raise QdaError(where, f"code {show(name)} has no guid")
        if guid in id_of:
            raise QdaError(where, f"code guid {show(guid)} appears twice in the codebook; "
                           "refused as ambiguous")
        id_of[guid] = code_id
        description = _kid(element, "Description")
        rows.append({"code_id": code_id, "parent_id": parent or "", "level": level,
                     "name": name, "definition": (description.text or "").strip()
                     if description is not None else "", "order": order,
                     "provenance": "study"})

    def descendants(element: ET.Element, prefix: str) -> Iterator[tuple[ET.Element, str]]:
        for child in _kids(element, "Code"):
            name = f"{prefix} > {child.get('name', '')}" if prefix else child.get("name", "")
            yield child, name
            yield from descendants(child, name)

    themes = _kids(codes, "Code") if codes is not None else []
    for t, theme in enumerate(themes, start=1):
        add(theme, f"T{t}", None, "theme", t, theme.get("name", ""))
        counters = {"subtheme": 0, "code": 0}
        for order, child in enumerate(_kids(theme, "Code"), start=1):
            level = "subtheme" if _kids(child, "Code") else "code"
            counters[level] += 1
            child_id = f"{'S' if level == 'subtheme' else 'C'}{t}.{counters[level]}"
            add(child, child_id, f"T{t}", level, order, child.get("name", ""))
            for k, (deep, name) in enumerate(descendants(child, ""), start=1):
                add(deep, f"C{t}.{counters[level]}.{k}", child_id, "code", k, name)
                if " > " in name:
                    notes.append(f"code {name!r} sat below the third level; kept under "
                                 f"{child_id} with its path as name")
    return pd.DataFrame(rows, columns=list(schema.TABLES["codebook"].column_names)), id_of, notes


# --------------------------------------------------------------------- users and sources

def _refuse_repeats(where: str, kind: str, guids: list[str]) -> None:
    """Refuse two elements of one kind sharing a guid: every reference to it would be
    ambiguous (one coder's work credited to another, segments cut from the wrong text)."""
    repeated = [g for g, n in Counter(guids).items() if n > 1]
    if repeated:
        which = f"share guid {show(repeated[0])}" if repeated[0] else "have no guid"
        raise QdaError(where, f"two {kind}s {which}; every {kind} needs its own (refused as "
                       "ambiguous)")


def _users(where: str, root: ET.Element) -> dict[str, str]:
    """Each user guid's coder label: the name when it is a short id (initials such as EW),
    else the ``id`` attribute when that is, else the guid; a label two users share falls
    back to their guids, so coders are never merged."""
    users = _kid(root, "Users")
    found = _kids(users, "User") if users is not None else []
    _refuse_repeats(where, "user", [_guid(user.get("guid")) for user in found])
    labels = {}
    for user in found:
        guid = _guid(user.get("guid"))
        labels[guid] = next((v for v in (user.get("name") or "", user.get("id") or "")
                             if _SHORT_ID.match(v)), guid)
    taken = pd.Series(list(labels.values()), dtype=object).value_counts()
    return {g: label if taken[label] == 1 else g for g, label in labels.items()}


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    element: ET.Element
    bom: bool = False
    """Its file began with a byte-order mark, which NVivo counts as a character."""


def _text_sources(where: str, root: ET.Element, bundle: _Bundle) -> tuple[list[_Source],
                                                                          list[str]]:
    """Each ``TextSource`` with its text (BOM removed) and the name a user knows it by: its
    ``name``, else the file name of its ``plainTextPath``, else its GUID."""
    found = _kid(root, "Sources")
    sources: list[_Source] = []
    other = sorted({_local(c.tag) for c in found if _local(c.tag) != "TextSource"}) \
        if found is not None else []
    notes = [f"skipped non-text sources ({', '.join(other)})"] if other else []
    for element in _kids(found, "TextSource") if found is not None else []:
        guid = _guid(element.get("guid"))
        path = element.get("plainTextPath") or ""
        name = ((element.get("name") or "").strip()
                or PurePosixPath(path.replace("\\", "/")).name or guid)
        content = _kid(element, "PlainTextContent")
        bom = False
        if path:
            raw = bundle.source(where, path)
            bom = raw.startswith(codecs.BOM_UTF8)
            try:
                text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise QdaError(where, f"source {name!r} is not UTF-8 (byte {exc.start}); "
                               "REFI-QDA plain text is UTF-8") from None
        elif content is not None:
            text = content.text or ""
            bom = text.startswith("\ufeff")
            text = text.removeprefix("\ufeff")
        else:
            raise QdaError(where, f"text source {name!r} has neither a plainTextPath nor "
                           "PlainTextContent")
        sources.append(_Source(guid, name, text, element, bom))
    return sources, notes


@dataclass(frozen=True)
class _Map:
    """An analyst's participant map: by source GUID where a row gives one (as an import's
    ``sources.csv`` does, so it can be edited and given back), else by source name."""

    where: str
    by_guid: dict[str, str]
    by_name: dict[str, str]


def _read_map(path: Path) -> _Map:
    """``source_name,participant_id`` rows (or ``sources.csv``): the analyst's word beats
    every naming rule."""
    where = display_path(path)
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise QdaError(where, f"cannot read the participant map ({str(exc)[:200]})") from None
    header = set(rows[0]) if rows else set()
    if "participant_id" not in header or not header & {"source_name", "source_guid"}:
        raise QdaError(where, "expected a header source_name,participant_id (or an import's "
                       "sources.csv) and one row per source")
    by_guid: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for i, row in enumerate(rows, start=1):
        guid = _guid(row.get("source_guid"))
        name = (row.get("source_name") or "").strip()
        pid = (row.get("participant_id") or "").strip()
        if not re.fullmatch(schema.PARTICIPANT_ID, pid):
            raise QdaError(where, f"row {i}: participant_id {pid[:40]!r} is not P and a number")
        key, table = (guid, by_guid) if guid else (name, by_name)
        if not key:
            raise QdaError(where, f"row {i}: names no source (source_guid and source_name "
                           "are empty)")
        if key in table:
            raise QdaError(where, f"row {i}: source {key[:80]!r} is mapped twice")
        table[key] = pid
    return _Map(where, by_guid, by_name)


def _participants(where: str, root: ET.Element, sources: list[_Source], coded: set[str],
                  mapping: _Map | None, auto_map: bool) -> tuple[dict[str, str], list[str]]:
    """Each source guid's participant: the map (by GUID, else by name); else the Case
    naming the source, else the source's own name (``PARTICIPANT_IN_NAME``); else, with
    ``auto_map`` or when no map is given and no name carries a number, ``P1..Pn`` over the
    coded sources in document order, for the user to check in ``sources.csv``. Uncoded
    sources with no participant are left out; a coded one no rule places stops the
    import. ``auto_map`` numbers every coded source the map does not place, ignoring names."""
    if mapping is not None:
        unknown = [*sorted(set(mapping.by_guid) - {s.guid for s in sources}),
                   *sorted(set(mapping.by_name) - {s.name for s in sources})]
        if unknown:
            raise QdaError(mapping.where, f"names sources the project does not have: "
                           f"{[u[:80] for u in unknown[:10]]}")
    case_of: dict[str, str] = {}
    cases = _kid(root, "Cases")
    for case in _kids(cases, "Case") if cases is not None else []:
        for ref in _kids(case, "SourceRef"):
            case_of.setdefault(_guid(ref.get("targetGUID")), case.get("name") or "")

    def mapped(source: _Source) -> str | None:
        if mapping is None:
            return None
        return mapping.by_guid.get(source.guid) or mapping.by_name.get(source.name)

    def named(source: _Source) -> str | None:
        for name in (case_of.get(source.guid, ""), source.name):
            found = PARTICIPANT_IN_NAME.search(name)
            if found:
                return f"P{int(found.group(1))}"
        return None

    pid_of: dict[str, str] = {}
    unplaced: list[_Source] = []
    for source in sources:
        pid = mapped(source) or (None if auto_map else named(source))
        if pid:
            pid_of[source.guid] = pid
        else:
            unplaced.append(source)
    notes: list[str] = []
    pending = [s for s in unplaced if s.guid in coded]
    if pending and (auto_map or (mapping is None and not pid_of)):
        taken = set(pid_of.values())
        free = (f"P{n}" for n in range(1, len(taken) + len(pending) + 1)
                if f"P{n}" not in taken)
        for source in pending:
            pid_of[source.guid] = next(free)
        why = "as asked" if auto_map else "as no Case or source name holds a participant number"
        notes.append(f"numbered the {len(pending)} coded sources {pid_of[pending[0].guid]}.."
                     f"{pid_of[pending[-1].guid]} in document order ({why}); check "
                     "sources.csv in the output folder, edit it if need be, and re-import "
                     "with --participants <that sources.csv>")
        pending = []
    if pending:
        raise QdaError(where, f"cannot tell whose transcript source {pending[0].name[:80]!r} "
                       "is: neither its Case nor its name holds P<n>, PPT <n> or "
                       "Participant <n>; give a --participants map, or --auto-map to "
                       "number the coded sources in document order")
    notes += [f"uncoded source {s.name[:80]!r} has no participant; left out"
              for s in unplaced if s.guid not in coded]
    owners = pd.Series(pid_of, dtype=object)
    twice = owners[owners.duplicated(keep=False)]
    if len(twice):
        names = [s.name[:80] for s in sources if s.guid in twice.index]
        raise QdaError(where, f"sources {names} all map to {twice.iloc[0]}; the data contract "
                       "has one transcript per participant (merge them or give a map)")
    return pid_of, notes


# ------------------------------------------------------------------------------ offsets

@dataclass
class _Span:
    source: int
    element: ET.Element
    start: int
    end: int


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Reading:
    """One way a tool may have counted positions: in UTF-16 code units (NVivo) or code
    points (the standard), with the file's byte-order mark counted as a character or not,
    and a CRLF line end as one character or two."""

    utf16: bool
    bom: bool
    crlf_one: bool

    @property
    def name(self) -> str:
        return ("utf16" if self.utf16 else "codepoint") + ("+bom" if self.bom else "") + (
            "+crlf1" if self.crlf_one else "")

    @property
    def description(self) -> str:
        return (f"{'UTF-16 code units' if self.utf16 else 'code points'}, BOM "
                f"{'counted' if self.bom else 'not counted'}, CRLF as "
                f"{'one character' if self.crlf_one else 'two'}")


READINGS = tuple(_Reading(u, b, c) for u in (False, True) for b in (False, True)
                 for c in (False, True))
"""Every reading, the standard's (code points, no BOM, CRLF as two) first: ties go to the
earlier one."""
OFFSET_NAMES = tuple(r.name for r in READINGS)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class _Layout:
    """Where a text's counts differ between readings: the code-point index of each
    character outside the BMP and of each CRLF's CR. Memory grows with those characters
    (8 bytes each), not with the text."""

    length: int
    bom: bool
    astral: np.ndarray
    crlf: np.ndarray

    @classmethod
    def of(cls, source: _Source) -> _Layout:
        text = source.text
        wide = bool(text) and max(text) > "\uffff"
        return cls(len(text), source.bom,
                   np.fromiter((m.start() for m in _ASTRAL.finditer(text)), np.int64)
                   if wide else _EMPTY,
                   np.fromiter((m.start() for m in re.finditer("\r\n", text)), np.int64)
                   if "\r\n" in text else _EMPTY)

    def units(self) -> int:
        """The text's length in the longest reading (UTF-16 units, BOM counted)."""
        return self.length + len(self.astral) + int(self.bom)


def _to_code_points(layout: _Layout, raw: np.ndarray, reading: _Reading) -> np.ndarray | None:
    """Positions (any shape) read under ``reading``, as code-point indices into the text
    as written (BOM removed, CRLF kept); None if one splits a surrogate pair or leaves
    the text."""
    if (raw < 0).any():
        return None
    points = raw.astype(np.int64)
    if reading.bom and layout.bom:
        points = np.maximum(points - 1, 0)  # 0 is before the mark: the text's start
    astral, newlines = layout.astral, _EMPTY
    if reading.crlf_one and len(layout.crlf):
        # In the counted text each CRLF is one LF, at its CR's index less the CRs before it.
        newlines = layout.crlf - np.arange(len(layout.crlf))
        astral = astral - np.searchsorted(layout.crlf, astral)
    if reading.utf16 and len(astral):
        high = astral + np.arange(len(astral))  # each one's high surrogate, in units
        if np.isin(points, high + 1).any():
            return None
        points = points - np.searchsorted(high + 2, points, side="right")
    if len(newlines):
        points = points + np.searchsorted(newlines, points, side="left")
    return None if (points > layout.length).any() else points


def _start_clean(text: str, start: int) -> bool:
    if start == 0 or text[start - 1] == "\n":
        return True
    before, at = text[start - 1], text[start]
    return not at.isspace() and not (before.isalnum() and at.isalnum())


def _end_clean(text: str, end: int) -> bool:
    if end == len(text) or text[end - 1] == "\n" or text[end] == "\r" or (
            text[end] == "\n" and text[end - 1] != "\r"):
        return True
    before, at = text[end - 1], text[end]
    return not before.isspace() and not (before.isalnum() and at.isalnum())


def _clean_ends(text: str, start: int, end: int) -> int:
    """How many of a span's two ends sit where a person selecting text puts them: at the
    text's or a line's start or end, or between a word and a space or punctuation; never
    inside a word, on the space beside it, or between a CR and its LF."""
    if start >= end:
        return 0
    return _start_clean(text, start) + _end_clean(text, end)


def _detect_offsets(where: str, sources: list[_Source], spans: list[_Span],
                    forced: str | None = None) -> tuple[str, str, np.ndarray]:
    """The reading of the selections' positions under which they fit the text best.

    Every reading that keeps each span inside its text (and off half a surrogate pair) is
    scored by how many selection names match the text it cuts, then by how many span ends
    fall on word or line boundaries; the best wins, the standard's on a tie. Refused when
    no reading fits or the best still cuts most spans mid-word (``forced`` names a reading
    to use regardless)."""
    layouts = [_Layout.of(s) for s in sources]
    rows: dict[int, list[int]] = {}
    for i, span in enumerate(spans):
        rows.setdefault(span.source, []).append(i)
    raw = np.array([(s.start, s.end) for s in spans], dtype=np.int64).reshape(-1, 2)
    relevant = [r for r in READINGS
                if (not r.utf16 or any(len(x.astral) for x in layouts))
                and (not r.bom or any(x.bom for x in layouts))
                and (not r.crlf_one or any(len(x.crlf) for x in layouts))]
    if forced is not None:
        relevant = [r for r in READINGS if r.name == forced]
        if not relevant:
            raise QdaError(where, f"unknown offset reading {forced!r}; one of "
                           f"{', '.join(OFFSET_NAMES)}")
    names = [_norm(s.element.get("name") or "").rstrip("…. ") for s in spans]
    scored: list[tuple[int, int, int, _Reading, np.ndarray]] = []
    for order, reading in enumerate(relevant):
        points = np.empty_like(raw)
        for source, indices in rows.items():
            mapped = _to_code_points(layouts[source], raw[indices], reading)
            if mapped is None or (mapped[:, 0] > mapped[:, 1]).any():
                break
            points[indices] = mapped
        else:
            matches = ends = 0
            for span, name, (start, end) in zip(spans, names, points.tolist(), strict=True):
                text = sources[span.source].text
                ends += _clean_ends(text, start, end)
                matches += bool(name) and _norm(text[start:end]).startswith(name)
            scored.append((matches, ends, -order, reading, points))
    if not scored:
        _refuse_span(where, sources, spans, layouts)
    scored.sort(key=lambda s: s[:3], reverse=True)
    matches, ends, _, best, points = scored[0]
    named, total = sum(map(bool, names)), 2 * len(spans)

    def score(m: int, e: int) -> str:
        return (f"selection names match {m} of {named} spans, " if named else "") + (
            f"{e} of {total} span ends on word or line boundaries")

    if forced is not None:
        return best.name, f"{best.description}, as asked; {score(matches, ends)}", points
    if not spans:
        return best.name, "no selections to place", points
    if 2 * ends < total and 2 * matches <= named:
        raise QdaError(where, f"no reading of the selection positions fits the text: the "
                       f"best, {best.name} ({best.description}), has {score(matches, ends)}; "
                       "if the project is right, import with --offsets NAME (one of "
                       f"{', '.join(OFFSET_NAMES)})")
    if len(scored) == 1:
        others = "the only reading that keeps every span inside its text"
    else:
        m2, e2, _, runner, _ = scored[1]
        tie = " (a tie: the standard's convention is assumed)" if (m2, e2) == (
            matches, ends) else ""
        others = f"next best {runner.name}: {score(m2, e2)}{tie}"
        if len(relevant) > len(scored):
            others += (f"; {len(relevant) - len(scored)} of {len(relevant)} readings put a "
                       "span outside its text")
    return best.name, f"{best.description}: {score(matches, ends)}; {others}", points


def _refuse_span(where: str, sources: list[_Source], spans: list[_Span],
                 layouts: list[_Layout]) -> NoReturn:
    for span in spans:
        if not 0 <= span.start <= span.end <= layouts[span.source].units():
            raise QdaError(where, f"PlainTextSelection {str(span.element.get('guid'))[:40]} "
                           f"in source {sources[span.source].name[:80]!r}: positions "
                           f"{span.start}-{span.end} lie outside its text "
                           f"({layouts[span.source].length} characters)")
    raise QdaError(where, "selection positions fit no reading (code points or UTF-16 units, "
                   "BOM counted or not, CRLF as one or two): some split a character or run "
                   "past the text")


# ------------------------------------------------------------------------------ segments

MAX_POSITION = 2**40
"""Positions beyond a tera-character are no text's: refused before any arithmetic."""


def _position(where: str, element: ET.Element, name: str) -> int:
    value = (element.get(name) or "").strip()
    if not re.fullmatch(r"\d{1,13}", value) or int(value) > MAX_POSITION:
        raise QdaError(where, f"PlainTextSelection {str(element.get('guid'))[:40]}: {name} "
                       f"{value[:40]!r} is not a whole number from 0 to {MAX_POSITION}")
    return int(value)


def _coding(where: str, coding: ET.Element, fallback_user: str | None, users: dict[str, str],
            code_ids: dict[str, str]) -> tuple[str, str]:
    """(coder, code_id) of one Coding; refuses references the project does not define."""
    ref = _kid(coding, "CodeRef")
    code = _guid(ref.get("targetGUID") if ref is not None else None)
    if code not in code_ids:
        raise QdaError(where, f"Coding {show(coding.get('guid'))} refers to code "
                       f"{show(code or '(none)')}, which the codebook does not define")
    user = _guid(coding.get("creatingUser") or fallback_user)
    if user not in users:
        raise QdaError(where, f"Coding {show(coding.get('guid'))} was made by user "
                       f"{show(user or '(none)')}, who is not among the project's Users")
    return users[user], code_ids[code]


def _segments(where: str, sources: list[_Source], pid_of: dict[str, str], users: dict[str, str],
              code_ids: dict[str, str], offsets: str | None = None
              ) -> tuple[pd.DataFrame, str, str, list[str]]:
    spans = [
        _Span(i, sel, _position(where, sel, "startPosition"), _position(where, sel, "endPosition"))
        for i, source in enumerate(sources)
        for sel in _kids(source.element, "PlainTextSelection")
    ]
    convention, reason, points = _detect_offsets(where, sources, spans, offsets)
    rows = []
    wholes = [(i, coding, source.element.get("creatingUser"), 0, len(source.text))
              for i, source in enumerate(sources) for coding in _kids(source.element, "Coding")]
    parts = [(span.source, coding, span.element.get("creatingUser"), int(start), int(end))
             for span, (start, end) in zip(spans, points, strict=True)
             for coding in _kids(span.element, "Coding")]
    _refuse_oversized_coding(where, [end - start for *_, start, end in parts + wholes])
    empty = 0
    # Document order: a source's selections, then its whole-source codings.
    for i, coding, user, start, end in sorted(parts + wholes, key=lambda item: item[0]):
        coder, code_id = _coding(where, coding, user, users, code_ids)
        text = sources[i].text[start:end]
        if not text.strip():
            empty += 1
            continue
        rows.append({"participant_id": pid_of[sources[i].guid], "coder": coder,
                     "code_id": code_id, "text": text, "start": start, "end": end,
                     "source": "", "provenance": "study"})
    notes = [f"left out {empty} codings of empty or blank text"] if empty else []
    if wholes:
        notes.append(f"{len(wholes)} codings of whole sources kept as spans over the whole text")
    frame = pd.DataFrame(rows, columns=[c for c in schema.TABLES["segments"].column_names
                                        if c != "segment_id"])
    width = max(4, len(str(len(frame))))
    frame.insert(0, "segment_id", [f"S{i:0{width}d}" for i in range(1, len(frame) + 1)])
    return frame, convention, reason, notes


def _refuse_oversized_coding(where: str, lengths: list[int]) -> None:
    """Refuse codings that select more than ``MAX_SELECTED_CHARS`` in all, before any text
    is cut: a few KB of XML can code one long source hundreds of times."""
    total = sum(lengths)
    if total > MAX_SELECTED_CHARS:
        raise QdaError(where, f"{len(lengths):,} codings select {total / 2**20:.1f} Mi "
                       f"characters in all, over the {MAX_SELECTED_CHARS / 2**20:.0f} Mi "
                       "limit; refused before writing")


# -------------------------------------------------------------------------------- import

IMPORTED = ("codebook.csv", "coders.csv", "segments.csv", "sources.csv", schema.TRANSCRIPTS_DIR)
"""What an import writes into its folder, and all that ``overwrite`` replaces: the rest of
the folder (the contract files a QDA project cannot hold, notes) is kept."""


def _write_tables(folder: Path, tables: dict[str, pd.DataFrame], texts: dict[str, str]) -> None:
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    (folder / schema.TRANSCRIPTS_DIR).mkdir()
    for pid, text in texts.items():
        # Bytes as read (BOM stripped, CRLF kept), so the offsets index the written file.
        (folder / schema.TRANSCRIPTS_DIR / f"{pid}.txt").write_bytes(text.encode("utf-8"))


def _output_folder(out_dir: Path, overwrite: bool) -> Path:
    """``out_dir`` as an absolute path once it is known to be writable, checked before the
    project is read: a folder, or a path whose nearest existing ancestor is a folder."""
    out = Path(os.path.abspath(out_dir))
    where = display_path(out)
    if out.exists() and not out.is_dir():
        raise QdaError(where, "is a file, not a folder; choose a folder for --out")
    ancestor = out
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise QdaError(where, f"lies under {display_path(ancestor)}, which is a file, not a "
                       "folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise QdaError(where, f"cannot be written: no permission to write in "
                       f"{display_path(ancestor)}")
    try:
        filled = out.is_dir() and any(out.iterdir())
    except OSError as exc:
        raise QdaError(where, f"cannot be read ({exc.strerror})") from None
    if filled and not overwrite:
        raise QdaError(where, "exists and is not empty; choose another folder or pass "
                       f"overwrite=True (--overwrite), which replaces only {', '.join(IMPORTED)}")
    return out


def _move_into(staged: Path, out: Path) -> None:
    """Put each file the import wrote in ``staged`` into ``out``, replacing its old copy;
    if anything fails (or is interrupted) part way, the old copies are put back."""
    old = staged / ".replaced"
    old.mkdir()
    displaced: list[str] = []
    placed: list[str] = []
    try:
        for name in IMPORTED:
            if os.path.lexists(out / name):
                os.replace(out / name, old / name)
                displaced.append(name)
            os.replace(staged / name, out / name)
            placed.append(name)
    except BaseException:
        for name in reversed(placed):
            os.replace(out / name, staged / name)
        for name in reversed(displaced):
            os.replace(old / name, out / name)
        raise


def _write_output(where: str, out: Path, tables: dict[str, pd.DataFrame],
                  texts: dict[str, str]) -> None:
    """Write into a hidden folder (inside ``out`` when it exists, else beside it), check the
    result against the contract, then move it into place; the hidden folder is removed
    whatever happens, so a refused or interrupted import leaves nothing half-written."""
    try:
        if out.is_dir():
            staged = Path(tempfile.mkdtemp(dir=out, prefix=".qda-import-"))
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.qda-import-"))
    except OSError as exc:
        raise QdaError(display_path(out), f"cannot be written ({exc.strerror})") from None
    try:
        _write_tables(staged, tables, texts)
        try:
            validation.load_study(staged, tables=["codebook", "coders"])
            validation.read_table(staged, schema.TABLES["segments"])
        except validation.DataError as exc:
            raise QdaError(where, f"the imported data break the data contract: {exc}") from None
        if out.is_dir():
            _move_into(staged, out)
        else:
            os.replace(staged, out)
    except OSError as exc:
        name = f": {show(Path(exc.filename).name)}" if exc.filename else ""
        raise QdaError(display_path(out), f"cannot be written{name} ({exc.strerror or exc})"
                       ) from None
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def import_project(path: str | Path, out_dir: str | Path,
                   participant_map: str | Path | None = None, *, overwrite: bool = False,
                   auto_map: bool = False, offsets: str | None = None,
                   max_bytes: int = MAX_BYTES, max_ratio: float = MAX_RATIO) -> ImportReport:
    """Convert a ``.qdpx`` (or bare ``.qde``) into data-contract files under ``out_dir``.

    ``participant_map`` (a CSV, or an earlier import's ``sources.csv``) and ``auto_map``
    decide participants (see ``_participants``); ``offsets`` forces one of
    ``OFFSET_NAMES`` instead of detecting the reading from the text.

    Everything is read and checked before anything is written, and the files are written
    into a hidden folder and moved into place at the end, so a refused project leaves no
    half-written folder; ``overwrite`` replaces only the files an import writes.
    """
    path = Path(path)
    where = display_path(path)
    if not path.is_file():
        raise QdaError(where, "no such file")
    out = _output_folder(Path(out_dir), overwrite)
    try:
        with _open_project(path, max_bytes, max_ratio) as bundle:
            root = _parse(where, bundle)
            sources, source_notes = _text_sources(where, root, bundle)
        _refuse_repeats(where, "source", [s.guid for s in sources])
        codebook, code_ids, notes = _code_rows(where, root)
        users = _users(where, root)
        coded = {s.guid for s in sources if s.element.find(".//{*}Coding") is not None}
        mapping = _read_map(Path(participant_map)) if participant_map is not None else None
        pid_of, pid_notes = _participants(where, root, sources, coded, mapping, auto_map)
        kept = [s for s in sources if s.guid in pid_of]
        segments, convention, reason, seg_notes = _segments(where, kept, pid_of, users, code_ids,
                                                            offsets)
    except QdaError:
        raise
    except (OverflowError, RecursionError, ValueError) as exc:
        # A number or nesting beyond any real project (int() refuses over 4,300 digits).
        raise QdaError(where, f"holds a value that cannot be read ({type(exc).__name__}: "
                       f"{clip(str(exc), 80)})") from None
    coders = pd.DataFrame({"coder": list(dict.fromkeys(users.values())),
                           "role": "REFI-QDA user", "provenance": "study"})
    table = pd.DataFrame({
        "source_guid": [s.guid for s in kept], "source_name": [s.name for s in kept],
        "participant_id": [pid_of[s.guid] for s in kept],
        "path": [f"{schema.TRANSCRIPTS_DIR}/{pid_of[s.guid]}.txt" for s in kept],
    })
    _write_output(where, out, {"codebook": codebook, "coders": coders, "segments": segments,
                               "sources": table}, {pid_of[s.guid]: s.text for s in kept})
    return ImportReport(
        project=where, out_dir=Path(out_dir), offsets=convention, offsets_reason=reason,
        n_codes=len(codebook), n_segments=len(segments), coders=tuple(coders["coder"]),
        participants={s.name: pid_of[s.guid] for s in kept},
        warnings=tuple(notes + source_notes + pid_notes + seg_notes),
    )


# -------------------------------------------------------------------------------- export

def _uid(kind: str, key: str) -> str:
    """Deterministic GUIDs, so the same study exports the same bytes."""
    return str(uuid.uuid5(_GUID_NS, f"{kind}:{key}"))


def _codes(codebook: pd.DataFrame) -> ET.Element:
    if codebook.empty:
        raise ValueError("a REFI-QDA codebook needs at least one code")
    book = codebook.assign(parent_id=codebook["parent_id"].fillna("")).sort_values(
        "order", kind="stable")
    children = dict(list(book.groupby("parent_id", sort=False)))

    def add(parent: ET.Element, key: str) -> None:
        if key not in children:
            return
        for row in children[key].to_dict("records"):
            element = ET.SubElement(parent, "Code", {
                "guid": _uid("code", row["code_id"]), "name": row["name"], "isCodable": "true"})
            if pd.notna(row["definition"]) and str(row["definition"]).strip():
                ET.SubElement(element, "Description").text = row["definition"]
            add(element, row["code_id"])

    codes = ET.Element("Codes")
    add(codes, "")
    return codes


def _xml(root: ET.Element) -> bytes:
    """Names are left unqualified and the namespace declared on the root, as ElementTree's
    ``default_namespace`` refuses unqualified attributes."""
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def export_codebook(codebook: pd.DataFrame, path: str | Path) -> Path:
    """Write the codebook as a REFI-QDA ``.qdc`` (Codebook.xsd 1.0)."""
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": "psu_study.qda"})
    root.append(_codes(codebook))
    path = Path(path)
    staging.write_bytes(path, _xml(root))
    return path


def export_project(study: validation.Study, path: str | Path) -> Path:
    """Write the study's coding as a ``.qdpx``: transcripts as sources, one Case per
    participant, a User per coder and a PlainTextSelection per segment (Project.xsd 1.0)."""
    if not study.transcripts:
        raise ValueError("export needs the transcripts/ folder: selections index into it")
    segments = study.segments
    if segments[["start", "end"]].isna().any().any():
        raise ValueError("every segment needs start and end to become a PlainTextSelection")
    coders = list(dict.fromkeys([*(study.frames["coders"]["coder"] if "coders" in study.frames
                                   else []), *segments["coder"]]))
    pids = [p for p in (study.frames["participants"]["participant_id"]
                        if "participants" in study.frames else study.transcripts)
            if p in study.transcripts]
    root = ET.Element("Project", {"xmlns": PROJECT_NS, "name": "psu-study",
                                  "origin": "psu_study.qda"})
    users = ET.SubElement(root, "Users")
    for coder in coders:
        ET.SubElement(users, "User", {"guid": _uid("user", coder), "name": coder})
    ET.SubElement(root, "CodeBook").append(_codes(study.codebook))
    cases = ET.SubElement(root, "Cases")
    for pid in pids:
        case = ET.SubElement(cases, "Case", {"guid": _uid("case", pid), "name": pid})
        ET.SubElement(case, "SourceRef", {"targetGUID": _uid("source", pid)})
    sources = ET.SubElement(root, "Sources")
    files = []
    by_pid = dict(list(segments.groupby("participant_id", sort=False)))
    for pid in pids:
        guid = _uid("source", pid)
        files.append((f"sources/{guid}.txt", study.transcripts[pid].encode("utf-8")))
        source = ET.SubElement(sources, "TextSource", {
            "guid": guid, "name": pid, "plainTextPath": f"internal://{guid}.txt"})
        rows = by_pid[pid].to_dict("records") if pid in by_pid else []
        for row in rows:
            user = _uid("user", row["coder"])
            selection = ET.SubElement(source, "PlainTextSelection", {
                "guid": _uid("selection", row["segment_id"]), "name": row["text"],
                "startPosition": str(int(row["start"])), "endPosition": str(int(row["end"])),
                "creatingUser": user})
            coding = ET.SubElement(selection, "Coding", {
                "guid": _uid("coding", row["segment_id"]), "creatingUser": user})
            ET.SubElement(coding, "CodeRef", {"targetGUID": _uid("code", row["code_id"])})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in [("project.qde", _xml(root)), *files]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    path = Path(path)
    staging.write_bytes(path, buffer.getvalue())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Import a REFI-QDA project (.qdpx or .qde) into data-contract files.")
    parser.add_argument("project", type=Path, help="the .qdpx (or bare .qde) to import")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--participants", type=Path, default=None,
                        help="CSV source_name,participant_id (or an import's sources.csv) "
                        "overriding the naming rules")
    parser.add_argument("--auto-map", action="store_true",
                        help="number the coded sources the map does not place in document "
                        "order (P<n> for the n-th), ignoring their names; written to "
                        "sources.csv to check")
    parser.add_argument("--offsets", choices=OFFSET_NAMES, default=None,
                        help="read selection positions this way instead of detecting it")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out, replacing what an import writes "
                        "there and keeping every other file")
    args = parser.parse_args(argv)
    # A kill (SIGTERM) unwinds like Ctrl-C, so the staged files are removed and an
    # interrupted swap puts the old ones back.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = import_project(args.project, args.out, args.participants,
                                overwrite=args.overwrite, auto_map=args.auto_map,
                                offsets=args.offsets)
    except QdaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: {display_path(args.out)}: import interrupted; nothing was written",
              file=sys.stderr)
        return 130
    except Exception as exc:  # the last guard: whatever the input, one line, no traceback
        print(f"error: {display_path(args.project)}: cannot be imported "
              f"({type(exc).__name__}: {clip_message(str(exc))}); this is a bug in "
              "psu_study.qda, please report it", file=sys.stderr)
        return 3
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report.summary())
    return 0


def _interrupt(signum: int, frame: object) -> NoReturn:  # noqa: ARG001 - a handler's signature
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
