"""The study's manuscript, typeset by Typst from the build's own outputs.

``paper/paper.typ`` reads ``numbers.json``, the tables' CSVs and the figures itself (Typst's
``json()``, ``csv()`` and ``image()``), so there is no copy step to forget. What Typst should
not decide (the words of quantity, the synthetic marks, the theme structure, what the data
allowed to be computed, the declarations) is derived by ``manuscript_values`` and
``manuscript_statements``; this module writes it to ``manuscript.json`` beside
``numbers.json``, typesets the PDF and HTML editions with the
``typst`` wheel (no TeX; ``editions``) and returns the paper's manifest entry: their sha256 and
every file it read, with theirs.

``python -m psu_study.manuscript`` (``make paper``) builds ``paper/paper.pdf`` from the
repository's outputs; ``--data-dir`` and ``--out-dir`` (a build's OUT_DIR) build another run's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typst

from . import disclosure, editions, staging
from .manuscript_statements import CITATION, COREQ, STATEMENTS, ManuscriptError
from .manuscript_values import derive
from .paths import PAPER_DIR, PAPER_SOURCE, REPO_ROOT, display_path
from .run_folders import RunFolders, add_folder_options, outputs_inside

SOURCE = PAPER_SOURCE
DERIVED = "manuscript.json"
REFERENCES = PAPER_DIR / "references.bib"
"""The bibliography, typeset by Typst's own ``bibliography()``."""
REPO_INPUTS = (SOURCE, REFERENCES, STATEMENTS, COREQ, CITATION)
"""The manuscript's own files in the repository, named ``repo/...`` in the manifest."""


def typst_root(run: RunFolders) -> Path:
    """Typst reads only below its root: the nearest folder holding source and outputs."""
    return Path(os.path.commonpath([SOURCE.parent, run.tables, run.figures]))


def typst_path(run: RunFolders, path: Path) -> str:
    """A path as the Typst source names it: absolute from the root."""
    return "/" + path.resolve().relative_to(typst_root(run)).as_posix()


def record_key(run: RunFolders, path: Path) -> str:
    """The path's name in the manifest, as the runner names files (never a machine path); the
    manuscript's own files stay ``repo/...`` though the default run's ``paper/`` holds them."""
    if path.resolve() in {p.resolve() for p in REPO_INPUTS}:
        return f"repo/{path.resolve().relative_to(REPO_ROOT.resolve()).as_posix()}"
    return run.key(path)


@dataclass(frozen=True)
class Typeset:
    """One typesetting: the PDF and HTML editions, the files they read (manifest key ->
    sha256) and the derived JSON."""

    pdf: bytes
    html: bytes
    reads: dict[str, str]
    derived: bytes


def typeset(run: RunFolders) -> Typeset:
    """Both editions of the paper from one source (``editions``), with what they read."""
    run = run.resolved()
    derived, inputs = derive(run)
    derived_text = json.dumps(derived, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # What the paper takes from the data itself (code names, coders' roles) is scanned as
    # every other output is; the tables and figures it reads were scanned when written.
    hits = disclosure.scan_text(derived_text, *disclosure.disclosure_lists(run.data))
    if hits:
        raise disclosure.DisclosureError(f"paper ({DERIVED})", None, None, hits[0].kind,
                                         hits[0].masked)
    derived_bytes = derived_text.encode("utf-8")
    derived_path = run.tables / DERIVED
    staging.write_if_changed(derived_path, derived_bytes)
    sys_inputs = {"tables": typst_path(run, run.tables), "figures": typst_path(run, run.figures),
                  "derived": typst_path(run, derived_path)}
    # With the names and allow lists it was scanned with, absent ones too: a list added
    # later makes the paper stale, as it does the notebooks. Recorded before typesetting, so
    # the PDF can carry the record (all but the record's own digest).
    reads = {record_key(run, p): staging.file_digest(p)
             for p in [SOURCE, REFERENCES, *inputs, derived_path,
                       *disclosure.list_paths(run.data)]}
    attached = editions.attachments(run.tables)
    record = next(a.path for a in attached if a.name == editions.READS_RECORD)
    editions.write_reads_record(record, reads)
    reads[record_key(run, record)] = staging.file_digest(record)
    try:
        pdf, html = editions.typeset(SOURCE, typst_root(run), sys_inputs,
                                     [(a, typst_path(run, a.path)) for a in attached],
                                     editions.edition_timestamp(CITATION))
    except typst.TypstError as exc:
        raise ManuscriptError(f"{SOURCE.name} did not compile: {exc}") from exc
    return Typeset(pdf, html, dict(sorted(reads.items())), derived_bytes)


def manifest_entry(run: RunFolders, done: Typeset) -> dict:
    """The paper's manifest entry: its editions' sha256 and every input with sha256."""
    run = run.resolved()
    return {"source": record_key(run, SOURCE),
            "outputs": {record_key(run, run.paper_pdf): staging.digest(done.pdf),
                        record_key(run, run.paper_html): staging.digest(done.html)},
            "reads": done.reads}


def paper(run: RunFolders) -> tuple[Typeset, dict]:
    """The paper's editions and its manifest entry, nothing written but ``manuscript.json``
    and the record of reads the PDF attaches; each statement the source does not give is
    warned. The runner writes the editions with ``write_editions`` and records the entry in
    the manifest."""
    done = typeset(run)
    for gap in json.loads(done.derived)["not_stated"]:
        print(f"  warning: paper: {gap}", file=sys.stderr, flush=True)
    return done, manifest_entry(run, done)


def write_editions(run: RunFolders, done: Typeset) -> None:
    """Replace each edition only when its bytes change; touch it otherwise, so make sees it
    current."""
    for out, data in ((run.paper_pdf.resolve(), done.pdf),
                      (run.paper_html.resolve(), done.html)):
        if not staging.write_if_changed(out, data):
            os.utime(out)


def build(run: RunFolders | None = None) -> dict:
    """Typeset the paper into ``run.paper_pdf`` from outputs already built; returns its
    manifest entry. The runner does this as a build's last step and records the entry; this is
    the same step alone, for tests and for a paper typeset from another run's outputs."""
    run = run or RunFolders.of()
    inside = outputs_inside(run.data, {"tables": run.tables, "paper": run.paper})
    if inside:  # the paper and its derived data would carry other data into the work tree
        raise ManuscriptError(f"data from {display_path(run.data)} is not the repository's "
                              f"data/, and its {' and '.join(inside)} would put its results "
                              "inside the repository: pass --out-dir, a build's OUT_DIR "
                              "outside it")
    done, entry = paper(run)
    write_editions(run, done)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Typeset the study's manuscript with Typst.",
                                     allow_abbrev=False)
    add_folder_options(parser, "the data the outputs were built from; default: data/",
                       "a build's OUT_DIR: read its tables/ and figures/, write "
                       "paper/paper.pdf under it; default: the repository's")
    args = parser.parse_args(argv)
    run = RunFolders.of(args.data_dir, args.out_dir)
    try:
        entry = build(run)
    except (ManuscriptError, ValueError) as exc:
        print(f"paper failed: {exc}", file=sys.stderr)
        return 1
    print(f"  paper written: {run.paper_pdf} (from {len(entry['reads'])} inputs)")
    return 0



if __name__ == "__main__":
    sys.exit(main())
