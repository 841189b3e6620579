"""A REFI-QDA project's files read within limits: the zip (or a bare ``.qde`` and its
``sources`` folder) and the XML, refused whole before anything of it is believed."""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

from .. import validation
from ..loader import clip, clip_message, read_regular, refuse_link_or_special, show
from ..paths import display_path

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


class QdaError(ValueError):
    """A project file cannot be read as REFI-QDA; names the file and what is wrong."""

    def __init__(self, file: Path | str, message: str) -> None:
        self.file = display_path(Path(file)) if isinstance(file, Path) else file
        self.message = clip_message(message)
        super().__init__(f"{self.file}: {self.message}")


def _local(tag: object) -> str:
    """An element's name without its namespace: exports differ in namespace, not in names."""
    return str(tag).rsplit("}", 1)[-1]


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
        return read_regular(path, shown, lambda size: budget.spend(shown, size))
    except validation.DataError as exc:
        raise QdaError(where, exc.message if shown == where else f"{shown} {exc.message}"
                       ) from None


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
                try:
                    refuse_link_or_special(mode, f"{inside(entry)} in the sources folder",
                                           folders=True)
                except validation.DataError as exc:
                    raise QdaError(where, f"{exc.file} {exc.message}") from None
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
