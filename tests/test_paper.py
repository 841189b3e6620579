"""The manuscript, read as a reader reads it: the PDF's text (pypdf) holds the recomputed
numbers with words of quantity that match the counts, changes when the data change, marks
synthetic values and loses the marks on real data; its source types no number; two builds give
the same bytes; the COREQ appendix lists every item.

Papers are built into pytest's temporary folders from copies of the committed outputs, with
the module's own functions (no notebook runs): each build takes about a second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pypdf
import pytest

from psu_study import manuscript, quantifiers
from psu_study.paths import DATA_DIR, FIGURES_DIR, TABLES_DIR
from psu_study.run_folders import RunFolders
from psu_study.runner import paper as runner_paper

SOURCE = manuscript.SOURCE

# --- the literal-number scan ------------------------------------------------------------------

ALLOWED = (
    # "95% CI": the interval's level is the method's, not a result (every CI here is 95%).
    re.compile(r"95% CI"),
    # Lengths and sizes of the layout (10.5pt, 2.2cm, 1fr, 0.7em): typography, not data.
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:pt|mm|cm|em|fr)\b"),
    # Rounding precision of a shown value: calc.round(v, digits: 1).
    re.compile(r"digits: \d\b"),
    # Numbering patterns of headings, pages and footnotes ("1.1", "A.1", "1").
    re.compile(r'numbering: "[^"]*"'),
    # The COREQ item numbers: counted from the checklist's list, starting at one.
    re.compile(r"enumerate\(start: 1\)"),
)
"""What the scan lets through, each with why. Everything else that looks like a number (a
digit not inside a name such as ``n_participants_code_C1_2``) is a typed figure."""

LITERAL = re.compile(r"(?<![\w.\-])\d+(?:[.,]\d+)*%?")


def typed_numbers(source: str) -> list[tuple[int, str]]:
    """(line, text) of every literal figure of a Typst source outside the allow list;
    comments are not part of the manuscript and are skipped."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        code = re.sub(r"(?<!:)//.*$", "", line)
        for allowed in ALLOWED:
            code = allowed.sub(" ", code)
        found += [(number, m.group()) for m in LITERAL.finditer(code)]
    return found


def test_the_source_types_no_number():
    """docs/architecture.md, section How a build runs: "No number is typed in the source".

    README, section The paper: "no number is typed in it"."""
    assert typed_numbers(SOURCE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("typed", [
    "We interviewed 8 women.",            # a count
    "a response rate of 50%",             # a percentage
    "between April 2014 and March 2015",  # a date
    "lasting 35-100 min",                 # a range
    "#let n = 20",                        # a number in code
])
def test_the_scan_fails_on_a_typed_number(typed):
    source = SOURCE.read_text(encoding="utf-8") + f"\n{typed}\n"
    hits = typed_numbers(source)
    assert hits and all(line == source.count("\n") for line, _ in hits), hits


def test_the_scan_reads_names_and_allowed_figures_as_no_number():
    # Digits inside keys and ids, a length and the CI level are not typed figures.
    assert typed_numbers('#q("n_participants_code_C1_2") at 10.5pt, 95% CI') == []


# --- words of quantity ------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "word"), [
    (0, "none"), (1, "one"), (8, "all"),  # facts, for N = 8
    # Convention (data/README.md), N = 8: some 2-4, several 3-4, many 4-7, most 5-7. The word
    # with the narrowest range that holds: 2 only "some"; 3 and 4 "several" (width 1, against
    # some's 2 and many's 3); 6 "most" (5-7, width 2, against many's 4-7, width 3).
    (2, "some"), (3, "several"), (4, "several"), (6, "most"),
])
def test_the_word_follows_the_count(count, word):
    assert quantifiers.quantity_word(count, 8) == word


def test_a_count_no_word_describes_is_an_error():
    with pytest.raises(ValueError, match="9 of 8"):
        quantifiers.quantity_word(9, 8)


# --- building papers --------------------------------------------------------------------------

def copy_outputs(target: Path) -> RunFolders:
    """Copies of the committed tables and figures under ``target``, as an OUT_DIR holds them."""
    shutil.copytree(TABLES_DIR, target / "tables")
    shutil.copytree(FIGURES_DIR, target / "figures")
    return RunFolders.of(DATA_DIR, target)


def text_of(pdf: Path) -> str:
    reader = pypdf.PdfReader(pdf)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def has(text: str, shown: str) -> bool:
    """``shown`` in the text as a whole number: not part of a longer one (a footnote mark is a
    letter, so "180d days" still shows 180)."""
    return re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text) is not None


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[RunFolders, str, dict]:
    run = copy_outputs(tmp_path_factory.mktemp("out"))
    assert manuscript.main(["--out-dir", str(run.root)]) == 0
    return run, text_of(run.paper_pdf), json.loads((run.tables / "numbers.json").read_text())


@pytest.mark.slow  # typesets the paper
def test_a_run_writes_its_paper_under_out_dir(built):
    run, _, _ = built
    assert run.paper_pdf.exists() and run.paper_pdf.read_bytes().startswith(b"%PDF")
    assert (run.tables / manuscript.DERIVED).exists()


@pytest.mark.slow  # typesets the paper
def test_the_text_holds_the_recomputed_numbers(built):
    _, text, numbers = built
    def one(key):  # shown to one decimal, without a trailing .0
        return f"{round(numbers[key], 1):g}"

    for key in ("n_contacted", "n_interested", "n_consented", "n_interviewed", "n_psu_users",
                "n_psu_users_female", "n_themes", "n_subthemes", "n_segments",
                "duration_min_minutes", "duration_max_minutes", "recruitment_period_days"):
        assert has(text, str(numbers[key])), key
    for key in ("pct_responded", "pct_interviewed", "pct_psu_users_female"):
        assert has(text, one(key) + "%"), key
    for key in ("pct_responded", "pct_interviewed", "pct_participants_female"):
        interval = f"95% CI {one(key + '_ci_low')}–{one(key + '_ci_high')}%"
        assert interval in text, interval
    assert f"{numbers['p_sample_female_at_least_observed']:.3f}" in text
    for key in ("interview_first_date", "interview_last_date", "recruitment_first_contact"):
        day = dt.date.fromisoformat(numbers[key])
        assert f"{day.day} {day:%B %Y}" in text, key


WORD_FOR_COUNT_OF_8 = {0: "none", 1: "one", 2: "some", 3: "several", 4: "several",
                      5: "most", 6: "most", 7: "most", 8: "all"}
"""The word a count of the article's 8 participants (Methods > Participants and recruitment:
"informed consent from 8 participants") is given, by hand from data/README.md's table of
the convention for N = 8 (none 0; one 1; some 2-4; several 3-4; many 4-7; most 5-7; all 8),
taking of the words that hold the narrowest range: 3 and 4 are "several" (3-4) rather than
"some" (2-4) or "many" (4-7), 5-7 "most" (5-7) rather than "many"."""


@pytest.mark.slow  # typesets the paper
def test_words_of_quantity_match_the_counts_beside_them(built):
    """docs/architecture.md, section How a build runs: "the word of quantity for each count",
    shown with the count ("most (6 of 8)")."""
    _, text, numbers = built
    assert numbers["n_participants"] == 8
    # The body, not the claims appendix, whose reasons quote the ledger ("half the transcripts
    # (4 of 8)"), not the paper's words of quantity.
    body = text[:text.index("The claims ledger Every statement")]
    shown = re.findall(r"\b([A-Za-z]+) \((\d+) of (\d+)\)", body)
    assert len(shown) > 40  # every theme, sub-theme and code, and the female share
    assert {(word.lower(), int(count), int(of)) for word, count, of in shown} == {
        (WORD_FOR_COUNT_OF_8[int(count)], int(count), 8) for _, count, _ in shown}
    # The female share: all 8 participants were female (Methods > Participants and
    # recruitment, "All participants were female").
    assert numbers["n_participants_female"] == 8
    assert "All (8 of 8) participants were female" in text


@pytest.mark.slow  # typesets the paper
def test_every_theme_sub_theme_and_quotation_is_in_the_text(built):
    run, text, _ = built
    quotes = pd.read_csv(run.tables / "table2_quotations.csv", dtype=str, keep_default_na=False)
    themes = pd.read_csv(run.tables / "themes_prevalence.csv", dtype=str)
    for name in themes["Theme"].str.strip():
        assert name in text, name
    flat = text.replace("- ", "").replace(" ", "")  # hyphenation and line breaks aside
    for quote in quotes["Quotation"]:
        assert quote.replace(" ", "") in flat, quote


@pytest.mark.slow  # typesets the paper
def test_every_figure_is_in_the_paper_with_its_synthetic_footnote(built):
    """README, section The paper: "Results with every figure"."""
    run, text, _ = built
    derived = json.loads((run.tables / manuscript.DERIVED).read_text())
    used = set(re.findall(r'#fig\("([a-z_]+)"', SOURCE.read_text(encoding="utf-8")))
    assert used == {p.stem for p in run.figures.glob("*.png")}
    notes = {meta["footnote"] for meta in derived["figures"].values() if meta["footnote"]}
    assert notes  # the committed figures rest on synthetic stand-ins
    for note in notes:  # (pypdf may break a line inside "data/README.md")
        assert note.replace(" ", "") in text.replace(" ", ""), note
    assert text.count("Figure ") >= len(used)


@pytest.mark.slow  # typesets the paper
def test_synthetic_values_are_marked_from_the_data_provenance(built):
    """README, section The paper: "A value that rests on a synthetic stand-in is set with a dotted
    underline, explained once in a legend under the abstract"."""
    _, text, _ = built
    # interviews.csv: interview_date and duration_min are synthetic (data/README.md), so the
    # durations carry the file's note.
    assert ("Synthetic data: built from synthetic stand-ins for unpublished values in "
            "interviews.csv (interview_date, duration_min)") in text
    # The range and mean are the article's (Methods > Data collection and analysis: "35-100
    # min (mean: 50)"), so they carry no mark though their column is a stand-in; the
    # synthetic values' one style (a dotted underline) is explained once, before first use.
    assert "lasted 35 to 100 minutes (mean 50," in text
    assert text.count("Reading the values.") == 1


COREQ_ITEMS = [  # Tong, Sainsbury and Craig (2007), Table 1, in order
    "Interviewer", "Credentials", "Occupation", "Gender", "Experience and training",
    "Relationship established", "Participant knowledge of the interviewer",
    "Interviewer characteristics", "Methodological orientation and theory", "Sampling",
    "Method of approach", "Sample size", "Non-participation", "Setting of data collection",
    "Presence of non-participants", "Description of sample", "Interview guide",
    "Repeat interviews", "Audio/visual recording", "Field notes", "Duration",
    "Data saturation", "Transcripts returned", "Number of data coders",
    "Description of the coding tree", "Derivation of themes", "Software",
    "Participant checking", "Quotations presented", "Data and findings consistent",
    "Clarity of major themes", "Clarity of minor themes",
]


@pytest.mark.slow  # typesets the paper
def test_the_coreq_appendix_lists_all_32_items_with_the_data_values(built):
    """README, section The paper: "the COREQ checklist by domain and sub-domain (`paper/coreq.yml`;
    Appendix B)"."""
    _, text, numbers = built
    appendix = text[text.index("COREQ checklist"):]
    position = 0
    for number, item in enumerate(COREQ_ITEMS, 1):
        found = appendix.find(item, position)  # each item after the one before it
        assert found >= 0, item
        # its number between the item before it and this one (a domain's name may sit there too)
        assert re.search(rf"(?<![\d.]){number}(?![\d.])", appendix[position:found]), \
            (number, item)
        position = found + len(item)
    assert has(appendix, f"{numbers['n_participants']} participants")
    lost = numbers["n_contacted"] - numbers["n_interested"]
    assert f"{lost} did not respond" in appendix
    assert "those who did so (two)" in appendix  # Methods > Data collection and analysis


@pytest.mark.slow  # typesets the paper
def test_two_builds_give_the_same_bytes(built):
    """README, section The paper: "Two builds give the same bytes"."""
    run, _, _ = built
    first = run.paper_pdf.read_bytes()
    second = manuscript.typeset(run).pdf
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    # PDF/A needs a date: the edition's, never the clock (tests/test_editions.py).


def test_the_manifest_records_the_paper_with_its_inputs():
    """docs/architecture.md, section How a build runs: "the manifest records it under ... with
    every file it read and the code it ran" (under `"paper"`)."""
    # The build's own record: the runner typesets the paper last and the committed manifest
    # names the committed PDF, every file it read and the code it ran, each with its sha256.
    entry = json.loads((TABLES_DIR / "manifest.json").read_text())[runner_paper.KEY]
    editions = (RunFolders.of().paper_pdf, RunFolders.of().paper_html)
    assert entry["outputs"] == {f"paper/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
                                for p in editions}
    reads = entry["reads"]
    for key in ("tables/numbers.json", "tables/table1_training_roles.csv",
                "figures/themes_heatmap.png", "data/codebook.csv", "repo/paper/paper.typ",
                "tables/manuscript.json"):
        assert key in reads, key
    assert "repo/src/psu_study/manuscript.py" in entry["code"]
    folders = {"tables": TABLES_DIR, "figures": FIGURES_DIR, "data": DATA_DIR,
               "repo": manuscript.SOURCE.parents[1]}
    # The names and allow lists it was scanned with are read too; here there are none.
    assert reads["data/disclosure/names.txt"] == reads["data/disclosure/allow.txt"] == "absent"
    for key, digest in {**reads, **entry["code"]}.items():
        prefix, _, rest = key.partition("/")
        path = folders[prefix] / rest
        if digest == "absent":
            assert not path.exists(), key
            continue
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, key


@pytest.mark.slow  # typesets the paper
def test_changed_data_change_the_numbers_and_the_words(tmp_path, built):
    assert re.search(r"Most \(6 of 8\)[a-z]*: Feeling a failure", built[1])
    run = copy_outputs(tmp_path)
    numbers_path = run.tables / "numbers.json"
    numbers = json.loads(numbers_path.read_text())
    assert numbers["n_participants_code_C2_6"] == 6  # "Most (6 of 8)" on the committed data
    numbers["n_participants_code_C2_6"] = 8          # every participant: "all", a fact
    numbers["n_contacted"] = 21                      # one more trainee contacted
    numbers_path.write_text(json.dumps(numbers))
    manuscript.build(run)
    text = text_of(run.paper_pdf)
    assert re.search(r"All \(8 of 8\)[a-z]*: Feeling a failure", text)
    assert not re.search(r"Most \(6 of 8\)[a-z]*: Feeling a failure", text)
    assert "Of the 21 trainees contacted" in text
    assert "21 did not respond" not in text and "11 did not respond" in text  # 21 - 10


@pytest.mark.slow  # typesets the paper
def test_on_real_data_the_synthetic_marks_disappear(tmp_path, data_copy):
    """README, section The paper: "and on real data there are none"."""
    run = copy_outputs(tmp_path)
    for csv in data_copy.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        frame["provenance"] = "study"
        frame.to_csv(csv, index=False, lineterminator="\n")
    # Nor do the tables and figures made from them carry the synthetic-data sentence in their
    # footnotes (a table's footnote column, a figure's sidecar); other notes stay.
    synthetic = re.compile(r"Synthetic data:.*?See data/README\.md\.\s*")
    for csv in run.tables.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "footnote" in frame:
            frame["footnote"] = frame["footnote"].str.replace(synthetic, "", regex=True)
            frame.to_csv(csv, index=False, lineterminator="\n")
    for sidecar in run.figures.glob("*.meta.json"):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        meta["footnote"] = synthetic.sub("", meta.get("footnote", ""))
        sidecar.write_text(json.dumps(meta), encoding="utf-8")
    run = RunFolders(data_copy, run.figures, run.tables, run.root)
    manuscript.build(run)
    text = text_of(run.paper_pdf)
    assert "Synthetic data" not in text
    numbers = json.loads((run.tables / "numbers.json").read_text())
    low, high = numbers["duration_min_minutes"], numbers["duration_max_minutes"]
    assert f"lasted {low} to {high} minutes" in text


@pytest.mark.slow  # typesets the paper
def test_a_missing_number_fails_the_build_naming_it_and_keeps_the_old_paper(tmp_path):
    run = copy_outputs(tmp_path)
    run.paper_pdf.parent.mkdir(parents=True)
    shutil.copyfile(RunFolders.of().paper_pdf, run.paper_pdf)  # the paper of an earlier, good build
    before = run.paper_pdf.read_bytes()
    numbers = json.loads((run.tables / "numbers.json").read_text())
    del numbers["duration_mean_minutes"]
    (run.tables / "numbers.json").write_text(json.dumps(numbers))
    with pytest.raises(manuscript.ManuscriptError, match="duration_mean_minutes"):
        manuscript.build(run)
    assert run.paper_pdf.read_bytes() == before


@pytest.mark.slow  # typesets the paper
def test_the_report_links_to_the_paper(tmp_path):
    from bs4 import BeautifulSoup

    from psu_study import report

    site = tmp_path / "report"
    report.build_report(site)
    index = BeautifulSoup((site / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in index.find_all("a") if a["href"].endswith(".pdf")]
    assert "paper/paper.pdf" in links
    assert (site / "paper" / "paper.pdf").read_bytes() == RunFolders.of().paper_pdf.read_bytes()


@pytest.mark.slow  # typesets the paper
def test_a_name_from_the_analysts_list_in_the_data_stops_the_paper(tmp_path, data_copy):
    # The codebook's code names go into the paper straight from the data: a participant's
    # name planted in one is refused, as every other output refuses it.
    run = copy_outputs(tmp_path)
    codebook = data_copy / "codebook.csv"
    codebook.write_text(codebook.read_text().replace("Self-stigma", "Self-stigma (Alice Jones)"))
    (data_copy / "disclosure").mkdir()
    (data_copy / "disclosure" / "names.txt").write_text("Alice Jones\n")
    with pytest.raises(manuscript.disclosure.DisclosureError, match="manuscript.json"):
        manuscript.build(RunFolders(data_copy, run.figures, run.tables, run.root))
    assert not run.paper_pdf.exists()


def test_the_paper_of_other_data_is_refused_inside_the_repository(tmp_path):
    """Study data never reach the work tree by the paper's own command either
    (`python -m psu_study.manuscript --data-dir ...` without --out-dir): refused before
    anything is typeset or written (issue 19, requirement 2). docs/security.md, section Security:
    "Every notebook's first cell, and the paper's command, refuse data other than `data/` whose
    outputs would land inside the repository"."""
    other = shutil.copytree(DATA_DIR, tmp_path / "study")
    before = {p: p.stat().st_mtime_ns for p in (TABLES_DIR / "manuscript.json",
                                                DATA_DIR.parent / "paper" / "paper.pdf")}
    assert manuscript.main(["--data-dir", str(other)]) == 1
    with pytest.raises(manuscript.ManuscriptError, match="its tables would put its"):
        manuscript.build(RunFolders(other, FIGURES_DIR, TABLES_DIR, tmp_path))
    assert {p: p.stat().st_mtime_ns for p in before} == before
