"""The claims ledger: every number and quantifier the article states about this study, traced
to the key of ``numbers.json`` that recomputes it, so the build fails when the data disagree.

The ledger (``claims/ledger.yaml``) is written from the article, one entry per claim. An entry
is checked in one of a few ways (``check.kind``), or says honestly that it cannot be computed
from these data, or records that the article contradicts itself. Article inconsistencies are
shown, never enforced: they are facts about the paper, not about the data. What an entry may
say, and its validation, is ``ledger_entries``'; this module finds and reads the ledger and the
numbers, and checks each claim against them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import yaml

from . import numbers as numbers_mod
from . import provenance, quantifiers, staging
from .ledger_entries import (
    CANNOT,
    INCONSISTENT,
    Claim,
    LedgerError,
    at_precision,
    decimal_of,
    parse_ledger,
    within,
    written_number,
)
from .notebook_files import notebook_paths
from .paths import NOTEBOOKS_DIR, REPO_ROOT, display_path

LEDGER_FILE = REPO_ROOT / "claims" / "ledger.yaml"
DATA_LEDGER_NAME = "claims.yaml"
"""A data directory's own ledger, ``<data_dir>/claims.yaml``, replaces the article's."""

HOLDS = "holds"
DIFFERS = "differs"
STAND_IN_DIFFERS = "differs on the synthetic stand-in"
"""Computed, and it does not hold, on values the generator made without this reading in
mind (the entry's ``stand_in`` says why): reported, not enforced. The same result on
published or the study's own values is ``differs``, and fails the build."""
STATUSES = (HOLDS, DIFFERS, STAND_IN_DIFFERS, CANNOT, INCONSISTENT)

PUBLISHED, DERIVED, SYNTHETIC, STUDY = (provenance.PUBLISHED, "derived", provenance.SYNTHETIC,
                                        provenance.STUDY)
NOT_RECOMPUTED = "none"
EVIDENCE = (PUBLISHED, DERIVED, SYNTHETIC, STUDY, NOT_RECOMPUTED)
"""What a recomputed value rests on, from the provenance records of the numbers it reads
(``numbers/<notebook>.meta.json``): ``published`` data only, a count or value read from
them; ``derived``, arithmetic on published values (a share, an interval, a test, a sum);
``synthetic``, a synthetic stand-in among its inputs, so "holds" tests the pipeline, not the
study; ``study``, the study's own records; ``none`` where nothing is recomputed."""

COLUMNS = ["id", "section", "claim", "published", "recomputed", "status", "evidence", "grade",
           "reason"]

FOOTNOTE = ("Recomputed from this build's numbers.json. Numbers hold to the precision the article "
            "writes (half a unit of the last digit); verbal quantifiers by the project's "
            "convention (data/README.md). Evidence says what a recomputed value rests on, from "
            "the provenance of the numbers it reads: published data, arithmetic on them "
            "(derived), or a synthetic stand-in, whose unpublished values were generated to "
            "agree with the article, so there 'holds' tests the pipeline, not the study. "
            "Article inconsistencies (graded contradiction, tension or convention-dependent) "
            "and claims that cannot be computed are reported, never enforced.")

class ClaimsDiffer(AssertionError):
    """A published value does not hold on the data; the message lists every such claim."""


def ledger_path(data_dir: Path) -> Path:
    """The ledger that goes with a study's data: ``<data_dir>/claims.yaml`` when the data
    directory carries one, else the repository's ledger of the article (``claims/ledger.yaml``),
    which the real data of this study are checked against."""
    own = Path(data_dir) / DATA_LEDGER_NAME
    return own if own.is_file() else LEDGER_FILE


def read_ledger(path: Path = LEDGER_FILE) -> list[Claim]:
    """Load and validate the ledger, recording the read so the runner re-executes the claims
    notebook when the ledger changes."""
    path = Path(path)
    staging.record_read(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LedgerError(f"{display_path(path)}: not valid YAML: {exc}") from None
    claims = parse_ledger(data, display_path(path))
    if not claims and path.resolve() == LEDGER_FILE.resolve():
        raise LedgerError(f"{display_path(path)}: the article's ledger is empty; only a data "
                          f"directory's own {DATA_LEDGER_NAME} may check nothing")
    return claims


def read_numbers(tables_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> dict[str, object]:
    """The study's headline numbers, merged from every notebook's fragment under
    ``<tables_dir>/numbers/``: the same merge ``numbers.write_numbers`` writes to
    ``numbers.json``, so the claims need nothing merged beforehand however the notebooks were
    run. It only reads. Each fragment read is recorded, so a change in any number re-runs the
    claims."""
    paths = numbers_mod.fragments(Path(tables_dir), _notebook_names(notebooks_dir))
    if not paths:
        raise FileNotFoundError(f"no numbers under {display_path(Path(tables_dir))}/"
                                f"{numbers_mod.FRAGMENTS_DIR}: run the other notebooks first")
    for path in paths:
        staging.record_read(path)
    return numbers_mod.merge(paths)


def _notebook_names(notebooks_dir: Path) -> list[str]:
    return [path.stem for path in notebook_paths(Path(notebooks_dir))]


def read_sources(tables_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> dict[str, dict]:
    """Each number's provenance record (``provenance.rests_on``), from the sidecar every
    notebook writes beside its fragment (``numbers/<notebook>.meta.json``); each read is
    recorded, so a change of provenance re-runs the claims."""
    sources: dict[str, dict] = {}
    for fragment in numbers_mod.fragments(Path(tables_dir), _notebook_names(notebooks_dir)):
        sidecar = fragment.with_name(fragment.stem + provenance.SIDECAR_SUFFIX)
        staging.record_read(sidecar)
        if not sidecar.is_file():
            raise FileNotFoundError(f"{display_path(sidecar)} is missing: the numbers of "
                                    f"{fragment.stem} have no provenance (run it again)")
        sources.update(json.loads(sidecar.read_text(encoding="utf-8")))
    return sources


# --- evaluating claims --------------------------------------------------------------------

class _Missing(KeyError):
    """A key the check needs is not in numbers.json."""


class _Uncheckable(Exception):
    """The check cannot be made on these data (a quantifier with no range at this N)."""

    def __init__(self, reason: str, shown: str) -> None:
        super().__init__(reason)
        self.reason, self.shown = reason, shown


def _get(numbers: dict[str, object], key: str) -> object:
    if key not in numbers:
        raise _Missing(key)
    return numbers[key]


def _show(value: object) -> str:
    return numbers_mod.format_value(value)


def _date(numbers: dict[str, object], key: str) -> dt.date:
    value = _get(numbers, key)
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _Missing(f"{key} (not a date: {value!r})") from None


def _run_check(claim: Claim, numbers: dict[str, object]) -> tuple[bool, str, str]:
    """(holds, recomputed as shown, why) for one checkable claim."""
    check = claim.check or {}
    kind = check["kind"]
    if kind == "value":
        basis = claim.reading or claim.published
        value = _get(numbers, check["key"])
        target, tol = written_number(basis), claim.tolerance
        why = f"{check['key']} must lie in {target - tol} to {target + tol}"
        if claim.reading:
            why += f" ('{claim.published}' read as {claim.reading})"
        return within(basis, value, tol), at_precision(value, basis), why
    if kind == "equal":
        a, b = _get(numbers, check["key"]), _get(numbers, check["equals"])
        return a == b, f"{_show(a)} of {_show(b)}", f"{check['key']} must equal {check['equals']}"
    if kind == "quantifier":
        word, n_key = check["word"], check["n"]
        value, n = _get(numbers, check["key"]), _get(numbers, n_key)
        if decimal_of(value) is None or decimal_of(n) is None:
            raise _Missing(f"{check['key']} or {n_key} (not a count)")
        value, n = int(value), int(n)
        count = n - value if check["complement"] else value
        try:
            low, high = quantifiers.count_range(word, n)
        except quantifiers.Uncheckable as exc:
            raise _Uncheckable(f"{exc}.", f"{count} of {n}") from None
        admits = f"{low}" if low == high else f"{low}-{high}"
        kind_of = "convention" if quantifiers.IS_CONVENTION[word] else "fact"
        why = f"'{word}' admits {admits} of {n} ({kind_of})"
        if check["complement"]:
            why += f"; counted as {n_key} minus {check['key']} ({n} - {value})"
        else:
            why += f"; counted by {check['key']}"
        return quantifiers.holds(word, count, n), f"{count} of {n}", why
    if kind in ("at_most", "at_least"):
        value = _get(numbers, check["key"])
        limit = decimal_of(check["limit"])
        number = decimal_of(value)
        unit = f" {check['unit']}" if check.get("unit") else ""
        if number is None:
            return False, _show(value), f"{check['key']} is not a number"
        ok = number <= limit if kind == "at_most" else number >= limit
        sign = "<=" if kind == "at_most" else ">="
        return ok, f"{_show(value)}{unit}", f"{check['key']} {sign} {check['limit']}{unit}"
    if kind == "one_of":
        value = _get(numbers, check["key"])
        allowed = [str(v) for v in check["values"]]
        return (str(value) in allowed, _show(value),
                f"{check['key']} must be one of {', '.join(allowed)}")
    if kind == "dates_within":
        start, end = dt.date.fromisoformat(check["start"]), dt.date.fromisoformat(check["end"])
        dates = [_date(numbers, k) for k in check["keys"]]
        ok = all(start <= d <= end for d in dates)
        shown = " to ".join(d.isoformat() for d in dates)
        return ok, shown, f"{', '.join(check['keys'])} must lie in {start} to {end}"
    if kind == "date_order":
        dates = [_date(numbers, k) for k in check["keys"]]
        ok = all(a <= b for a, b in zip(dates, dates[1:], strict=False))
        shown = " <= ".join(f"{k} {d}" for k, d in zip(check["keys"], dates, strict=True))
        why = "must be in this order: " + ", ".join(check["keys"])
        if check.get("gap"):
            first, second = (_date(numbers, k) for k in check["gap"])
            shown += f"; {check['gap'][1]} is {(second - first).days} days after {check['gap'][0]}"
        return ok, shown, why
    if kind == "disjoint":
        counts = [_get(numbers, k) for k in check["keys"]]
        n = _get(numbers, check["n"])
        if any(decimal_of(v) is None for v in [*counts, n]):
            raise _Missing(f"{', '.join(check['keys'])} or {check['n']} (not a count)")
        total = sum(int(v) for v in counts)
        shown = f"{' + '.join(str(int(v)) for v in counts)} = {total} of {int(n)}"
        if total <= int(n):
            raise _Uncheckable(
                f"The counts fit in {int(n)} participants, so the groups may be apart, but "
                "numbers.json holds no co-occurrence of codes to show that they are.", shown)
        return False, shown, (f"groups apart add up to at most {check['n']}; these share at "
                              f"least {total - int(n)} participants")
    raise AssertionError(f"unvalidated check kind {kind!r}")  # parse_ledger refuses these


def keys_read(claim: Claim) -> list[str]:
    """The numbers.json keys a claim's check reads."""
    check = claim.check or {}
    kind = check.get("kind")
    if kind is None:
        return []
    if kind == "equal":
        return [check["key"], check["equals"]]
    if kind == "quantifier":
        return [check["key"], check["n"]]
    if kind == "disjoint":
        return [*check["keys"], check["n"]]
    if kind in ("dates_within", "date_order"):
        return [*check["keys"], *check.get("gap", [])]
    return [check["key"]]


def evidence(claim: Claim, numbers: dict[str, object], sources: dict[str, dict]) -> str:
    """What the claim's recomputed value rests on (``EVIDENCE``), from the provenance records
    of the numbers it reads, never typed per claim: a synthetic input makes it ``synthetic``
    whatever else it reads; a published count or value read as it is, ``published``; any
    arithmetic on published values (``numbers.is_arithmetic``, or a sum of counts),
    ``derived``."""
    keys = [k for k in dict.fromkeys(keys_read(claim)) if k in numbers]
    if not keys:
        return NOT_RECOMPUTED
    missing = [k for k in keys if k not in sources]
    if missing:
        raise LedgerError(f"claim {claim.id}: numbers.json key(s) {', '.join(missing)} have no "
                          "provenance record (numbers/<notebook>.meta.json): written by "
                          "Outputs.numbers without sources?")
    rests_on = {sources[k]["rests_on"] for k in keys}
    for kind in (SYNTHETIC, STUDY):
        if kind in rests_on:
            return kind
    arithmetic = (claim.check or {}).get("kind") == "disjoint" or any(
        numbers_mod.is_arithmetic(k, numbers[k]) for k in keys)
    return DERIVED if arithmetic else PUBLISHED


def _joined(*parts: str | None) -> str:
    return " ".join(p.strip() for p in parts if p)


def _versus_text(claim: Claim) -> str:
    return " ".join(f"Versus ({q.section}): “{q.quote}”." for q in claim.versus)


def evaluate_claim(claim: Claim, numbers: dict[str, object],
                   sources: dict[str, dict]) -> dict[str, str]:
    """One report row: the claim, its published and recomputed values, status, what the
    recomputed value rests on (``evidence``), an inconsistency's grade, and the reason."""
    row = {"id": claim.id, "section": claim.section, "claim": claim.claim,
           "published": claim.published, "recomputed": "", "status": "",
           "evidence": evidence(claim, numbers, sources), "grade": claim.grade or "",
           "reason": ""}
    if claim.status == CANNOT:
        row.update(recomputed="n/a", status=CANNOT, reason=claim.reason or "")
        return row
    try:
        ok, shown, why = _run_check(claim, numbers) if claim.check else (None, "n/a", "")
    except _Uncheckable as uncheckable:
        row.update(recomputed=uncheckable.shown, status=CANNOT,
                   reason=_joined(uncheckable.reason, claim.note))
        return row
    except _Missing as missing:
        ok, shown, why = False, "missing", (f"{missing.args[0]!s} is not in numbers.json "
                                            "(did a notebook stop writing it?)")
    if claim.status == INCONSISTENT:
        checked = ""
        if claim.check:
            checked = f"On these data the published value would {'hold' if ok else 'differ'} " \
                      f"({why})."
        row.update(recomputed=shown, status=INCONSISTENT,
                   reason=_joined(claim.reason, _versus_text(claim), checked))
        return row
    convention = "Convention, not fact." if claim.convention else ""
    status = HOLDS if ok else DIFFERS
    stand_in = None
    if not ok and claim.stand_in and row["evidence"] == SYNTHETIC:
        status, stand_in = STAND_IN_DIFFERS, f"Not enforced: {claim.stand_in}"
    row.update(recomputed=shown, status=status,
               reason=_joined(why + ".", convention, claim.note, stand_in,
                              _versus_text(claim)))
    return row


SECTION_SEPARATOR = " > "


def by_section(claims: list[Claim]) -> list[Claim]:
    """The claims grouped by section, as a reader of the article meets them: sections (and,
    within one, its sub-sections) in the order the ledger first names them, a section's own
    claims before its sub-sections', and the ledger's order within one section."""
    first: dict[tuple[str, ...], int] = {}
    for claim in claims:
        parts = tuple(claim.section.split(SECTION_SEPARATOR))
        for depth in range(1, len(parts) + 1):
            first.setdefault(parts[:depth], len(first))

    def rank(claim: Claim) -> tuple[int, ...]:
        parts = tuple(claim.section.split(SECTION_SEPARATOR))
        return tuple(first[parts[:depth]] for depth in range(1, len(parts) + 1))

    return sorted(claims, key=rank)


def evaluate(claims: list[Claim], numbers: dict[str, object],
             sources: dict[str, dict]) -> pd.DataFrame:
    """Every claim against ``numbers`` (with each number's provenance record, ``sources``):
    one row each, grouped by section (``by_section``)."""
    return pd.DataFrame([evaluate_claim(c, numbers, sources) for c in by_section(claims)],
                        columns=COLUMNS)


def holds_by_evidence(report: pd.DataFrame) -> dict[str, int]:
    """How many claims hold, by what they rest on (every kind of evidence, zeros included):
    what an abstract may say of the ledger without passing a test of the pipeline for one of
    the study."""
    held = report.loc[report["status"] == HOLDS, "evidence"].value_counts()
    return {kind: int(held.get(kind, 0)) for kind in EVIDENCE}


def summary(report: pd.DataFrame) -> pd.DataFrame:
    """How many claims have each status (every status listed, zeros included)."""
    counts = report["status"].value_counts()
    return pd.DataFrame({"status": list(STATUSES),
                         "claims": [int(counts.get(s, 0)) for s in STATUSES]})


def enforce(report: pd.DataFrame) -> str:
    """Raise ``ClaimsDiffer`` listing every claim whose published value does not hold on the
    data; otherwise say what holds. Article inconsistencies and claims that cannot be
    computed never fail the build: they are reported, not enforced."""
    differs = report[report["status"] == DIFFERS]
    if len(differs):
        lines = [f"{len(differs)} published claim(s) do not hold on these data:"]
        for row in differs.itertuples(index=False):
            lines.append(f"- {row.id} ({row.section}): “{row.claim}”: published {row.published}, "
                         f"recomputed {row.recomputed} ({row.reason})")
        raise ClaimsDiffer("\n".join(lines))
    counts = report["status"].value_counts()
    held = ", ".join(f"{n} {kind}" for kind, n in holds_by_evidence(report).items() if n)
    return (f"All {int(counts.get(HOLDS, 0))} checkable claims hold ({held or 'none'}); "
            f"{int(counts.get(STAND_IN_DIFFERS, 0))} differ only on a synthetic stand-in not "
            "drawn for their reading; "
            f"{int(counts.get(INCONSISTENT, 0))} article inconsistencies and "
            f"{int(counts.get(CANNOT, 0))} claims that cannot be computed from these data are "
            "reported, not enforced.")
