"""What the import reads from a project's XML: the codebook in the contract's levels, the
users (coders), the text sources, and whose transcript each source is."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import pandas as pd

from .. import schema
from ..loader import show
from ..paths import display_path
from .archive import QdaError, _Bundle, _local

_SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,12}$")
PARTICIPANT_IN_NAME = re.compile(r"(?<![A-Za-z])(?:participant|ppt|p)[\s_#-]*0*(\d{1,6})(?!\d)",
                                 re.IGNORECASE)
"""First ``P3``, ``P03``, ``PPT 3``, ``Participant_3`` in a case or source name means P3."""


def _kids(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _kid(element: ET.Element, name: str) -> ET.Element | None:
    found = _kids(element, name)
    return found[0] if found else None


def _guid(value: str | None) -> str:
    """GUIDs compared as exports write them differently: braces and case vary."""
    return (value or "").strip().strip("{}").lower()


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
