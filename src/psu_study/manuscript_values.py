"""What the manuscript's source reads besides the outputs themselves (``manuscript.json``): the
word of quantity for each count (by the project's convention, ``quantifiers``), which values
rest on synthetic data, the theme structure, what the data allowed to be computed and why not
where they did not, the statistics' conventions and software, and the declarations
(``manuscript_statements``), each derived from this run's data, numbers and tables."""

from __future__ import annotations

import csv
import json
import platform
from importlib import metadata
from pathlib import Path

from . import agreement, claims, inference, quantifiers, schema, sentences, synthetic
from . import numbers as numbers_mod
from .manuscript_statements import (
    CITATION,
    COREQ,
    ManuscriptError,
    coreq,
    statements,
    statements_path,
    title_page,
)
from .outputs import output_meta
from .paths import DATA_DIR
from .provenance import is_study_data, synthetic_columns, synthetic_note
from .run_folders import RunFolders
from .sentences import SEGMENT_COLUMNS, interview_modes, series
from .themes import numbers_key
from .validation import load_study

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

COUNTS = {"n_participants_female": ("participants.gender",)}
"""Counts of participants, besides the themes', that the text gives with a word of quantity,
and the data columns each rests on."""



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
            "count": count, "n": n, "word": quantifiers.quantity_word(count, n),
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



def counts_of_one_or_none(numbers: dict) -> dict[str, list[str]]:
    """The counts (``n_*`` keys) that are one or zero: the source chooses "researcher" or
    "researchers", "none" or a number, from these, so it compares no value with a typed
    figure."""
    counts = {k: v for k, v in numbers.items()
              if k.startswith(numbers_mod.COUNT_PREFIX) and isinstance(v, int)
              and not isinstance(v, bool)}
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


def derive(run: RunFolders) -> tuple[dict, list[Path]]:
    """What the source reads besides the outputs themselves, and the files it came from (the
    source and its bibliography aside: the typesetting adds those)."""
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
                    "word": quantifiers.quantity_word(_number(numbers, key), n),
                    "rests_on": list(on)}
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
        "sentences": sentences.for_the_paper(),
    }
    values = {**numbers, **people_and_losses(study, numbers)}
    derived["statements"], statement_gaps = statements(run.data, values)
    derived["title_page"], title_gaps = title_page()
    derived["coreq"] = coreq(values)
    derived["not_stated"] = [*title_gaps, *statement_gaps]
    inputs = [numbers_path, *(run.tables / f"{t}.csv" for t in tables), *figures,
              *study.files(), COREQ, CITATION, claims.ledger_path(run.data),
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



def unnamed_quotations(study) -> list[str]:
    """The published quotations whose participant the article does not name (the segment's
    ``participant_id`` is a synthetic stand-in): the paper says so beside each."""
    segments = study.segments
    quoted = segments[segments["provenance"].str.startswith("published")]
    unnamed = quoted[quoted["provenance"].str.contains("participant_id", regex=False)]
    return sorted(set("\u201c" + unnamed["text"] + "\u201d"))
