"""The paper's two editions from one Typst source, and the PDF's own evidence.

The PDF declares PDF/UA-1 (accessible: tagged, titled, its language and every figure's alt
text given) and PDF/A-3b (archival, which allows attachments), and Typst validates both as it
exports, so a figure without alt text or a missing title stops the build. PDF/A needs a
document date: it is the edition's release date from ``CITATION.cff`` (``date-released``),
never the clock, so two builds give the same bytes. The PDF attaches ``numbers.json``,
``claims.csv`` and the record of every file the paper read with its sha256 (the manifest's
record; its own entry cannot be inside itself), so the PDF carries its evidence;
``python -m psu_study.editions check paper/paper.pdf`` takes them out and holds them against
the files and the manifest. The HTML edition, ``paper/paper.html``, is Typst's HTML export of
the same source, its figures with their alt text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import typst
import yaml

from . import staging
from .run_folders import RunFolders, add_folder_options

STANDARDS = ("ua-1", "a-3b")
"""What the PDF declares and Typst checks at export."""
DATE_FIELD = "date-released"
READS_RECORD = "paper_reads.json"
"""Beside ``numbers.json``: every file the paper read, with its sha256, as the manifest
records it (written before typesetting, so it cannot hold its own digest)."""


class EditionError(ValueError):
    """An edition cannot be made, or a PDF's attachments do not hold; the message says which."""


@dataclass(frozen=True)
class Attachment:
    """A file the PDF carries: its name inside the PDF, where it comes from, and why."""

    name: str
    path: Path
    mime: str
    description: str


def attachments(tables: Path) -> list[Attachment]:
    """What the PDF attaches, from this run's tables."""
    return [
        Attachment("numbers.json", tables / "numbers.json", "application/json",
                   "Every headline number of this build (numbers.json)"),
        Attachment("claims.csv", tables / "claims.csv", "text/csv",
                   "The claims ledger recomputed from these data, with evidence and grade"),
        Attachment(READS_RECORD, tables / READS_RECORD, "application/json",
                   "sha256 of every file the paper read, as the build's manifest records it"),
    ]


def edition_timestamp(citation: Path) -> int:
    """The edition's date (``date-released`` of ``CITATION.cff``) as seconds since the epoch
    at midnight UTC: the date PDF/A requires, fixed, so a rebuild changes no byte."""
    try:
        released = yaml.safe_load(citation.read_text(encoding="utf-8")).get(DATE_FIELD)
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise EditionError(f"{citation.name}: cannot read {DATE_FIELD!r}: {exc}") from None
    if not isinstance(released, dt.date):
        raise EditionError(f"{citation.name}: field {DATE_FIELD!r} must be a date (YYYY-MM-DD), "
                           f"the edition's date; got {released!r}")
    return int(dt.datetime(released.year, released.month, released.day,
                           tzinfo=dt.UTC).timestamp())


def write_reads_record(path: Path, reads: dict[str, str]) -> None:
    """Write the record the PDF attaches (only when its bytes change)."""
    data = (json.dumps({"reads": dict(sorted(reads.items()))}, indent=2, sort_keys=True)
            + "\n").encode("utf-8")
    staging.write_if_changed(path, data)


def typeset(source: Path, root: Path, sys_inputs: dict[str, str],
            attached: list[tuple[Attachment, str]], timestamp: int) -> tuple[bytes, bytes]:
    """The PDF edition (standards declared and validated, ``attached`` as (attachment, its
    path as Typst names it)) and the HTML edition, from one source. Typst's bundled fonts only,
    and the edition's date: the same bytes on every machine."""
    inputs = {**sys_inputs, "attachments": json.dumps(
        [{"name": a.name, "path": path, "mime": a.mime, "description": a.description}
         for a, path in attached])}
    common = {"root": str(root), "sys_inputs": inputs, "ignore_system_fonts": True,
              "font_paths": []}
    pdf = typst.compile(str(source), pdf_standards=list(STANDARDS), timestamp=timestamp,
                        **common)
    html = typst.compile(str(source), format="html", **common)
    return pdf, html


# --- reading a PDF's evidence back ------------------------------------------------------------

def attached_files(pdf: Path) -> dict[str, bytes]:
    """The files a PDF carries, by name."""
    import pypdf

    try:
        found = pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).attachments
    except pypdf.errors.PyPdfError as exc:
        raise EditionError(f"{pdf.name}: not a readable PDF ({exc})") from None
    files: dict[str, bytes] = {}
    for name, contents in found.items():
        if len(contents) != 1:
            raise EditionError(f"{pdf.name}: attachment {name!r} is there {len(contents)} times")
        files[name] = contents[0]
    return files


def declared_standards(pdf: Path) -> dict[str, str]:
    """The standards a PDF's XMP metadata declares: ``pdfuaid:part`` and ``pdfaid:part`` with
    ``pdfaid:conformance``, as written."""
    import re

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    metadata = reader.trailer["/Root"].get("/Metadata")
    xmp = metadata.get_object().get_data().decode("utf-8") if metadata else ""
    found = {}
    for name in ("pdfuaid:part", "pdfaid:part", "pdfaid:conformance"):
        match = re.search(rf"<{name}>([^<]*)</{name}>", xmp)
        if match:
            found[name] = match.group(1)
    return found


def _recorded(manifest: dict) -> dict[str, str]:
    """Every file the manifest records with its sha256: the notebooks' outputs, the merged
    numbers, and what the paper read."""
    recorded: dict[str, str] = {}
    for entry in manifest.get("notebooks", {}).values():
        recorded.update(entry.get("outputs", {}))
    recorded.update(manifest.get("combined", {}))
    recorded.update(manifest.get("paper", {}).get("reads", {}))
    return recorded


def check(pdf: Path, folders: RunFolders) -> list[str]:
    """What does not hold between a PDF's attachments and the files of its build: each
    attachment must be there and equal to its file, and every digest the attached record holds
    must be the file's and the manifest's. Empty when all holds."""
    files = attached_files(pdf)
    problems = []
    for attachment in attachments(folders.tables):
        if attachment.name not in files:
            problems.append(f"{pdf.name} carries no {attachment.name}")
        elif not attachment.path.is_file():
            problems.append(f"{attachment.name}: {attachment.path} is missing")
        elif files[attachment.name] != attachment.path.read_bytes():
            attached, current = files[attachment.name], attachment.path.read_bytes()
            problems.append(f"{attachment.name}: the attached copy differs from "
                            f"{attachment.path.name} (sha256 {staging.digest(attached)}"
                            f" against {staging.digest(current)})")
    if READS_RECORD not in files:
        return problems
    try:
        reads = json.loads(files[READS_RECORD])["reads"]
    except (ValueError, KeyError, TypeError):
        return [*problems, f"{READS_RECORD}: not a record of reads"]
    recorded = _recorded(json.loads(folders.manifest.read_text(encoding="utf-8")))
    for name in ("numbers.json", "claims.csv"):
        key = f"tables/{name}"
        if name in files and reads.get(key) != staging.digest(files[name]):
            problems.append(f"{name}: the attached copy is not the one the paper read "
                            f"({READS_RECORD} records {reads.get(key)})")
    for key, digest in sorted(reads.items()):
        actual = staging.file_digest(folders.resolve(key))
        if actual != digest:
            problems.append(f"{key}: the paper read sha256 {digest}, the file is now {actual}")
        if key in recorded and recorded[key] != digest:
            problems.append(f"{key}: the paper read sha256 {digest}, the manifest records "
                            f"{recorded[key]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check the evidence a paper's PDF carries against the build's files.",
        allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    checking = sub.add_parser("check", help="hold a PDF's attachments against the files",
                              allow_abbrev=False)
    checking.add_argument("pdf", type=Path)
    add_folder_options(checking, "the data the build read; default: data/",
                       "the build's OUT_DIR (its tables/ and figures/); default: the "
                       "repository's outputs")
    args = parser.parse_args(argv)
    folders = RunFolders.of(args.data_dir, args.out_dir)
    try:
        problems = check(args.pdf, folders)
    except (OSError, ValueError) as exc:
        print(f"{args.pdf}: cannot be checked: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{args.pdf}: every attachment holds against the build's files and manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
