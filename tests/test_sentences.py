"""The Results' sentences are written once (``psu_study.sentences``): the report and the paper
say each of them in the same words around the same values.

The paper's side is read from its committed HTML edition (Typst's own rendering of the
templates, with Typst's number and date formats), the report's from the sections it collects
from the committed outputs, so neither side's expectation comes from the other's code.
"""

from __future__ import annotations

import html
import re

import pytest

from psu_study import report, sentences
from psu_study.paths import PAPER_DIR
from psu_study.run_folders import RunFolders

CROSS_REFERENCE = re.compile(r" \((?:Figure|Table) \d+(?:, (?:Figure|Table) \d+)*\)")
"""The paper's own cross-references ("(Figure 1)"): the report shows each figure in place."""


def paper_text() -> str:
    """The paper's words as a reader sees them: tags and cross-references taken out."""
    text = (PAPER_DIR / "paper.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text)))
    return CROSS_REFERENCE.sub("", text)


@pytest.fixture(scope="module")
def said_by_the_report() -> list[str]:
    sections, _ = report.collect(RunFolders.of())
    return [sentence for section in sections for sentence in section.sentences]


def test_the_report_says_every_sentence_once(said_by_the_report):
    assert len(said_by_the_report) == len(sentences.SENTENCES)


def test_the_paper_says_each_of_the_reports_sentences_word_for_word(said_by_the_report):
    text = paper_text()
    missing = [sentence for sentence in said_by_the_report if sentence not in text]
    assert not missing


def test_the_female_share_is_said_with_its_word_of_quantity(said_by_the_report):
    # Methods > Participants and recruitment: all 8 participants were female. The convention
    # gives 8 of 8 "all" (data/README.md); the two sources used to disagree on this sentence.
    expected = "All (8 of 8) participants were female"
    assert any(s.startswith(expected) for s in said_by_the_report)
    assert expected in paper_text()


@pytest.mark.parametrize(("value", "digits", "shown"), [
    # Typst's str(calc.round(value, digits: d)), worked by hand: a whole float loses its ".0",
    # a half rounds away from zero, text and integers are shown as they are.
    (50.0, None, "50"), (41.5, 1, "41.5"), (0.0574, 3, "0.057"), (27.25, 1, "27.3"),
    (63.14, 1, "63.1"), (100.0, 1, "100"), (20, None, "20"), ("FY1", None, "FY1"),
])
def test_values_are_shown_as_the_paper_shows_them(value, digits, shown):
    assert sentences.fmt(value, digits) == shown


def test_a_part_is_said_only_when_its_gate_holds():
    numbers = {"n_themes": 7, "n_subthemes": 0, "n_themes_with_subthemes": 0, "n_segments": 3}
    assert sentences.render("themes", numbers) == (
        "The analysis found 7 themes, none with sub-themes, over 3 coded segments.")
    numbers.update(n_subthemes=1, n_themes_with_subthemes=1, n_themes=1)
    assert sentences.render("themes", numbers) == (
        "The analysis found 1 theme, 1 of them with 1 sub-theme, over 3 coded segments.")
