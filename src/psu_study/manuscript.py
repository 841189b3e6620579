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
repository's outputs; ``--data-dir`` and ``--out-dir`` (a build's OUT_DIR) build another run's.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import typst
import yaml

from . import (
    agreement,
    claims,
    disclosure,
    editions,
    inference,
    quantifiers,
    schema,
    staging,
    synthetic,
)
from .outputs import output_meta
from .paths import (
    DATA_DIR,
    PAPER_DIR,
    PAPER_SOURCE,
    REPO_ROOT,
    display_path,
)
from .provenance import is_study_data, synthetic_columns, synthetic_note
from .run_folders import RunFolders, outputs_inside
from .themes import numbers_key
from .validation import load_study

SOURCE = PAPER_SOURCE
DERIVED = "manuscript.json"
REFERENCES = PAPER_DIR / "references.bib"
"""The bibliography, typeset by Typst's own ``bibliography()``."""
STATEMENTS = PAPER_DIR / "statements.yml"
"""The article's declarations (ethics, consent, funding, competing interests, contributions),
each with the section of the article that states it; a data directory's own
``statements.yml`` replaces it, as its ``claims.yaml`` replaces the ledger."""
COREQ = PAPER_DIR / "coreq.yml"
"""The COREQ checklist: for each item, the section of the paper that holds it and the element
that section must hold (tests/test_paper_rules.py checks each in the PDF)."""
CITATION = REPO_ROOT / "CITATION.cff"
"""The manuscript's authors, their affiliations and its contact: the title page's only source."""
REPO_INPUTS = (SOURCE, REFERENCES, STATEMENTS, COREQ, CITATION)
"""The manuscript's own files in the repository, named ``repo/...`` in the manifest."""
NOT_STATED = "not stated in the source article"
"""What the paper prints for a statement a journal requires and the source does not give."""
STATEMENT_ITEMS = ("ethics_approval", "consent_to_participate", "consent_for_publication",
                   "funding", "competing_interests", "author_contributions")
"""The declarations a journal requires besides data availability (which is generated from
the data's provenance): each must be in the statements file, stated or marked not stated."""
SOFTWARE = ("python", "numpy", "pandas", "scipy", "statsmodels", "krippendorff", "typst")
"""The software behind the numbers the paper reports, named with its version in the
Statistical analysis subsection (Python itself and the packages the analyses call)."""

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


def published_keys(data_dir: Path, claims_csv: Path) -> dict[str, str]:
    """The ``numbers.json`` keys whose value the source publishes and the data reproduce, each
    with the article's section: the keys of the ledger's ``value`` and ``equal`` checks whose
    claim holds. A published value carries no synthetic mark, even where the column it is
    counted from is a stand-in (the stand-ins were made to reproduce it)."""
    with claims_csv.open(encoding="utf-8", newline="") as handle:
        status = {row["id"]: row["status"] for row in csv.DictReader(handle)}
    found: dict[str, str] = {}
    for claim in claims.read_ledger(claims.ledger_path(data_dir)):
        check = claim.check or {}
        if check.get("kind") in ("value", "equal") and status.get(claim.id) == claims.HOLDS:
            for key in (check["key"], check.get("equals")):
                if key:
                    found.setdefault(key, claim.section)
    return dict(sorted(found.items()))


def fill(text: str, values: dict[str, object], where: str) -> str:
    """``text`` with each ``{key}`` replaced by its value (from ``numbers.json`` or the derived
    values), so no file of the manuscript types a figure; an unknown key is an error."""
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if values.get(key) is None:
            raise ManuscriptError(f"{where}: {{{key}}} has no value in numbers.json")
        shown = values[key]
        return f"{shown:g}" if isinstance(shown, float) else str(shown)

    return re.sub(r"\{([a-z_A-Z0-9]+)\}", value, text)


def _yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManuscriptError(f"{display_path(path)}: cannot be read: {exc}") from None


def statements_path(data_dir: Path) -> Path | None:
    """A data directory's own ``statements.yml``; else the article's (``paper/``) where the
    data are checked against the article's ledger (its study); else none: another study's
    declarations are not the article's."""
    own = Path(data_dir) / STATEMENTS.name
    if own.is_file():
        return own
    return STATEMENTS if claims.ledger_path(data_dir) == claims.LEDGER_FILE else None


def statements(data_dir: Path, values: dict[str, object]) -> tuple[dict, list[str]]:
    """The declarations a journal requires, from the statements file: each item's text as the
    source states it (with the section that states it) and what the source leaves unsaid,
    printed as "not stated in the source article"; and one warning for each such gap. An item
    missing from the file is an error: the paper never omits a declaration silently."""
    path = statements_path(data_dir)
    if path is None:
        return ({item: {"stated": "", "source": "", "missing": ""} for item in STATEMENT_ITEMS},
                [f"{item.replace('_', ' ')}: {NOT_STATED} (no statements.yml in the data)"
                 for item in STATEMENT_ITEMS])
    raw = _yaml(path)
    if not isinstance(raw, dict):
        raise ManuscriptError(f"{display_path(path)}: expected a mapping of statements")
    found, gaps = {}, []
    for item in STATEMENT_ITEMS:
        entry = raw.get(item)
        if not isinstance(entry, dict) or not ({"stated", "missing"} & set(entry)):
            raise ManuscriptError(f"{display_path(path)}: no statement {item!r} (give `stated` "
                                  "with its `source`, and `missing` for what the source does "
                                  "not state)")
        stated = entry.get("stated")
        if stated and not entry.get("source"):
            raise ManuscriptError(f"{display_path(path)}: statement {item!r} names no source")
        missing = entry.get("missing")
        found[item] = {"stated": fill(stated, values, f"{path.name} {item}") if stated else "",
                       "source": entry.get("source") or "", "missing": missing or ""}
        if missing or not stated:
            gaps.append(f"{item.replace('_', ' ')}: {missing or 'the statement'} "
                        f"{NOT_STATED}")
    return found, gaps


def title_page(citation: Path = CITATION) -> tuple[dict, list[str]]:
    """Authors, affiliations and the corresponding author, from CITATION.cff only (its
    ``authors`` and ``contact``): what it does not give is said so, and warned, never guessed."""
    cff = _yaml(citation)
    if not isinstance(cff, dict) or not cff.get("authors"):
        raise ManuscriptError(f"{display_path(citation)}: names no authors")

    def name(person: dict) -> str:
        return person.get("name") or " ".join(
            p for p in (person.get("given-names"), person.get("family-names")) if p)

    authors = [{"name": name(a), "affiliation": a.get("affiliation") or ""}
               for a in cff["authors"]]
    contact = [name(c) for c in cff.get("contact") or []]
    gaps = [f"affiliation of {a['name']}: not stated in {citation.name}"
            for a in authors if not a["affiliation"]]
    if not contact:
        gaps.append(f"corresponding author: not stated in {citation.name} (contact)")
    return {"authors": authors, "contact": contact, "source": citation.name}, gaps


def data_availability(study, data_dir: Path) -> list[dict]:
    """What the data hold, file by file, from their provenance: published values, synthetic
    stand-ins (with their columns), the study's confidential records; and where they live."""
    inside = Path(data_dir).resolve() == DATA_DIR.resolve()
    files = []
    for name, frame in study.frames.items():
        provenance = frame["provenance"]
        files.append({
            "file": f"{name}.csv",
            "published": bool(provenance.str.startswith("published").any()),
            "synthetic_rows": bool((provenance == "synthetic").any()),
            "synthetic_columns": synthetic_columns(
                frame[provenance != "synthetic"],
                [c for c in frame.columns if c != "provenance"]),
            "confidential": is_study_data(frame),
        })
    if study.transcripts:
        stand_in = all(t.startswith(synthetic.TRANSCRIPT_HEADER)
                       for t in study.transcripts.values())
        files.append({"file": f"{schema.TRANSCRIPTS_DIR}/", "published": False,
                      "synthetic_rows": stand_in, "synthetic_columns": [],
                      "confidential": not stand_in})
    return [{**f, "in_repository": inside} for f in files]


def statistics(numbers: dict, tables: Path, units: list[str]) -> dict:
    """What the Statistical analysis subsection says, from what this build computed: the
    convention, each statistic's sidedness, the tests whose p-values numbers.json holds, the
    intervals, the bootstrap (its unit, resamples and distinct resamples per comparison) and
    the software with its version."""
    sides = inference.sides(numbers)
    tests = sorted({family for key in sides if key.startswith("p_")
                    for family in ("binomial", "hypergeometric") if family in key})
    proportions = sorted({key[:-len("_ci_low")] for key in sides
                          if key.startswith("pct_") and key.endswith("_ci_low")})
    distinct = []
    for unit in units:
        path = tables / f"{AGREEMENT_TABLES[unit]}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = {(r["coders"], int(r["n_transcripts"]), int(r["n_distinct_resamples"]))
                    for r in csv.DictReader(handle)}
        distinct += [{"unit": unit, "coders": c, "n_transcripts": t, "distinct": d}
                     for c, t, d in sorted(rows)]
    software = [{"name": "Python", "version": platform.python_version()}]
    software += [{"name": name, "version": metadata.version(name)} for name in SOFTWARE
                 if name != "python"]
    return {
        "sides": inference.SIDES, "level_pct": round(100 * inference.LEVEL),
        "method": inference.METHOD, "numbers": sides, "tests": tests,
        "proportions": proportions,
        "bootstrap": {"resamples": agreement.N_BOOT, "distinct": distinct} if units else None,
        "software": software,
    }


def coreq(values: dict[str, object], path: Path = COREQ) -> list[dict]:
    """The COREQ checklist from ``paper/coreq.yml``: domains, sub-domains and the 32 items,
    each with the section that holds it and the element that section must hold, or "not
    reported" where the source is silent; placeholders filled from the build's numbers."""
    raw = _yaml(path)
    domains = raw.get("domains") if isinstance(raw, dict) else None
    if not domains:
        raise ManuscriptError(f"{display_path(path)}: no domains")
    number = 0
    out = []
    for domain in domains:
        subs = []
        for sub in domain["subdomains"]:
            items = []
            for item in sub["items"]:
                number += 1
                where = f"{path.name} item {number}"
                section, element = item.get("section"), item.get("element")
                if bool(section) != bool(element):
                    raise ManuscriptError(f"{where}: a section needs the element it holds")
                items.append({"number": number, "item": item["item"],
                              "section": section or "",
                              "element": fill(element, values, where) if element else "",
                              "value": fill(item.get("value") or "not reported", values,
                                            where)})
            subs.append({"name": sub["name"], "items": items})
        out.append({"name": domain["name"], "subdomains": subs})
    return out


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


def derive(run: RunFolders) -> tuple[dict, list[Path]]:
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
        "coders": [{"coder": c.coder, "role": c.role, "key": f"n_transcripts_coded_{c.coder}",
                    "transcripts": _number(numbers, f"n_transcripts_coded_{c.coder}")}
                   for c in coders.itertuples()],
        "published": published_keys(run.data, run.tables / "claims.csv"),
        "statistics": statistics(numbers, run.tables, scope["units"]),
        "unnamed_quotations": unnamed_quotations(study),
        "data": data_availability(study, run.data),
    }
    values = {**numbers, **people_and_losses(study, numbers)}
    derived["statements"], statement_gaps = statements(run.data, values)
    derived["title_page"], title_gaps = title_page()
    derived["coreq"] = coreq(values)
    derived["not_stated"] = [*title_gaps, *statement_gaps]
    inputs = [numbers_path, *(run.tables / f"{t}.csv" for t in tables), *figures,
              *study.files(), SOURCE, REFERENCES, COREQ, CITATION, claims.ledger_path(run.data),
              *filter(None, [statements_path(run.data)])]
    return derived, inputs


def people_and_losses(study, numbers: dict) -> dict[str, object]:
    """Values the statements and the checklist name besides numbers.json's: who interviewed
    and who coded (the coders' data: a role naming "interviewer"), and how many trainees
    were lost at each step of recruitment."""
    coders = study.coders.sort_values("coder")
    interviewers = [c.coder for c in coders.itertuples() if "interviewer" in c.role]
    contacted, interested = _number(numbers, "n_contacted"), _number(numbers, "n_interested")
    return {"interviewers": series(interviewers) or "not named in the coders' data",
            "coders": series(list(coders["coder"])),
            "n_no_reply": contacted - interested,
            "n_no_consent": interested - _number(numbers, "n_consented")}


def series(names: list[str]) -> str:
    """Names as the paper lists them: "A", "A and B", "A, B and C"."""
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)


def unnamed_quotations(study) -> list[str]:
    """The published quotations whose participant the article does not name (the segment's
    ``participant_id`` is a synthetic stand-in): the paper says so beside each."""
    segments = study.segments
    quoted = segments[segments["provenance"].str.startswith("published")]
    unnamed = quoted[quoted["provenance"].str.contains("participant_id", regex=False)]
    return sorted(set("\u201c" + unnamed["text"] + "\u201d"))


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
    if not derived_path.exists() or derived_path.read_bytes() != derived_bytes:
        staging.write_atomic(derived_path, derived_bytes)
    sys_inputs = {"tables": typst_path(run, run.tables), "figures": typst_path(run, run.figures),
                  "derived": typst_path(run, derived_path)}
    # With the names and allow lists it was scanned with, absent ones too: a list added
    # later makes the paper stale, as it does the notebooks. Recorded before typesetting, so
    # the PDF can carry the record (all but the record's own digest).
    reads = {record_key(run, p): staging.file_digest(p)
             for p in [*inputs, derived_path, *disclosure.list_paths(run.data)]}
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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_entry(run: RunFolders, done: Typeset) -> dict:
    """The paper's manifest entry: its editions' sha256 and every input with sha256."""
    run = run.resolved()
    return {"source": record_key(run, SOURCE),
            "outputs": {record_key(run, run.paper_pdf): _sha256(done.pdf),
                        record_key(run, run.paper_html): _sha256(done.html)},
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
        if not out.exists() or out.read_bytes() != data:
            staging.write_atomic(out, data)
        else:
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
    parser = argparse.ArgumentParser(description="Typeset the study's manuscript with Typst.")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the data the outputs were built from; default: data/")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="a build's OUT_DIR: read its tables/ and figures/, write "
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
