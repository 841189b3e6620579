"""CITATION.cff and LICENSE, as a citation tool and a packager read them: the Citation File
Format 1.2.0's required fields are there (cff-version, message, title, authors; and a
preferred citation with type, title and authors), the licence agrees with pyproject.toml, and
nothing about the article is stated that its text does not give."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

REFERENCE_TYPES = ["article", "book", "report", "thesis", "software", "generic"]
"""The reference types this repository could name (a subset of the format's list)."""

ENTITY = {"type": "object", "required": ["name"],
          "properties": {"name": {"type": "string", "minLength": 1}}}
PERSON = {"type": "object", "additionalProperties": False,
          "properties": {k: {"type": "string", "minLength": 1} for k in (
              "family-names", "given-names", "name-particle", "name-suffix", "alias",
              "affiliation", "email", "orcid", "website")}}
AUTHORS = {"type": "array", "minItems": 1, "uniqueItems": True,
           "items": {"anyOf": [PERSON, ENTITY]}}
CFF_SCHEMA = {
    "type": "object",
    "required": ["authors", "cff-version", "message", "title"],
    "properties": {
        "cff-version": {"type": "string", "pattern": r"^1\.2\.0$"},
        "message": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "authors": AUTHORS,
        "license": {"type": "string"},
        "preferred-citation": {
            "type": "object", "required": ["authors", "title", "type"],
            "properties": {"authors": AUTHORS, "title": {"type": "string", "minLength": 1},
                           "type": {"enum": REFERENCE_TYPES}}},
    },
}
"""What the Citation File Format 1.2.0 requires of the fields this file uses, written by
hand from the format's schema (schema.json of citation-file-format 1.2.0: the four required
keys; authors a non-empty list of persons, none of whose keys is required, or entities,
which need a name; a reference needs authors, title and type). Checked by jsonschema, not
by a helper of this file."""

IDENTIFIERS = ("doi", "journal", "year", "month", "volume", "issue", "start", "end",
               "pages", "url", "issn")


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def test_the_citation_file_follows_the_format(cff):
    jsonschema.validate(cff, CFF_SCHEMA)


@pytest.mark.parametrize("broken", [
    {"authors": []}, {"authors": "The authors"}, {"authors": [{"name": ""}]},
    {"cff-version": "1.1.0"}, {"title": None},
    {"preferred-citation": {"type": "article", "title": "A title"}},
], ids=["no-authors", "authors-as-text", "nameless-entity", "old-version", "no-title",
        "citation-without-authors"])
def test_a_file_that_breaks_the_format_is_refused(cff, broken):
    """The check above can fail, on what a hand edit of the file could break."""
    edited = {k: v for k, v in {**cff, **broken}.items() if v is not None}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(edited, CFF_SCHEMA)


def test_the_preferred_citation_is_the_article(cff):
    """README, section Licence and citation: "`CITATION.cff`: it names the article as the preferred
    citation"."""
    assert cff["preferred-citation"]["type"] == "article"
    assert cff["type"] == "software"


def test_no_identifier_is_stated_that_the_article_does_not_give(cff, article):
    """The project's copy of the article starts at its Background section: no title page,
    so no DOI, journal, year, volume, pages or URL of the article itself. Any in the
    preferred citation would have been typed from memory."""
    assert article.lstrip().startswith("Background\n")
    assert re.search(r"\bdoi\b|\b10\.\d{4,}/", article, re.IGNORECASE) is None
    assert sorted(set(cff["preferred-citation"]) & set(IDENTIFIERS)) == []


def test_the_licence_is_the_one_pyproject_names():
    """README, section Licence and citation: "The code is under the MIT licence (`LICENSE`)"."""
    license_id = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert license_id == "MIT"
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert yaml.safe_load((REPO / "CITATION.cff").read_text())["license"] == license_id
