"""Write the study's coding as REFI-QDA: a ``.qdpx`` project and a ``.qdc`` codebook, the
same bytes for the same study."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from .. import staging, validation

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_GUID_NS = uuid.uuid5(uuid.NAMESPACE_DNS, "psu-study.invalid")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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
