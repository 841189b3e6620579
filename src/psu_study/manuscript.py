"""The study's manuscript, typeset by Typst from the build's own outputs.

``paper/paper.typ`` reads ``numbers.json``, the tables' CSVs and the figures itself (Typst's
``json()``, ``csv()`` and ``image()``), so there is no copy step to forget. This module adds
only what Typst should not decide: the word of quantity for each count (by the project's
convention, ``quantifiers``), which values rest on synthetic data (the data's ``provenance``
column and the figures' footnote metadata), the theme structure, and what the data allowed
to be computed (an agreement table is read where the data allow it; where they do not, the
reason, said in the text in its place). It writes them to
``manuscript.json`` beside ``numbers.json``, typesets the PDF and HTML editions with the
``typst`` wheel (no TeX; ``editions``) and returns the paper's manifest entry: their sha256 and
every file it read, with theirs.

``python -m psu_study.manuscript`` (``make paper``) builds ``paper/paper.pdf`` from the
repository's outputs; ``--data-dir/--tables-dir/--figures-dir/--out`` build another run's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import typst

from . import agreement, disclosure, editions, quantifiers, schema, staging
from .outputs import output_meta
from .paths import (
    DATA_DIR,
    FIGURES_DIR,
    PAPER_DIR,
    PAPER_SOURCE,
    REPO_ROOT,
    TABLES_DIR,
    record_folders,
    record_key,
)
from .provenance import synthetic_columns, synthetic_note
from .themes import numbers_key
from .validation import load_study

SOURCE = PAPER_SOURCE
PDF = PAPER_DIR / "paper.pdf"
DERIVED = "manuscript.json"

TABLES_READ = (
    "recruitment_stages", "recruitment_rates", "table1_training_roles", "interviews",
    "themes_prevalence", "table2_quotations", "claims",
)
"""The tables every build writes and the manuscript reads (as CSV); the source can read no
other table than these and the agreement tables present (it asserts so), so the tables read
are also what the manifest records."""

AGREEMENT_TABLES = {"participant": "agreement_participant", "character": "agreement_character"}
"""Agreement per unit: written only where the data allow it (two coders sharing a transcript;
the transcripts themselves for characters), so the paper reads each one that is there and
says why any other is not."""

QDA_EXPORTS = (".qdc", ".qdpx")
"""The REFI-QDA files a build may write (codebook, project): the COREQ appendix names those
this run has."""

MODE_PHRASES = {"telephone": "by telephone", "video": "by video",
                "face-to-face": "face to face"}
"""How the text says each interview mode of the contract (``schema.INTERVIEW_MODES``)."""

SEGMENT_COLUMNS = ("segments.participant_id", "segments.coder", "segments.code_id")
"""What a count of coded participants rests on: who was coded, by whom, at which code."""

COUNTS = {"n_participants_female": ("participants.gender",)}
"""Counts of participants, besides the themes', that the text gives with a word of quantity,
and the data columns each rests on."""


class ManuscriptError(RuntimeError):
    """The paper cannot be built as asked; the message says why."""


def quantity_word(count: int, n: int) -> str:
    """The word the convention gives ``count`` of ``n`` participants: of the words that hold,
    the one that says most (the narrowest range; ties go to the earlier word), so "one" and
    "all" win where they hold and "several" says more than "some"."""
    fitting = [w for w in quantifiers.QUANTIFIERS if quantifiers.holds(w, count, n)]
    if not fitting:
        raise ManuscriptError(f"no quantifier of the convention describes {count} of {n}")

    def width(word: str) -> int:
        low, high = quantifiers.count_range(word, n)
        return high - low

    return min(fitting, key=lambda w: (width(w), quantifiers.QUANTIFIERS.index(w)))


def _number(numbers: dict, key: str) -> int:
    if key not in numbers or numbers[key] is None:
        raise ManuscriptError(f"numbers.json has no value for {key!r}, which the paper needs")
    return int(numbers[key])


def theme_tree(codebook, numbers: dict) -> list[dict]:
    """Themes in the codebook's order, each with its codes and sub-themes, and for every node
    how many participants were coded there, with the word for that count."""
    n = _number(numbers, "n_participants")
    rows = list(codebook.sort_values(["order", "code_id"], kind="stable").itertuples())
    children: dict[str, list] = {}  # each code's children in that order, found in one pass
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def node(row) -> dict:
        count = _number(numbers, numbers_key(row.level, row.code_id))
        below = children.get(row.code_id, [])
        return {
            "id": row.code_id, "level": row.level, "name": row.name,
            "count": count, "n": n, "word": quantity_word(count, n),
            "rests_on": list(SEGMENT_COLUMNS),
            "codes": [node(c) for c in below if c.level == "code"],
            "subthemes": [node(c) for c in below if c.level == "subtheme"],
        }

    return [node(r) for r in rows if r.level == "theme"]


def synthetic_marks(frames: dict) -> dict[str, str]:
    """``{"table.column": footnote}`` for every synthetic column of the data, read from each
    table's ``provenance`` column; empty on the study's own data, so the marks vanish."""
    columns = {}
    for name, frame in frames.items():
        named = synthetic_columns(frame, [c for c in frame.columns if c != "provenance"])
        note = synthetic_note({f"{name}.csv": named})
        for column in named:
            columns[f"{name}.{column}"] = note
    return dict(sorted(columns.items()))


def agreement_scope(study, numbers: dict, tables: Path) -> dict:
    """Which agreement tables this run has, and for each unit it lacks, a sentence saying why
    it was not computed, from what the data hold (who coded, whether two coders share a
    transcript, whether there are transcripts). A table missing where the data allow it is an
    error: the outputs are then incomplete, not narrowed."""
    present = {unit: (tables / f"{name}.csv").exists() for unit, name in AGREEMENT_TABLES.items()}
    pairs = agreement.coder_pairs(study.segments, study.coders)
    if not pairs:
        active = [c for c in study.coders["coder"] if c in set(study.segments["coder"])]
        why = (f"only {active[0]} coded the transcripts, so there is no second coding to "
               "compare" if len(active) == 1
               else "no transcript was coded by two coders, so no two codings can be compared")
        allowed = {unit: False for unit in AGREEMENT_TABLES}
        notes = {unit: f"Agreement between coders was not computed: {why}."
                 for unit in AGREEMENT_TABLES}
    else:
        allowed = {"participant": True, "character": study.transcripts is not None}
        notes = {"character": "Agreement on each character was not computed: the data hold no "
                              f"{schema.TRANSCRIPTS_DIR}/ folder, and characters are counted in "
                              "the transcripts. Whether each theme was coded for each "
                              "participant needs no transcript and is compared below."}
    for unit, name in AGREEMENT_TABLES.items():
        if allowed[unit] and not present[unit]:
            raise ManuscriptError(f"{name}.csv is missing in {tables}, though the data allow "
                                  "it: build the outputs first (make)")
        if present[unit] and not allowed[unit]:
            raise ManuscriptError(f"{name}.csv in {tables} is not from these data, which "
                                  "allow no such table: build the outputs for them")
    if numbers.get("n_coder_pairs_compared") != len(pairs):
        raise ManuscriptError(f"numbers.json compares {numbers.get('n_coder_pairs_compared')} "
                              f"pairs of coders, the data {len(pairs)}: build the outputs "
                              "for these data")
    return {"units": [unit for unit in AGREEMENT_TABLES if present[unit]],
            "not_computed": {unit: notes[unit] for unit in AGREEMENT_TABLES
                             if not present[unit]}}


def interview_modes(numbers: dict) -> list[dict]:
    """Each mode of the contract that some interview used, with its count (numbers.json's
    ``n_interviews_<mode>``) and how the text says it."""
    modes = []
    for mode in schema.INTERVIEW_MODES:
        key = f"n_interviews_{mode.replace('-', '_')}"
        if _number(numbers, key):
            modes.append({"mode": mode, "key": key, "phrase": MODE_PHRASES[mode]})
    return modes


def counts_of_one_or_none(numbers: dict) -> dict[str, list[str]]:
    """The counts (``n_*`` keys) that are one or zero: the source chooses "researcher" or
    "researchers", "none" or a number, from these, so it compares no value with a typed
    figure."""
    counts = {k: v for k, v in numbers.items()
              if k.startswith("n_") and isinstance(v, int) and not isinstance(v, bool)}
    return {"one": sorted(k for k, v in counts.items() if v == 1),
            "zero": sorted(k for k, v in counts.items() if v == 0)}


@dataclass(frozen=True)
class Run:
    """Where one paper is built from and written to."""

    data: Path = DATA_DIR
    tables: Path = TABLES_DIR
    figures: Path = FIGURES_DIR
    out: Path = PDF

    @property
    def root(self) -> Path:
        """Typst reads only below its root: the nearest folder holding source and outputs."""
        return Path(os.path.commonpath([SOURCE.parent, self.tables, self.figures]))

    def typst_path(self, path: Path) -> str:
        """A path as the Typst source names it: absolute from the root."""
        return "/" + path.resolve().relative_to(self.root).as_posix()

    def key(self, path: Path) -> str:
        """The path's name in the manifest, as the runner names files (never a machine path)."""
        if path.resolve() in (SOURCE.resolve(), editions.CITATION_FILE.resolve()):
            # the source and the edition's metadata stay in the repository
            return f"repo/{path.resolve().relative_to(REPO_ROOT.resolve()).as_posix()}"
        folders = record_folders(self.data, self.figures, self.tables, paper=self.out.parent)
        key = record_key(path, {k: v for k, v in folders.items() if k != "repo"})
        if key is None:
            raise ManuscriptError(f"{path} is outside the paper's input and output folders")
        return key


def _resolved(run: Run) -> Run:
    return Run(run.data.resolve(), run.tables.resolve(), run.figures.resolve(),
               run.out.resolve())


def derive(run: Run) -> tuple[dict, list[Path]]:
    """What the source reads besides the outputs themselves, and the files it came from."""
    numbers_path = run.tables / "numbers.json"
    if not numbers_path.exists():
        raise ManuscriptError(f"{numbers_path} is missing: build the outputs first (make)")
    numbers = json.loads(numbers_path.read_text(encoding="utf-8"))
    study = load_study(run.data)
    missing = [t for t in TABLES_READ if not (run.tables / f"{t}.csv").exists()]
    if missing:
        raise ManuscriptError(f"tables missing in {run.tables}: {', '.join(missing)}")
    scope = agreement_scope(study, numbers, run.tables)
    tables = [*TABLES_READ, *(AGREEMENT_TABLES[unit] for unit in scope["units"])]
    figures = sorted(run.figures.glob("*.png"))
    coders = study.coders.sort_values("coder")
    n = _number(numbers, "n_participants")
    counts = {key: {"count": _number(numbers, key), "n": n,
                    "word": quantity_word(_number(numbers, key), n), "rests_on": list(on)}
              for key, on in COUNTS.items()}
    derived = {
        "about": "Derived by psu_study.manuscript for paper/paper.typ; do not edit.",
        "n_participants": n,
        "quantities": counts,
        "counts_rest_on": list(SEGMENT_COLUMNS),
        "themes": theme_tree(study.codebook, numbers),
        "synthetic": synthetic_marks(study.frames),
        "figures": {p.stem: {key: output_meta(p).get(key, "") for key in ("footnote", "alt")}
                    for p in figures},
        "tables": tables,
        "agreement": scope,
        "interview_modes": interview_modes(numbers),
        "counts_are": counts_of_one_or_none(numbers),
        "exports": sorted(p.name for p in run.tables.glob("*") if p.suffix in QDA_EXPORTS),
        "coders": [{"coder": c.coder, "role": c.role,
                    "transcripts": _number(numbers, f"n_transcripts_coded_{c.coder}")}
                   for c in coders.itertuples()],
    }
    inputs = [numbers_path, *(run.tables / f"{t}.csv" for t in tables), *figures,
              *study.files(), SOURCE]
    return derived, inputs


@dataclass(frozen=True)
class Typeset:
    """One typesetting: the PDF and HTML editions, the files they read (manifest key ->
    sha256) and the derived JSON."""

    pdf: bytes
    html: bytes
    reads: dict[str, str]
    derived: bytes


def html_path(run: Run) -> Path:
    """The HTML edition, beside the PDF: ``paper/paper.html``."""
    return run.out.with_suffix(editions.HTML_SUFFIX)


def typeset(run: Run) -> Typeset:
    """Both editions of the paper from one source (``editions``), with what they read."""
    run = _resolved(run)
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
    if not derived_path.exists() or derived_path.read_bytes() != derived_bytes:
        staging.write_atomic(derived_path, derived_bytes)
    sys_inputs = {"tables": run.typst_path(run.tables), "figures": run.typst_path(run.figures),
                  "derived": run.typst_path(derived_path)}
    # With the names and allow lists it was scanned with, absent ones too: a list added
    # later makes the paper stale, as it does the notebooks. Recorded before typesetting, so
    # the PDF can carry the record (all but the record's own digest).
    reads = {run.key(p): staging.file_digest(p)
             for p in [*inputs, derived_path, editions.CITATION_FILE,
                       *disclosure.list_paths(run.data)]}
    attached = editions.attachments(run.tables)
    record = next(a.path for a in attached if a.name == editions.READS_RECORD)
    editions.write_reads_record(record, reads)
    reads[run.key(record)] = staging.file_digest(record)
    try:
        pdf, html = editions.typeset(SOURCE, run.root, sys_inputs,
                                     [(a, run.typst_path(a.path)) for a in attached],
                                     editions.edition_timestamp())
    except typst.TypstError as exc:
        raise ManuscriptError(f"{SOURCE.name} did not compile: {exc}") from exc
    return Typeset(pdf, html, dict(sorted(reads.items())), derived_bytes)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_entry(run: Run, done: Typeset) -> dict:
    """The paper's manifest entry: its editions' sha256 and every input with sha256."""
    run = _resolved(run)
    return {"source": run.key(SOURCE),
            "outputs": {run.key(run.out): _sha256(done.pdf),
                        run.key(html_path(run)): _sha256(done.html)},
            "reads": done.reads}


def paper(run: Run) -> tuple[Typeset, dict]:
    """The paper's editions and its manifest entry, nothing written but ``manuscript.json``
    and the record of reads the PDF attaches. The runner writes the editions with
    ``write_editions`` and records the entry in the manifest."""
    done = typeset(run)
    return done, manifest_entry(run, done)


def write_editions(run: Run, done: Typeset) -> None:
    """Replace each edition only when its bytes change; touch it otherwise, so make sees it
    current."""
    for out, data in ((run.out.resolve(), done.pdf), (html_path(run).resolve(), done.html)):
        if not out.exists() or out.read_bytes() != data:
            staging.write_atomic(out, data)
        else:
            os.utime(out)


def build(run: Run | None = None) -> dict:
    """Typeset the paper into ``run.out`` from outputs already built; returns its manifest
    entry. The runner does this as a build's last step and records the entry; this is the
    same step alone, for tests and for a paper typeset from another run's outputs."""
    run = run or Run()
    done, entry = paper(run)
    write_editions(run, done)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Typeset the study's manuscript with Typst.")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--tables-dir", type=Path, default=TABLES_DIR)
    parser.add_argument("--figures-dir", type=Path, default=FIGURES_DIR)
    parser.add_argument("--out", type=Path, default=PDF, help="default: paper/paper.pdf")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="a build's OUT_DIR: read its tables/ and figures/, write "
                             "paper/paper.pdf under it")
    args = parser.parse_args(argv)
    run = Run(args.data_dir, args.tables_dir, args.figures_dir, args.out)
    if args.out_dir is not None:
        run = Run(args.data_dir, args.out_dir / "tables", args.out_dir / "figures",
                  args.out_dir / "paper" / "paper.pdf")
    try:
        entry = build(run)
    except (ManuscriptError, ValueError) as exc:
        print(f"paper failed: {exc}", file=sys.stderr)
        return 1
    print(f"  paper written: {run.out} (from {len(entry['reads'])} inputs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
