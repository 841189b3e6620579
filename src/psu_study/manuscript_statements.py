"""The manuscript's declarations, from the files that state them and never from code: the
statements a journal requires (``paper/statements.yml``, or a data folder's own), the title
page (``CITATION.cff``) and the COREQ checklist (``paper/coreq.yml``); what the source does not
state is said so, and warned."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from . import claims
from . import numbers as numbers_mod
from .paths import PAPER_DIR, REPO_ROOT, display_path

STATEMENTS = PAPER_DIR / "statements.yml"
"""The article's declarations (ethics, consent, funding, competing interests, contributions),
each with the section of the article that states it; a data directory's own
``statements.yml`` replaces it, as its ``claims.yaml`` replaces the ledger."""
COREQ = PAPER_DIR / "coreq.yml"
"""The COREQ checklist: for each item, the section of the paper that holds it and the element
that section must hold (tests/test_paper_rules.py checks each in the PDF)."""
CITATION = REPO_ROOT / "CITATION.cff"
"""The manuscript's authors, their affiliations and its contact: the title page's only source."""
NOT_STATED = "not stated in the source article"
"""What the paper prints for a statement a journal requires and the source does not give."""
STATEMENT_ITEMS = ("ethics_approval", "consent_to_participate", "consent_for_publication",
                   "funding", "competing_interests", "author_contributions")
"""The declarations a journal requires besides data availability (which is generated from
the data's provenance): each must be in the statements file, stated or marked not stated."""


class ManuscriptError(RuntimeError):
    """The paper cannot be built as asked; the message says why."""


def fill(text: str, values: dict[str, object], where: str) -> str:
    """``text`` with each ``{key}`` replaced by its value (from ``numbers.json`` or the derived
    values), so no file of the manuscript types a figure; an unknown key is an error."""
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if values.get(key) is None:
            raise ManuscriptError(f"{where}: {{{key}}} has no value in numbers.json")
        shown = values[key]
        return numbers_mod.format_value(shown)

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
