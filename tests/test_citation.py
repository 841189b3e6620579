"""CITATION.cff and LICENSE, as a citation tool and a packager read them: the Citation File
Format 1.2.0's required fields are there (cff-version, message, title, authors; and a
preferred citation with type, title and authors), the licence agrees with pyproject.toml, and
nothing about the article is stated that its text does not give."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

REFERENCE_TYPES = {"article", "book", "report", "thesis", "software", "generic"}
"""The reference types this repository could name (a subset of the format's list)."""


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def authors_valid(authors: object) -> bool:
    """A non-empty list of persons (a family name or alias) or entities (a name)."""
    return isinstance(authors, list) and bool(authors) and all(
        isinstance(a, dict) and any(str(a.get(k, "")).strip()
                                    for k in ("name", "family-names", "alias"))
        for a in authors)


def test_the_required_fields_are_there(cff):
    assert re.fullmatch(r"1\.2\.\d+", str(cff["cff-version"]))
    for field in ("message", "title"):
        assert isinstance(cff[field], str) and cff[field].strip(), field
    assert authors_valid(cff["authors"])


def test_the_preferred_citation_is_the_article(cff):
    """README, section Licence and citation: "`CITATION.cff`: it names the article as the preferred
    citation"."""
    article = cff["preferred-citation"]
    assert article["type"] == "article"
    assert isinstance(article["title"], str) and article["title"].strip()
    assert authors_valid(article["authors"])


def test_an_author_list_that_is_empty_or_nameless_is_refused():
    # The check above must be able to fail.
    assert not authors_valid([])
    assert not authors_valid([{"affiliation": "a university"}])
    assert not authors_valid("The authors")


def test_no_identifier_is_stated_that_the_article_does_not_give(cff, article):
    for key in ("doi", "journal", "year", "volume", "start", "url"):
        value = cff["preferred-citation"].get(key)
        if value is not None:
            assert str(value) in article, f"preferred-citation {key} {value!r} is not in the text"


def test_the_licence_is_the_one_pyproject_names():
    """README, section Licence and citation: "The code is under the MIT licence (`LICENSE`)"."""
    license_id = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["license"]
    assert license_id == "MIT"
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert yaml.safe_load((REPO / "CITATION.cff").read_text())["license"] == license_id
