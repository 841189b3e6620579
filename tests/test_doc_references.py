"""Every test that holds a claim of the documentation names it as
``README, section <S>: "<quote>"`` or ``docs/<file>.md, section <S>: "<quote>"`` (or
``README, introduction: "<quote>"``, the text before the first section): this file
checks that each such reference still points at a heading of that document and that the quote
is in that section, so a rewritten README cannot leave tests naming claims it no longer makes
(issue 19, requirement 10). Fast: it reads text only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from psu_study.paths import REPO_ROOT

TESTS = Path(__file__).parent
REFERENCE = re.compile(r'(README|docs/[\w.-]+\.md), (?:section ([^:"]+?)|introduction): "([^"]+)"')
INTRODUCTION = ""  # the section name of a reference to the text before the first section
HEADING = re.compile(r"^(#{1,3}) +(.+?) *$")
WILDCARD = re.compile(r"\.\.\.|…")


def normalised(text: str) -> str:
    """One space for every run of whitespace, so a quote may wrap where the document does not."""
    return " ".join(text.split())


def references(source: str) -> list[tuple[str, str, str]]:
    """(document, section, quote) of every reference in a test file's text: comment markers
    and a docstring's doubled backslashes are taken out first, so a reference may wrap."""
    text = re.sub(r"^\s*# ?", "", source, flags=re.MULTILINE).replace("\\\\", "\\")
    return [(doc, normalised(section), normalised(quote))
            for doc, section, quote in REFERENCE.findall(normalised(text))]


def sections(document: str) -> dict[str, str]:
    """Each heading (levels 1 to 3, outside fenced code) with its text: up to the next heading
    of the same or a higher level, so a section holds its sub-sections; under INTRODUCTION, the
    text before the first heading below the title."""
    lines = document.splitlines()
    headings, fenced = [], False
    for number, line in enumerate(lines):
        fenced ^= line.startswith("```")
        found = None if fenced else HEADING.match(line)
        if found:
            headings.append((number, len(found[1]), found[2]))
    below_title = [n for n, level, _ in headings if level > 1]
    result = {INTRODUCTION: "\n".join(lines[:below_title[0] if below_title else len(lines)])}
    for index, (start, level, title) in enumerate(headings):
        end = next((n for n, lv, _ in headings[index + 1:] if lv <= level), len(lines))
        result[title] = "\n".join(lines[start + 1:end])
    return result


def problem(document: str, section: str, quote: str) -> str | None:
    """Why the quote is not in the named section of the document (None when it is): the
    section is the first heading that starts with the name, case ignored; ``...`` or ``…``
    in the quote stands for any text."""
    titles = [t for t in sections(document) if t.lower().startswith(section.lower())
              and (t == INTRODUCTION) == (section == INTRODUCTION)]
    if not titles:
        return f"no heading {section!r}"
    body = normalised(sections(document)[titles[0]])
    pattern = ".*?".join(re.escape(part.strip()) for part in WILDCARD.split(quote))
    if not re.search(pattern, body, flags=re.DOTALL):
        return f"section {titles[0]!r} does not say {quote!r}"
    return None


def path_of(doc: str) -> Path:
    return REPO_ROOT / ("README.md" if doc == "README" else doc)


ALL = sorted({(test.name, *ref) for test in TESTS.glob("test_*.py")
              if test.name != Path(__file__).name
              for ref in references(test.read_text(encoding="utf-8"))})


def test_the_tests_name_claims_of_the_documents():
    assert len(ALL) > 50
    assert {doc for _, doc, _, _ in ALL} >= {"README", "docs/development.md"}


@pytest.mark.parametrize(("test_file", "doc", "section", "quote"), ALL,
                         ids=[f"{t}:{d}:{s}:{q[:30]}" for t, d, s, q in ALL])
def test_every_reference_quotes_its_section(test_file, doc, section, quote):
    path = path_of(doc)
    assert path.is_file(), f"{test_file}: no document {doc}"
    found = problem(path.read_text(encoding="utf-8"), section, quote)
    assert found is None, f"{test_file}: {doc}, {found}"


HAND_WRITTEN = """# Title

An opening claim.

## Two commands

Run `make` and then
`make test`.

```sh
# not a heading
```

### Sub part

A deeper claim.

## Other

Elsewhere only.
"""


def test_the_matcher_finds_quotes_wrapped_elided_and_in_subsections():
    assert problem(HAND_WRITTEN, "Two commands", "Run `make` and then `make test`") is None
    assert problem(HAND_WRITTEN, "two", "Run ... `make test`") is None
    assert problem(HAND_WRITTEN, "Two commands", "Run … test`.") is None
    assert problem(HAND_WRITTEN, "Two commands", "A deeper claim") is None
    assert problem(HAND_WRITTEN, "Sub part", "A deeper claim") is None
    assert problem(HAND_WRITTEN, INTRODUCTION, "An opening claim") is None


def test_the_matcher_refuses_a_wrong_quote_section_or_heading():
    assert problem(HAND_WRITTEN, "Two commands", "Run `make` and then `make lint`") == (
        "section 'Two commands' does not say 'Run `make` and then `make lint`'")
    assert problem(HAND_WRITTEN, "Two commands", "Elsewhere only") is not None
    assert problem(HAND_WRITTEN, "Sub part", "Run `make`") is not None
    assert problem(HAND_WRITTEN, "not a heading", "x") == "no heading 'not a heading'"
    assert problem(HAND_WRITTEN, "Two commands", "Run make and") is not None  # backticks kept
    assert problem(HAND_WRITTEN, INTRODUCTION, "Run `make`") is not None
    assert problem(HAND_WRITTEN, "Two commands", "An opening claim") is not None


def test_references_are_read_from_docstrings_and_wrapped_comments():
    source = ('    """README, section Two commands: "Run `make` and\n'
              '    then `make test`"."""\n'
              '    # docs/development.md, section Two test tiers: "a\n'
              '    # quote" and \\\\newcommand\n'
              '    # README, introduction: "An opening claim".\n')
    assert references(source) == [
        ("README", "Two commands", "Run `make` and then `make test`"),
        ("docs/development.md", "Two test tiers", "a quote"),
        ("README", INTRODUCTION, "An opening claim"),
    ]


def test_every_file_a_document_links_exists():
    """README, section More documentation: "[`docs/architecture.md`](docs/architecture.md)":
    every relative link of README.md and docs/*.md (images too) names a file that exists."""
    broken = []
    for document in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text(encoding="utf-8")):
            path = target.split("#")[0]
            if path and "://" not in path and not (document.parent / path).exists():
                broken.append(f"{document.name}: {target}")
    assert broken == []
