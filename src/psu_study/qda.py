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
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET
import numpy as np
import pandas as pd

from . import schema, staging, validation
from .paths import display_path

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
MAX_BYTES = 512 * 2**20
"""Total uncompressed size a project may have: far beyond any interview study's text."""
MAX_RATIO = 200
"""Text deflates about 3-10 fold; an entry that inflates more than this is a zip bomb."""
_RATIO_FLOOR = 2**20
"""Small entries may legitimately compress very well (a file of blanks); only larger ones
are held to ``MAX_RATIO``."""
_GUID_NS = uuid.uuid5(uuid.NAMESPACE_DNS, "psu-study.invalid")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,12}$")
PARTICIPANT_IN_NAME = re.compile(r"(?<![A-Za-z])(?:participant|ppt|p)[\s_#-]*0*(\d+)(?!\d)",
                                 re.IGNORECASE)
"""First ``P3``, ``P03``, ``PPT 3``, ``Participant_3`` in a case or source name means P3."""


class QdaError(ValueError):
    """A project file cannot be read as REFI-QDA; names the file and what is wrong."""

    def __init__(self, file: Path | str, message: str) -> None:
        self.file = display_path(Path(file)) if isinstance(file, Path) else file
        self.message = message
        super().__init__(f"{self.file}: {message}")


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
            *(f"source {name!r} -> {pid}" for name, pid in self.participants.items()),
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


@dataclass
class _Bundle:
    """A project's XML and its source files, read into memory within the size limits."""

    xml: bytes
    xml_name: str
    sources: dict[str, bytes]

    def source(self, where: str, path: str) -> bytes:
        """The file a ``plainTextPath`` names: ``internal://x.txt`` or a bare relative path,
        inside the ``sources``/``Sources`` folder."""
        relative = re.sub(r"^internal://", "", path).replace("\\", "/").lstrip("./")
        if "://" in relative:
            raise QdaError(where, f"source path {path!r} points outside the project; only "
                           "internal:// and relative paths are supported")
        parts = PurePosixPath(relative).parts
        if parts and parts[0].lower() == "sources":
            relative = "/".join(parts[1:])
        if relative in self.sources:
            return self.sources[relative]
        folded = [k for k in self.sources if k.lower() == relative.lower()]
        if len(folded) == 1:
            return self.sources[folded[0]]
        raise QdaError(where, f"source file {path!r} is not in the project's sources folder")


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
        raise QdaError(where, f"several .qde files inside ({', '.join(sorted(qdes))}); "
                       "expected one")
    return qdes[0]


def _read_zip(path: Path, max_bytes: int, max_ratio: float) -> _Bundle:
    where = display_path(path)
    if not zipfile.is_zipfile(path):
        raise QdaError(where, "not a zip archive; a .qdpx project is a zip holding a .qde file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            for info in infos:
                if _unsafe_member(info.filename):
                    raise QdaError(where, f"entry {info.filename!r} would be written outside "
                                   "the project folder; refused")
                if (info.file_size > _RATIO_FLOOR
                        and info.file_size > max_ratio * max(info.compress_size, 1)):
                    raise QdaError(where, f"entry {info.filename!r} inflates "
                                   f"{info.file_size / max(info.compress_size, 1):.0f}-fold "
                                   f"(limit {max_ratio:.0f}); refused as a zip bomb")
            total = sum(info.file_size for info in infos)
            if total > max_bytes:
                raise QdaError(where, f"uncompressed size {total / 2**20:.1f} MiB is over the "
                               f"{max_bytes / 2**20:.1f} MiB limit")
            files = [i.filename for i in infos if not i.is_dir()]
            qde = _pick_qde(where, files, path.stem)
            sources = {}
            for name in files:
                parts = name.split("/", 1)
                if len(parts) == 2 and parts[0].lower() == "sources":
                    sources[parts[1]] = archive.read(name)
            return _Bundle(archive.read(qde), qde, sources)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise QdaError(where, f"damaged zip archive ({exc})") from None


def _read_folder(path: Path, max_bytes: int) -> _Bundle:
    """A bare ``.qde`` with its sources in a ``sources``/``Sources`` folder beside it."""
    folders = [p for p in (path.parent / "sources", path.parent / "Sources") if p.is_dir()]
    files = [p for folder in folders[:1] for p in sorted(folder.rglob("*")) if p.is_file()]
    total = path.stat().st_size + sum(p.stat().st_size for p in files)
    if total > max_bytes:
        raise QdaError(display_path(path), f"project and sources are {total / 2**20:.1f} MiB, "
                       f"over the {max_bytes / 2**20:.1f} MiB limit")
    sources = {p.relative_to(folders[0]).as_posix(): p.read_bytes() for p in files}
    return _Bundle(path.read_bytes(), path.name, sources)


def _parse(where: str, bundle: _Bundle) -> ET.Element:
    try:
        root = SafeET.fromstring(bundle.xml)
    except defusedxml.DefusedXmlException as exc:
        raise QdaError(where, f"{bundle.xml_name} declares XML entities or external references "
                       f"({type(exc).__name__}); refused to protect against entity expansion"
                       ) from None
    except ET.ParseError as exc:
        raise QdaError(where, f"{bundle.xml_name} is not well-formed XML: {exc}") from None
    if _local(root.tag) != "Project":
        raise QdaError(where, f"{bundle.xml_name}: root element is <{_local(root.tag)}>, "
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
            raise QdaError(where, f"code {name!r} has no guid")
        if guid in id_of:
            raise QdaError(where, f"code guid {guid} appears twice in the codebook")
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

def _users(root: ET.Element) -> dict[str, str]:
    """Each user guid's coder label: the name when it is a short id (initials such as EW),
    else the ``id`` attribute when that is, else the guid; a label two users share falls
    back to their guids, so coders are never merged."""
    users = _kid(root, "Users")
    labels = {}
    for user in _kids(users, "User") if users is not None else []:
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


def _text_sources(where: str, root: ET.Element, bundle: _Bundle) -> tuple[list[_Source],
                                                                          list[str]]:
    found = _kid(root, "Sources")
    sources: list[_Source] = []
    other = sorted({_local(c.tag) for c in found if _local(c.tag) != "TextSource"}) \
        if found is not None else []
    notes = [f"skipped non-text sources ({', '.join(other)})"] if other else []
    for element in _kids(found, "TextSource") if found is not None else []:
        guid = _guid(element.get("guid"))
        name = element.get("name") or guid
        content = _kid(element, "PlainTextContent")
        if element.get("plainTextPath"):
            raw = bundle.source(where, element.get("plainTextPath", ""))
            try:
                text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise QdaError(where, f"source {name!r} is not UTF-8 (byte {exc.start}); "
                               "REFI-QDA plain text is UTF-8") from None
        elif content is not None:
            text = content.text or ""
        else:
            raise QdaError(where, f"text source {name!r} has neither a plainTextPath nor "
                           "PlainTextContent")
        sources.append(_Source(guid, name, text, element))
    return sources, notes


def _read_map(path: Path) -> dict[str, str]:
    """``source_name,participant_id`` rows: the analyst's word beats every naming rule."""
    where = display_path(path)
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError) as exc:
        raise QdaError(where, f"cannot read the participant map ({exc})") from None
    if not rows or {"source_name", "participant_id"} - set(rows[0]):
        raise QdaError(where, "expected a header source_name,participant_id and one row per "
                       "source")
    mapping: dict[str, str] = {}
    for i, row in enumerate(rows, start=1):
        name, pid = (row["source_name"] or "").strip(), (row["participant_id"] or "").strip()
        if not re.fullmatch(schema.PARTICIPANT_ID, pid):
            raise QdaError(where, f"row {i}: participant_id {pid!r} is not P and a number")
        if name in mapping:
            raise QdaError(where, f"row {i}: source {name!r} is mapped twice")
        mapping[name] = pid
    return mapping


def _participants(where: str, root: ET.Element, sources: list[_Source], coded: set[str],
                  mapping: dict[str, str], map_where: str) -> tuple[dict[str, str], list[str]]:
    """Each source guid's participant: mapping file, else the Case naming the source, else
    the source's own name (``PARTICIPANT_IN_NAME``). Uncoded sources with no participant
    are left out; coded ones stop the import."""
    unknown = sorted(set(mapping) - {s.name for s in sources})
    if unknown:
        raise QdaError(map_where, f"names sources the project does not have: {unknown}")
    case_of: dict[str, str] = {}
    cases = _kid(root, "Cases")
    for case in _kids(cases, "Case") if cases is not None else []:
        for ref in _kids(case, "SourceRef"):
            case_of.setdefault(_guid(ref.get("targetGUID")), case.get("name") or "")
    pid_of: dict[str, str] = {}
    notes: list[str] = []
    for source in sources:
        if source.name in mapping:
            pid_of[source.guid] = mapping[source.name]
            continue
        for name in (case_of.get(source.guid, ""), source.name):
            found = PARTICIPANT_IN_NAME.search(name)
            if found:
                pid_of[source.guid] = f"P{int(found.group(1))}"
                break
        else:
            if source.guid in coded:
                raise QdaError(where, f"cannot tell whose transcript source {source.name!r} "
                               "is: neither its Case nor its name holds P<n>, PPT <n> or "
                               "Participant <n>; give a --participants map")
            notes.append(f"uncoded source {source.name!r} has no participant; left out")
    owners = pd.Series(pid_of)
    twice = owners[owners.duplicated(keep=False)]
    if len(twice):
        names = [s.name for s in sources if s.guid in twice.index]
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


def _to_code_points(sources: list[_Source], spans: list[_Span],
                    convention: str) -> np.ndarray | None:
    """Spans as code-point (start, end) under ``convention``; None if any leaves its text,
    runs backwards or (UTF-16) splits a surrogate pair."""
    out = np.empty((len(spans), 2), dtype=np.int64)
    by_source = pd.Series(range(len(spans)), dtype=np.int64).groupby(
        [s.source for s in spans]) if spans else []
    for index, rows in by_source:
        text = sources[int(index)].text
        raw = np.array([(spans[i].start, spans[i].end) for i in rows], dtype=np.int64)
        if convention == "utf16":
            wide = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) > 0xFFFF
            units = np.concatenate([[0], np.cumsum(1 + wide)])
            points = np.searchsorted(units, raw).clip(max=len(text))
            if (units[points] != raw).any():
                return None
            raw = points
        if (raw[:, 0] < 0).any() or (raw[:, 0] > raw[:, 1]).any() or (raw[:, 1] > len(text)).any():
            return None
        out[rows.to_numpy()] = raw
    return out


def _detect_offsets(where: str, sources: list[_Source],
                    spans: list[_Span]) -> tuple[str, str, np.ndarray]:
    """Code points (the standard) or UTF-16 units (NVivo 12): the reading that keeps every
    span inside its text wins; if both do, the one whose cut text matches more selection
    names; if still tied, the standard's code points."""
    if not any(max(s.text, default="\0") > "\uffff" for s in sources):
        points = _to_code_points(sources, spans, "codepoint")
        if points is None:
            _refuse_span(where, sources, spans)
        return "codepoint", "no character outside the BMP, so both readings agree", points
    readings = {c: _to_code_points(sources, spans, c) for c in ("codepoint", "utf16")}
    fits = {c: p for c, p in readings.items() if p is not None}
    if not fits:
        _refuse_span(where, sources, spans)
    if len(fits) == 1:
        (convention, points), = fits.items()
        return convention, "the only reading that keeps every span inside its text", points

    def matches(points: np.ndarray) -> int:
        hits = 0
        for span, (start, end) in zip(spans, points, strict=True):
            name = _norm(span.element.get("name") or "").rstrip("…. ")
            hits += bool(name) and _norm(sources[span.source].text[start:end]).startswith(name)
        return hits

    score = {c: matches(p) for c, p in fits.items()}
    if score["utf16"] > score["codepoint"]:
        return "utf16", (f"both readings fit; selection names match {score['utf16']} spans "
                         f"read as UTF-16 units, {score['codepoint']} as code points"), \
            fits["utf16"]
    reason = (f"both readings fit; selection names match {score['codepoint']} spans read as "
              f"code points, {score['utf16']} as UTF-16 units") if score["codepoint"] else \
        "both readings fit and no selection name decides; assumed the standard's code points"
    return "codepoint", reason, fits["codepoint"]


def _refuse_span(where: str, sources: list[_Source], spans: list[_Span]) -> None:
    for span in spans:
        text = sources[span.source].text
        units = len(text.encode("utf-16-le")) // 2
        if not 0 <= span.start <= span.end <= units:
            raise QdaError(where, f"PlainTextSelection {span.element.get('guid')} in source "
                           f"{sources[span.source].name!r}: positions {span.start}-{span.end} "
                           f"lie outside its text ({len(text)} characters)")
    raise QdaError(where, "selection positions fit neither as code points nor as UTF-16 "
                   "units (some split a character)")


# ------------------------------------------------------------------------------ segments

def _position(where: str, element: ET.Element, name: str) -> int:
    try:
        return int(element.get(name, ""))
    except ValueError:
        raise QdaError(where, f"PlainTextSelection {element.get('guid')}: {name} "
                       f"{element.get(name)!r} is not a whole number") from None


def _coding(where: str, coding: ET.Element, fallback_user: str | None, users: dict[str, str],
            code_ids: dict[str, str]) -> tuple[str, str]:
    """(coder, code_id) of one Coding; refuses references the project does not define."""
    ref = _kid(coding, "CodeRef")
    code = _guid(ref.get("targetGUID") if ref is not None else None)
    if code not in code_ids:
        raise QdaError(where, f"Coding {coding.get('guid')} refers to code {code or '(none)'}, "
                       "which the codebook does not define")
    user = _guid(coding.get("creatingUser") or fallback_user)
    if user not in users:
        raise QdaError(where, f"Coding {coding.get('guid')} was made by user {user or '(none)'}, "
                       "who is not among the project's Users")
    return users[user], code_ids[code]


def _segments(where: str, sources: list[_Source], pid_of: dict[str, str], users: dict[str, str],
              code_ids: dict[str, str]) -> tuple[pd.DataFrame, str, str, list[str]]:
    spans = [
        _Span(i, sel, _position(where, sel, "startPosition"), _position(where, sel, "endPosition"))
        for i, source in enumerate(sources)
        for sel in _kids(source.element, "PlainTextSelection")
    ]
    convention, reason, points = _detect_offsets(where, sources, spans)
    rows = []
    wholes = [(i, coding, source.element.get("creatingUser"), 0, len(source.text))
              for i, source in enumerate(sources) for coding in _kids(source.element, "Coding")]
    parts = [(span.source, coding, span.element.get("creatingUser"), int(start), int(end))
             for span, (start, end) in zip(spans, points, strict=True)
             for coding in _kids(span.element, "Coding")]
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


# -------------------------------------------------------------------------------- import

def _write_tables(folder: Path, tables: dict[str, pd.DataFrame], texts: dict[str, str]) -> None:
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    (folder / schema.TRANSCRIPTS_DIR).mkdir()
    for pid, text in texts.items():
        # Bytes as read (BOM stripped, CRLF kept), so the offsets index the written file.
        (folder / schema.TRANSCRIPTS_DIR / f"{pid}.txt").write_bytes(text.encode("utf-8"))


def import_project(path: str | Path, out_dir: str | Path,
                   participant_map: str | Path | None = None, *, overwrite: bool = False,
                   max_bytes: int = MAX_BYTES, max_ratio: float = MAX_RATIO) -> ImportReport:
    """Convert a ``.qdpx`` (or bare ``.qde``) into data-contract files under ``out_dir``.

    Everything is read and checked before anything is written, and the files are written
    into a temporary folder beside ``out_dir`` that is renamed into place at the end, so a
    refused project leaves no half-written folder.
    """
    path, out_dir = Path(path), Path(out_dir)
    where = display_path(path)
    if not path.is_file():
        raise QdaError(where, "no such file")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise QdaError(display_path(out_dir), "exists and is not empty; choose another folder "
                       "or pass overwrite=True (--overwrite)")
    bundle = (_read_folder(path, max_bytes) if path.suffix.lower() == ".qde"
              else _read_zip(path, max_bytes, max_ratio))
    root = _parse(where, bundle)
    codebook, code_ids, notes = _code_rows(where, root)
    users = _users(root)
    sources, source_notes = _text_sources(where, root, bundle)
    coded = {s.guid for s in sources if s.element.find(".//{*}Coding") is not None}
    mapping = _read_map(Path(participant_map)) if participant_map is not None else {}
    pid_of, pid_notes = _participants(
        where, root, sources, coded, mapping,
        display_path(Path(participant_map)) if participant_map is not None else "")
    kept = [s for s in sources if s.guid in pid_of]
    segments, convention, reason, seg_notes = _segments(where, kept, pid_of, users, code_ids)
    coders = pd.DataFrame({"coder": list(dict.fromkeys(users.values())),
                           "role": "REFI-QDA user", "provenance": "study"})
    table = pd.DataFrame({
        "source_guid": [s.guid for s in kept], "source_name": [s.name for s in kept],
        "participant_id": [pid_of[s.guid] for s in kept],
        "path": [f"{schema.TRANSCRIPTS_DIR}/{pid_of[s.guid]}.txt" for s in kept],
    })

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    try:
        _write_tables(temp, {"codebook": codebook, "coders": coders, "segments": segments,
                             "sources": table}, {pid_of[s.guid]: s.text for s in kept})
        try:
            validation.load_study(temp, tables=["codebook", "coders"])
            validation.read_table(temp, schema.TABLES["segments"])
        except validation.DataError as exc:
            raise QdaError(where, f"the imported data break the data contract: {exc}") from None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old."))
            os.replace(out_dir, old / out_dir.name)
            os.replace(temp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(temp, out_dir)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return ImportReport(
        project=where, out_dir=out_dir, offsets=convention, offsets_reason=reason,
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
                        help="CSV source_name,participant_id overriding the naming rules")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    args = parser.parse_args(argv)
    try:
        report = import_project(args.project, args.out, args.participants,
                                overwrite=args.overwrite)
    except QdaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
