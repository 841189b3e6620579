"""What the manuscript's sentences claim, checked as a journal's reviewer reads them (issue 20):
one inferential convention that the build enforces, the declarations a journal requires, a
Discussion with Limitations and Conclusions, references typeset by Typst, a COREQ checklist
whose every item is found in the section it names, evidence marks that never read as
exponents, nothing under 7 pt, and attributions that are the article's or say they are not.

Papers are built into pytest's temporary folders from copies of the committed outputs, with
the module's own functions (no notebook runs), and read back from the PDF with pypdf.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from importlib import metadata
from pathlib import Path

import pypdf
import pytest

from psu_study import agreement, demographics, inference, manuscript, manuscript_statements
from psu_study.paths import TABLES_DIR
from psu_study.run_folders import RunFolders

from .test_paper import copy_outputs, text_of

SOURCE = manuscript.SOURCE


def squeezed(text: str) -> str:
    """Text without spaces and hyphens, so a line break or a hyphenation never hides a phrase."""
    return re.sub(r"[\s\-\u2010\u00ad]", "", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[RunFolders, str, dict]:
    run = copy_outputs(tmp_path_factory.mktemp("out"))
    manuscript.build(run)
    derived = json.loads((run.tables / manuscript.DERIVED).read_text(encoding="utf-8"))
    return run, text_of(run.paper_pdf), derived


def planted(tmp_path: Path, monkeypatch, source: str) -> RunFolders:
    """A run whose manuscript source is ``source``, beside copies of the outputs and of the
    source's own files (the bibliography)."""
    run = copy_outputs(tmp_path)
    (tmp_path / "paper").mkdir()
    shutil.copyfile(manuscript.REFERENCES, tmp_path / "paper" / manuscript.REFERENCES.name)
    (tmp_path / "paper" / "paper.typ").write_text(source, encoding="utf-8")
    monkeypatch.setattr(manuscript, "SOURCE", tmp_path / "paper" / "paper.typ")
    return run


# --- 1. one inferential convention -----------------------------------------------------------

def test_the_convention_is_declared_once_and_the_analyses_take_it():
    """README, section The paper: "one convention, exact and two-sided, declared in
    `psu_study.inference`"."""
    assert (inference.SIDES, inference.LEVEL, inference.METHOD) == ("two-sided", 0.95, "exact")
    assert demographics.ALPHA == inference.ALPHA == 0.05
    assert inference.TAIL_PERCENTILES == (2.5, 97.5)  # a two-sided 95% percentile interval


def test_every_p_value_and_interval_has_its_sidedness():
    numbers = json.loads((TABLES_DIR / "numbers.json").read_text())
    sides = inference.sides(numbers)
    assert sides["p_female_binomial_two_sided"] == "two-sided"
    assert sides["p_sample_female_at_least_observed"] == "one-sided"
    assert sides["pct_participants_female_lower_bound_one_sided"] == "one-sided"
    assert sides["pct_responded_ci_low"] == sides["agreement_character_kappa_ci_high"] == \
        "two-sided"
    assert not set(numbers) - set(sides) & {k for k in numbers if k.startswith("p_")}


def test_a_statistic_of_unknown_sidedness_is_refused():
    with pytest.raises(inference.SidednessError, match="p_mystery"):
        inference.sides({"p_mystery": 0.5})


@pytest.mark.slow  # typesets the paper (a build)
def test_a_planted_one_sided_p_without_its_label_stops_the_build(tmp_path, monkeypatch):
    """README, section The paper: "a p-value of another sidedness stops the build unless its
    sentence names it"."""
    source = SOURCE.read_text(encoding="utf-8") + \
        '\nA sample this female: #pval("p_sample_female_at_least_observed").\n'
    run = planted(tmp_path, monkeypatch, source)
    with pytest.raises(manuscript.ManuscriptError, match="one-sided p-value.*name it"):
        manuscript.build(run)
    assert not run.paper_pdf.exists()


@pytest.mark.slow  # typesets the paper (a build)
def test_a_one_sided_p_named_in_its_sentence_is_typeset(tmp_path, monkeypatch):
    source = SOURCE.read_text(encoding="utf-8") + \
        '\nPlanted: #pval("p_sample_female_at_least_observed", label: "one-sided").\n'
    run = planted(tmp_path, monkeypatch, source)
    manuscript.build(run)
    # (259/397)^8 = 0.0328 by hand: eight women drawn at the users' rate (Methods >
    # Participants and recruitment: "65% (259/397) of PSU users").
    assert "Planted: one-sided p = 0.033." in text_of(run.paper_pdf)


@pytest.mark.slow  # typesets the paper (a build)
def test_a_planted_raw_p_value_or_one_sided_interval_stops_the_build(tmp_path, monkeypatch):
    for planted_line in ('#num("p_female_binomial_two_sided")',
                         '#ci("pct_participants_female_lower_bound")'):
        source = SOURCE.read_text(encoding="utf-8") + f"\n{planted_line}\n"
        run = planted(tmp_path / str(len(planted_line)), monkeypatch, source)
        with pytest.raises(manuscript.ManuscriptError):
            manuscript.build(run)


@pytest.mark.slow  # typesets the paper (a build)
def test_the_two_sided_p_stands_beside_the_interval_and_the_one_sided_is_named(built):
    _, text, _ = built
    section = text[text.index("Participants against the PSU"):text.index("Neither test can say")]
    # Results > 3.2: the interval, then the two-sided p (0.057: every count of women no more
    # likely than eight, against 259/397), then the one-sided value, named.
    assert "95% CI 63.1–100%" in section and "exact binomial p = 0.057" in section
    assert "one-sided p = 0.033" in section
    for shown in re.finditer(r"(\S+) p = (0\.\d+)", text):
        if shown.group(2) == "0.033":
            assert shown.group(1) == "one-sided", shown.group()


@pytest.mark.slow  # typesets the paper (a build)
def test_the_sampling_frame_and_the_census_are_said_where_the_numbers_are(built):
    _, text, _ = built
    recruitment = text[text.index("Sampling and recruitment"):text.index("Research team")]
    assert "census" in recruitment and "not a sample of the PSU’s 397 users" in recruitment
    participants = text[text.index("Participants against the PSU"):
                        text.index("Neither test can say")]
    assert "drawn from the 20 trainees contacted, not from the users" in participants
    response = text[text.index("3.1 Response"):text.index("3.2 Participants")]
    assert "describe that window exactly" in response


@pytest.mark.slow  # typesets the paper (a build)
def test_the_statistical_analysis_is_generated_from_what_was_computed(built):
    """README, section The paper: "Methods with a Statistical analysis generated from what was
    computed"."""
    _, text, derived = built
    stats = text[text.index("Statistical analysis"):text.index("3 Results")]
    for method in ("exact", "two-sided", "Clopper–Pearson", "binomial test",
                   "hypergeometric test", "Cohen’s kappa", "Krippendorff’s alpha",
                   "percentile bootstrap", "resamples of whole transcripts"):
        assert method in stats, method
    # Four transcripts shared by the two coders allow C(7, 4) = 35 distinct resamples.
    assert "35 from the 4 transcripts EW and FF shared" in stats
    assert f"{agreement.N_BOOT} resamples" in stats
    for package in ("scipy", "numpy", "pandas", "statsmodels", "krippendorff"):
        assert f"{package} {metadata.version(package)}" in stats, package
    assert derived["statistics"]["sides"] == "two-sided"


# --- 2. statements a journal requires ------------------------------------------------------

DECLARATIONS = ("Ethics approval.", "Consent to participate.", "Consent for publication.",
                "Availability of data and materials.", "Competing interests.", "Funding.",
                "Authors’ contributions.")


@pytest.mark.slow  # typesets the paper (a build)
def test_the_declarations_are_there_with_what_the_article_states(built):
    _, text, _ = built
    declarations = text[text.index("Ethics approval."):text.rindex("References")]
    for heading in DECLARATIONS:
        assert heading in declarations, heading
    # Methods > Participants and recruitment: "The study was funded by the Deanery".
    assert "The study was funded by the Deanery" in declarations
    assert "runs the PSU the study evaluates" in declarations  # the competing interest
    assert "informed consent from 8 participants" in declarations
    assert declarations.count("not stated in the source article") >= 6
    assert "EW conducted the interviews" in declarations  # coders.csv: EW, interviewer


@pytest.mark.slow  # typesets the paper (a build)
def test_the_title_page_comes_from_citation_cff(built):
    """README, section The paper: "It has a title page from `CITATION.cff`"."""
    _, text, derived = built
    assert derived["title_page"]["authors"] == [
        {"name": "The psu-study project contributors", "affiliation": ""}]
    front = text[:text.index("Background.")]
    assert "The psu-study project contributors" in front
    assert "Affiliations: not stated in CITATION.cff" in front
    assert "Corresponding author: not stated in CITATION.cff" in front


@pytest.mark.slow  # typesets the paper (a build)
def test_each_unstated_item_is_a_warning_of_the_build(tmp_path, capsys):
    """README, section The paper: "what the article does not state is printed ... and warned by
    the build"."""
    run = copy_outputs(tmp_path)
    manuscript.paper(run)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning: paper:" in line]
    for item in ("ethics approval", "consent for publication", "funding", "competing interests",
                 "author contributions", "corresponding author"):
        assert any(f"paper: {item}" in w for w in warnings), item
    assert all("not stated" in w for w in warnings)


@pytest.mark.slow  # typesets the paper (a build)
def test_a_declaration_missing_from_the_statements_stops_the_build(tmp_path, data_copy):
    run = copy_outputs(tmp_path)
    own = manuscript_statements.STATEMENTS.read_text(encoding="utf-8")
    (data_copy / "statements.yml").write_text(own.replace("funding:", "funds:"),
                                              encoding="utf-8")
    with pytest.raises(manuscript.ManuscriptError, match="'funding'"):
        manuscript.build(RunFolders(data_copy, run.figures, run.tables, run.root))


@pytest.mark.slow  # typesets the paper (a build)
def test_data_availability_follows_the_provenance(built):
    _, text, derived = built
    files = {f["file"]: f for f in derived["data"]}
    # data/README.md: participants.csv's training_stage is synthetic, psu_users.csv published.
    assert files["participants.csv"]["synthetic_columns"] == ["training_stage"]
    assert files["psu_users.csv"]["synthetic_columns"] == []
    assert files["transcripts/"]["synthetic_rows"]
    assert squeezed("participants.csv: published values, from the article, synthetic "
                    "stand-ins in training_stage") in squeezed(text)


# --- 3. Discussion, Limitations, Conclusions -----------------------------------------------

@pytest.mark.slow  # typesets the paper (a build)
def test_limitations_and_conclusions_come_from_the_data(built):
    _, text, _ = built
    limits = text[text.index("4.1 Limitations"):text.index("4.2 Conclusions")]
    for fact in ("8 participants", "of the 20 trainees contacted", "response 50%",
                 "95% CI 27.2–72.8%; interviewed 40%",
                 "65.2% of the PSU’s users", "one Deanery", "telephone",
                 "participants.csv (training_stage)", "cannot be carried over to male"):
        assert fact in limits, fact
    conclusions = text[text.index("4.2 Conclusions"):text.index("Ethics approval.")]
    abstract = text[text.index("Conclusions."):text.index("1 Introduction")]
    for part in (conclusions, abstract):
        assert "ledger" not in part
        assert "Medical identity intact" in part or "(8 of 8)" in part


# --- 4. references -------------------------------------------------------------------------

CITED = {  # key: what its entry must print (Vancouver-family style: surname and initials)
    "wainwright2017": "Wainwright E", "tong2007": "Tong A", "braun2006": "Braun V",
    "clopper1934": "Clopper CJ", "agresti2013": "Agresti A", "cohen1960": "Cohen J",
    "hayes2007": "Hayes AF", "efron1979": "Efron B", "efron1993": "Tibshirani RJ",
}


@pytest.mark.slow  # typesets the paper (a build)
def test_every_reference_is_in_the_bibliography_and_cited(built):
    """README, section The paper: "references (`paper/references.bib`, typeset by Typst's
    `bibliography()`)"."""
    _, text, _ = built
    source = SOURCE.read_text(encoding="utf-8")
    bib = manuscript.REFERENCES.read_text(encoding="utf-8")
    assert re.search(r'#bibliography\("references\.bib"', source)
    references = text[text.rindex("References"):]
    for key, shown in CITED.items():
        assert f"@{key}{{" not in bib and re.search(rf"@\w+\{{{key},", bib), key
        assert f"@{key}" in source, key
        assert shown in references, key


# --- 5. COREQ ------------------------------------------------------------------------------

def sections(source: str, text: str) -> dict[str, str]:
    """Each labelled heading's text in the PDF, up to the next heading of its level or above."""
    heads = [(len(m.group(1)), m.group(2).strip(), m.group(3)) for m in
             re.finditer(r"^(=+) (.+?) <([\w-]+)>\s*$", source, re.MULTILINE)]
    starts = {}
    for _, title, label in heads:
        shown = re.escape(title.replace("'", "\u2019"))  # the PDF's apostrophe is typographic
        found = re.search(rf"(?<![\w.])[\dA-Z]+(?:\.\d+)* {shown}", text)
        assert found, title
        starts[label] = found.start()
    out = {}
    for i, (level, _, label) in enumerate(heads):
        end = next((starts[lb] for lv, _, lb in heads[i + 1:] if lv <= level), len(text))
        out[label] = text[starts[label]:end]
    return out


@pytest.mark.slow  # typesets the paper (a build)
def test_every_coreq_item_is_in_the_section_it_names(built):
    _, text, derived = built
    held = sections(SOURCE.read_text(encoding="utf-8"), text)
    items = [i for d in derived["coreq"] for s in d["subdomains"] for i in s["items"]]
    assert [i["number"] for i in items] == list(range(1, 33))
    for item in items:
        if item["section"]:
            assert squeezed(item["element"]) in squeezed(held[item["section"]]), item
        else:
            assert item["value"].startswith("not reported"), item


@pytest.mark.slow  # typesets the paper (a build)
def test_the_coreq_appendix_holds_the_articles_facts_and_its_sub_domains(built):
    _, text, derived = built
    appendix = text[text.index("COREQ checklist"):]
    for sub in ("Personal characteristics", "Relationship with participants",
                "Theoretical framework", "Participant selection", "Setting", "Data collection",
                "Data analysis", "Reporting"):
        assert sub in appendix, sub
    items = {i["number"]: i for d in derived["coreq"] for s in d["subdomains"]
             for i in s["items"]}
    # Methods > Data collection and analysis: NVivo; no previous relationship; EW interviewed.
    assert items[27]["value"] == "NVivo" and items[27]["section"] == "sec-analysis"
    assert items[6]["element"] == "neither had any previous relationship with the participants"
    assert items[1]["value"] == "EW"
    for silent in (2, 4, 14, 15, 18, 20, 22, 23):  # the article does not report these
        assert items[silent]["value"].startswith("not reported"), silent


@pytest.mark.slow  # typesets the paper (a build)
def test_a_coreq_element_missing_from_its_section_is_found(built):
    # The check must be able to fail: NVivo is not in the Results.
    _, text, _ = built
    held = sections(SOURCE.read_text(encoding="utf-8"), text)
    assert "NVivo" in held["sec-analysis"] and "NVivo" not in held["sec-themes"]


# --- 6. evidence marks and type ------------------------------------------------------------

GLUED = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*%?[a-z†‡§]+(?!\w)")
"""A numeral with a letter or a mark set against it ("2b", "35c", "97.8%b", "PPT 2†")."""


def glued_marks(text: str) -> list[str]:
    units = {"st", "nd", "rd", "th", "oa"}  # ordinals, and a DOI's tail (…063oa)
    return [m.group() for m in GLUED.finditer(text)
            if re.sub(r"^[\d.,%]+", "", m.group()) not in units]


@pytest.mark.slow  # typesets the paper (a build)
def test_no_mark_is_set_against_a_numeral(built):
    _, text, _ = built
    assert glued_marks(text) == []
    assert glued_marks("coded by 2b researchers, 35-100c minutes, PPT 2†") == \
        ["2b", "100c", "2†"]


def font_sizes(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, size in pt, text) of every piece of text, its size as set on the page."""
    found = []
    for number, page in enumerate(pypdf.PdfReader(pdf).pages, 1):
        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                _, _, c, d, _, _ = pypdf.mult(tm, cm)
                found.append((number, size * math.hypot(c, d), text))
        page.extract_text(visitor_text=visit)
    return found


@pytest.mark.slow  # typesets the paper (a build)
def test_nothing_is_set_under_7_pt(built):
    run, _, _ = built
    sizes = font_sizes(run.paper_pdf)
    assert sizes and max(s for _, s, _ in sizes) >= 10
    assert [(p, round(s, 2), t) for p, s, t in sizes if s < 7 - 1e-6] == []


@pytest.mark.slow  # typesets the paper (a build)
def test_synthetic_values_share_one_style_explained_once(built):
    _, text, derived = built
    assert text.count("Reading the values.") == 1
    assert text.index("Reading the values.") < text.index("1 Introduction")
    # Published values carry no mark (Methods > Data collection and analysis: 35-100 min,
    # mean 50); their data column is a stand-in made to reproduce them.
    assert {"duration_min_minutes", "duration_max_minutes", "n_coders"} <= \
        set(derived["published"])
    assert "duration_median_minutes" not in derived["published"]
    assert "Interviews lasted 35–100 minutes" in text


@pytest.mark.slow  # typesets the paper (a build)
def test_no_note_is_printed_twice(built):
    run, text, derived = built
    notes = {m["footnote"] for m in derived["figures"].values() if m["footnote"]}
    assert notes, "no figure footnote reached manuscript.json: nothing would be checked"
    for note in notes:
        assert squeezed(text).count(squeezed(note)) == 1, note
    assert "Synthetic data: built from synthetic stand-ins for unpublished values in " \
           "participants.csv (training_stage)" in text
    # Table 1's note once (the training-stage heatmap's own note names segments.csv first)
    assert squeezed(text).count(squeezed(
        "unpublished values in participants.csv (training_stage). See data/README.md")) == 1


@pytest.mark.slow  # typesets the paper (a build)
def test_table_1s_caption_does_not_contradict_its_note(built):
    _, text, _ = built
    caption = re.search(r"Table 1: ([^\n]*?) Training stage", text).group(1)
    assert "small-cell" not in caption.lower()


# --- 8. fidelity ---------------------------------------------------------------------------

@pytest.mark.slow  # typesets the paper (a build)
def test_a_synthetic_attribution_says_so_in_its_sentence(built):
    _, text, derived = built
    # Results > Role of PSU > Making sense of their story: "pivotal moment" is said by one
    # unnamed participant (and also by Participant 8); the data's P2 is a stand-in.
    assert "“pivotal moment”" in derived["unnamed_quotations"]
    # Where the paper shows the quotation with its participant (§3.4 in brackets, Table 2 in
    # a cell), the attribution says it is synthetic; both places must be found.
    shown = re.findall(r"“pivotal moment”\s*\(?\s*(PPT\s*\d+[^)“]*)", text)
    assert len(shown) == 2, shown
    for attribution in shown:
        assert "synthetic attribution" in " ".join(attribution.split()), attribution
    assert "†" not in text


@pytest.mark.slow  # typesets the paper (a build)
def test_no_caption_claims_what_the_article_does_not_publish(built):
    _, text, _ = built
    assert "quoted from the article" not in text
    caption = text[text.index("Table 2:"):text.index("Theme Sub-theme")]
    assert "is not published" in caption
