"""Import a REFI-QDA project into the data contract's files, checked and written whole or
not at all (``import_project``)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from .. import schema, validation
from ..loader import clip, show
from ..paths import display_path
from .archive import MAX_BYTES, MAX_RATIO, MAX_SELECTED_CHARS, QdaError, _open_project, _parse
from .offsets import _detect_offsets, _Span
from .project import (
    _code_rows,
    _guid,
    _kid,
    _kids,
    _participants,
    _read_map,
    _refuse_repeats,
    _Source,
    _text_sources,
    _users,
)


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
        raise QdaError(where, "is a file, not a folder; choose a folder for --out-dir")
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
