"""What a claims ledger entry may say, and the rule its numbers are held to: each entry of
``claims/ledger.yaml`` (or a data directory's own ``claims.yaml``) validated into a ``Claim``,
or a ``LedgerError`` naming the entry and the field. ``claims`` reads the file and checks the
claims against the build's numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import numbers as numbers_mod
from . import quantifiers

CANNOT = "cannot be computed from these data"
INCONSISTENT = "article inconsistency"
"""The two statuses an entry may give itself (with a reason); the others are computed."""

GRADES = ("contradiction", "tension", "convention-dependent")
"""How far an article inconsistency goes: two statements that cannot both be true
(``contradiction``); statements that sit badly together but can be reconciled, by scope or
implicature (``tension``); or a clash only under the project's convention for a word
(``convention-dependent``, so exactly the entries that are conventions)."""

REQUIRED = ("id", "section", "claim", "published", "convention")
OPTIONAL = ("check", "tolerance", "reading", "status", "reason", "note", "versus", "grade",
            "stand_in")
CHECK_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required fields, optional fields)
    "value": (("key",), ()),
    "equal": (("key", "equals"), ()),
    "quantifier": (("word", "key"), ("n", "complement")),
    "at_most": (("key", "limit"), ("unit",)),
    "at_least": (("key", "limit"), ("unit",)),
    "one_of": (("key", "values"), ()),
    "dates_within": (("keys", "start", "end"), ()),
    "date_order": (("keys",), ("gap",)),
    "disjoint": (("keys",), ("n",)),
}
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_NUMBER = re.compile(r"[-+]?\d+(?:\.(\d+))?")


class LedgerError(ValueError):
    """The ledger is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class Quote:
    """Another statement of the article that a claim is set against."""

    section: str
    quote: str


@dataclass(frozen=True)
class Claim:
    """One ledger entry, validated."""

    id: str
    section: str
    claim: str
    published: str
    convention: bool
    check: dict[str, Any] | None = None
    tolerance: Decimal | None = None
    reading: str | None = None
    status: str | None = None
    reason: str | None = None
    note: str | None = None
    versus: tuple[Quote, ...] = field(default_factory=tuple)
    grade: str | None = None
    stand_in: str | None = None


# --- the tolerance rule -------------------------------------------------------------------

def written_number(text: str) -> Decimal:
    """The first number written in ``text`` (``"65%"`` -> 65, ``"2.5 h"`` -> 2.5)."""
    match = _NUMBER.search(str(text))
    if match is None:
        raise ValueError(f"no number written in {text!r}")
    return Decimal(match.group())


def tolerance_for(text: str) -> Decimal:
    """Half a unit of the last decimal place written: a published "65%" stands for anything
    that rounds to it (64.5 to 65.5), "65.2%" for 65.15 to 65.25. Authors round; a check
    stricter than their rounding would fail correct data, a looser one would hide errors."""
    match = _NUMBER.search(str(text))
    if match is None:
        raise ValueError(f"no number written in {text!r}")
    decimals = len(match.group(1) or "")
    return Decimal(5) * Decimal(10) ** -(decimals + 1)


def within(published: str, recomputed: object, tolerance: Decimal | None = None) -> bool:
    """Whether ``recomputed`` rounds to the number written in ``published`` (ends inclusive),
    to ``tolerance`` where the ledger already holds it (``Claim.tolerance``), else the rule's."""
    value = decimal_of(recomputed)
    if value is None:
        return False
    allowed = tolerance_for(published) if tolerance is None else tolerance
    return abs(value - written_number(published)) <= allowed


def at_precision(value: object, published: str) -> str:
    """``value`` rounded to the decimals the article writes in ``published`` (65.2393 against
    "65%" shows as 65): the precision the check uses, so the shown value is the one compared.
    A value that is not a number is shown as it is."""
    number = decimal_of(value)
    if number is None:
        return numbers_mod.format_value(value)
    match = _NUMBER.search(published)
    decimals = len(match.group(1) or "") if match else 0
    return str(number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def decimal_of(value: object) -> Decimal | None:
    """``value`` as a Decimal if it is a number (never a bool), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return None


# --- validating the ledger ----------------------------------------------------

def _refuse(source: str, entry_id: str, problem: str) -> LedgerError:
    return LedgerError(f"{source}, entry {entry_id}: {problem}")


def _text(source: str, label: str, entry: dict, name: str, *, required: bool = True) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise _refuse(source, label, f"field {name!r} is missing")
        return None
    if isinstance(value, dt.date):
        value = value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _refuse(source, label, f"field {name!r} must be non-empty text; got {value!r}")
    return value.strip()


def _validate_check(source: str, label: str, check: object) -> dict[str, Any]:
    if not isinstance(check, dict):
        raise _refuse(source, label, f"field 'check' must be a mapping; got {check!r}")
    kind = check.get("kind")
    if kind not in CHECK_FIELDS:
        raise _refuse(source, label, f"field 'check.kind' must be one of "
                                     f"{', '.join(CHECK_FIELDS)}; got {kind!r}")
    required, optional = CHECK_FIELDS[kind]
    for name in required:
        if check.get(name) is None:
            raise _refuse(source, label, f"field 'check.{name}' is missing (needed by kind "
                                         f"{kind!r})")
    unknown = set(check) - set(required) - set(optional) - {"kind"}
    if unknown:
        raise _refuse(source, label, f"unknown field(s) in 'check': {', '.join(sorted(unknown))}")
    clean = dict(check)
    for name in ("start", "end"):
        if isinstance(clean.get(name), dt.date):
            clean[name] = clean[name].isoformat()
    if kind == "quantifier":
        word = str(check["word"]).lower()
        if word not in quantifiers.QUANTIFIERS:
            raise _refuse(source, label, f"field 'check.word' must be one of "
                                         f"{', '.join(quantifiers.QUANTIFIERS)}; got {word!r}")
        clean["word"] = word
        clean.setdefault("n", "n_participants")
        clean["complement"] = bool(check.get("complement", False))
    if kind == "disjoint":
        clean.setdefault("n", "n_participants")
    if kind in ("dates_within", "date_order", "disjoint") and (
            not isinstance(check["keys"], list) or not check["keys"]):
        raise _refuse(source, label, "field 'check.keys' must be a non-empty list")
    if kind in ("at_most", "at_least") and decimal_of(check["limit"]) is None:
        raise _refuse(source, label, f"field 'check.limit' must be a number; "
                                     f"got {check['limit']!r}")
    return clean


def _validate(source: str, index: int, entry: object) -> Claim:
    """One raw YAML entry -> a Claim, or a LedgerError naming the entry and the field."""
    if not isinstance(entry, dict):
        raise LedgerError(f"{source}, entry #{index + 1}: must be a mapping; got {entry!r}")
    raw_id = entry.get("id")
    label = repr(raw_id) if raw_id else f"#{index + 1} (no id)"
    unknown = set(entry) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise _refuse(source, label, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    entry_id = _text(source, label, entry, "id")
    if not _ID.match(entry_id):
        raise _refuse(source, label, "field 'id' must be lower-case letters, digits, '.', '_' "
                                     "or '-'")
    section = _text(source, label, entry, "section")
    claim = _text(source, label, entry, "claim")
    published = _text(source, label, entry, "published")
    if "convention" not in entry:
        raise _refuse(source, label, "field 'convention' is missing")
    convention = entry["convention"]
    if not isinstance(convention, bool):
        raise _refuse(source, label, f"field 'convention' must be true or false; "
                                     f"got {convention!r}")
    status = _text(source, label, entry, "status", required=False)
    reason = _text(source, label, entry, "reason", required=False)
    note = _text(source, label, entry, "note", required=False)
    reading = _text(source, label, entry, "reading", required=False)
    check = entry.get("check")
    if status is not None and status not in (CANNOT, INCONSISTENT):
        raise _refuse(source, label, f"field 'status' may only be {CANNOT!r} or "
                                     f"{INCONSISTENT!r} (others are computed); got {status!r}")
    if status is not None and reason is None:
        raise _refuse(source, label, f"field 'reason' is missing (needed with status "
                                     f"{status!r})")
    if status == CANNOT and check is not None:
        raise _refuse(source, label, "field 'check' must be absent when the claim cannot be "
                                     "computed from these data")
    if status is None and check is None:
        raise _refuse(source, label, "field 'check' is missing (or give a status with a reason)")
    clean_check = _validate_check(source, label, check) if check is not None else None
    tolerance = None
    if clean_check is not None and clean_check["kind"] == "value":
        basis = reading or published
        try:
            expected = tolerance_for(basis)
        except ValueError:
            raise _refuse(source, label, f"field 'published' {published!r} writes no number; "
                                         "give 'reading' (the number it stands for)") from None
        if entry.get("tolerance") is None:
            raise _refuse(source, label, f"field 'tolerance' is missing (the rule gives "
                                         f"{expected} for {basis!r})")
        tolerance = decimal_of(entry["tolerance"])
        if tolerance != expected:
            raise _refuse(source, label, f"field 'tolerance' {entry['tolerance']!r} does not "
                                         f"follow from {basis!r} as written (half a unit of its "
                                         f"last digit: {expected})")
    elif entry.get("tolerance") is not None:
        raise _refuse(source, label, "field 'tolerance' applies only to checks of kind 'value'")
    if (clean_check is not None and clean_check["kind"] == "quantifier"
            and quantifiers.IS_CONVENTION[clean_check["word"]] and not convention):
        raise _refuse(source, label, f"field 'convention' must be true: "
                                     f"{clean_check['word']!r} has no fixed count")
    grade = _text(source, label, entry, "grade", required=False)
    if (status == INCONSISTENT) != (grade is not None):
        raise _refuse(source, label, f"field 'grade' is {'missing' if grade is None else 'set'}:"
                                     f" an article inconsistency, and only one, is graded")
    if grade is not None and grade not in GRADES:
        raise _refuse(source, label, f"field 'grade' must be one of {', '.join(GRADES)}; "
                                     f"got {grade!r}")
    if grade is not None and (grade == "convention-dependent") != convention:
        raise _refuse(source, label, "field 'grade' must be 'convention-dependent' exactly when "
                                     "the reading is a convention (convention: true)")
    stand_in = _text(source, label, entry, "stand_in", required=False)
    if stand_in is not None and (check is None or status is not None):
        raise _refuse(source, label, "field 'stand_in' needs a computed check (no status)")
    versus = []
    for item in entry.get("versus") or []:
        if not isinstance(item, dict) or not item.get("section") or not item.get("quote"):
            raise _refuse(source, label, "field 'versus' must list mappings with 'section' and "
                                         f"'quote'; got {item!r}")
        versus.append(Quote(str(item["section"]), str(item["quote"])))
    return Claim(entry_id, section, claim, published, convention, clean_check, tolerance,
                 reading, status, reason, note, tuple(versus), grade, stand_in)


def parse_ledger(data: object, source: str = "claims/ledger.yaml") -> list[Claim]:
    """Validate a loaded ledger: a list of entries, or a mapping with a ``claims`` list. An
    empty ledger (an empty file, ``[]`` or ``claims: []``) is valid and checks nothing."""
    if isinstance(data, dict):
        data = data.get("claims")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise LedgerError(f"{source}: expected a list of claims under 'claims'")
    claims = [_validate(source, i, entry) for i, entry in enumerate(data)]
    seen: set[str] = set()
    for claim in claims:
        if claim.id in seen:
            raise _refuse(source, repr(claim.id), "field 'id' is used by another entry")
        seen.add(claim.id)
    return claims
