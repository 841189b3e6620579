"""The paper's editions: the PDF declares PDF/UA-1 and PDF/A-3b (validated by Typst as it
exports) with the edition's fixed date, carries numbers.json, claims.csv and the record of
what it read, and ``python -m psu_study.editions check`` fails on a tampered attachment; the
claims appendix reads fairly (grouped by section, values at the article's precision, reasons
shown, ids at 7 pt or more, no invisible characters) and the abstract counts holds by
evidence. The HTML edition is tested in Chromium (tests/test_browser.py).

Papers are built into pytest's temporary folders from copies of the committed outputs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
import typst

from psu_study import editions, manuscript, manuscript_statements
from psu_study.paths import DATA_DIR, FIGURES_DIR, TABLES_DIR
from psu_study.run_folders import RunFolders

# --- the edition's date (fast) ------------------------------------------------------------------


def test_the_editions_date_is_read_from_the_citation_file(tmp_path):
    """README, section The paper: "dated by `CITATION.cff`'s `date-released`, never the
    clock"."""
    citation = tmp_path / "CITATION.cff"
    citation.write_text("cff-version: 1.2.0\ndate-released: 2015-03-12\n", encoding="utf-8")
    days = (dt.date(2015, 3, 12) - dt.date(1970, 1, 1)).days
    assert editions.edition_timestamp(citation) == days * 86400


@pytest.mark.parametrize("text", ["cff-version: 1.2.0\n", "date-released: soon\n"])
def test_an_edition_without_a_date_is_refused(tmp_path, text):
    citation = tmp_path / "CITATION.cff"
    citation.write_text(text, encoding="utf-8")
    with pytest.raises(editions.EditionError, match="'date-released' must be a date"):
        editions.edition_timestamp(citation)


def test_typst_refuses_a_figure_without_alt_text_under_pdf_ua(tmp_path):
    """PDF/UA-1 is validated at export: an image with no alt text stops the PDF.

    README, section The paper: "which Typst validates as it exports (a figure without alt text
    stops it)"."""
    image = next(FIGURES_DIR.glob("*.png"))
    shutil.copy(image, tmp_path / "f.png")
    source = tmp_path / "x.typ"
    source.write_text('#set document(title: [T])\n#set text(lang: "en")\n'
                      '#for f in json(bytes(sys.inputs.at("attachments"))) {}\n'
                      '#image("f.png")\n', encoding="utf-8")
    with pytest.raises(typst.TypstError, match="(?i)alt"):
        editions.typeset(source, tmp_path, {}, [], 0)
    source.write_text(source.read_text().replace('#image("f.png")',
                                                 '#image("f.png", alt: "a figure")'))
    pdf, html = editions.typeset(source, tmp_path, {}, [], 0)
    assert pdf.startswith(b"%PDF") and b'alt="a figure"' in html


def test_a_file_that_is_no_pdf_is_refused_by_the_check(tmp_path):
    fake = tmp_path / "paper.pdf"
    fake.write_text("not a PDF", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "psu_study.editions", "check", str(fake)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "paper.pdf: cannot be checked: paper.pdf: not a readable PDF" in done.stderr


# --- a built paper (slow) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> RunFolders:
    target = tmp_path_factory.mktemp("editions")
    shutil.copytree(TABLES_DIR, target / "tables")
    shutil.copytree(FIGURES_DIR, target / "figures")
    run = RunFolders.of(DATA_DIR, target)
    manuscript.build(run)
    return run


def check_command(pdf: Path, run: RunFolders) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "psu_study.editions", "check", str(pdf), "--data-dir",
         str(run.data), "--out-dir", str(run.tables.parent)],
        capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_the_pdf_declares_pdf_ua_1_and_pdf_a_3b(built):
    """README, section The paper: "The PDF declares PDF/UA-1 and PDF/A-3b"."""
    assert editions.declared_standards(built.paper_pdf) == {
        "pdfuaid:part": "1", "pdfaid:part": "3", "pdfaid:conformance": "B"}


@pytest.mark.slow
def test_the_pdf_is_dated_by_the_edition_not_the_clock(built):
    """README, section The paper: "dated by `CITATION.cff`'s `date-released`, never the
    clock"."""
    released = editions.edition_timestamp(manuscript_statements.CITATION)
    stamp = dt.datetime.fromtimestamp(released, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    xmp = pypdf.PdfReader(built.paper_pdf).trailer["/Root"]["/Metadata"].get_object().get_data()
    dates = re.findall(rb"<xmp:(?:CreateDate|ModifyDate)>([^<]*)<", xmp)
    assert dates and all(d.decode().startswith(stamp) for d in dates), dates


@pytest.mark.slow
def test_the_pdf_carries_its_evidence(built):
    """README, section The paper: "`numbers.json`, `claims.csv` and `paper_reads.json` (every
    file the paper read, with its sha256, as the manifest records it) are attached"."""
    files = editions.attached_files(built.paper_pdf)
    assert set(files) == {"numbers.json", "claims.csv", editions.READS_RECORD}
    assert files["numbers.json"] == (built.tables / "numbers.json").read_bytes()
    assert files["claims.csv"] == (built.tables / "claims.csv").read_bytes()
    reads = json.loads(files[editions.READS_RECORD])["reads"]
    # Every output the paper read is in the record, but not the record itself.
    entry = json.loads((TABLES_DIR / "manifest.json").read_text())["paper"]
    assert set(reads) == set(entry["reads"]) - {f"tables/{editions.READS_RECORD}"}
    assert "tables/numbers.json" in reads and "figures/recruitment_flow.png" in reads


def tampered(pdf: Path, target: Path, name: str, old: bytes, new: bytes) -> Path:
    """A copy of ``pdf`` whose attachment ``name`` has ``old`` replaced by ``new``."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(pdf))
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    for i in range(0, len(names), 2):
        if names[i] == name:
            stream = names[i + 1].get_object()["/EF"]["/F"].get_object()
            data = stream.get_data()
            assert old in data
            stream.set_data(data.replace(old, new, 1))
    buffer = io.BytesIO()
    writer.write(buffer)
    target.write_bytes(buffer.getvalue())
    return target


@pytest.mark.slow
def test_the_check_holds_on_the_built_pdf_and_fails_on_a_tampered_attachment(built, tmp_path):
    """README, section The paper: "`python -m psu_study.editions check paper/paper.pdf`
    (`--out-dir` for another run) takes them out and holds them against the files and the
    manifest"."""
    assert editions.check(built.paper_pdf, built) == []
    done = check_command(built.paper_pdf, built)
    assert done.returncode == 0, done.stderr
    # Methods > Participants and recruitment: 20 contacted. Attached as 21, the check fails
    # naming the attachment.
    forged = tampered(built.paper_pdf, tmp_path / "forged.pdf", "numbers.json",
                      b'"n_contacted": 20', b'"n_contacted": 21')
    done = check_command(forged, built)
    assert done.returncode == 1
    assert "numbers.json: the attached copy differs" in done.stderr, done.stderr
    # A tampered record of reads: a digest the manifest does not hold.
    record = json.loads(editions.attached_files(built.paper_pdf)[editions.READS_RECORD])["reads"]
    digest = record["tables/claims.csv"].encode()
    forged = tampered(built.paper_pdf, tmp_path / "forged-reads.pdf", editions.READS_RECORD,
                      digest, b"0" * len(digest))
    done = check_command(forged, built)
    assert done.returncode == 1
    assert "tables/claims.csv: the paper read sha256 000" in done.stderr, done.stderr


@pytest.mark.slow
def test_a_changed_file_fails_the_check(built, tmp_path):
    copy = tmp_path / "tables"
    shutil.copytree(built.tables, copy)
    claims_csv = copy / "claims.csv"
    claims_csv.write_bytes(claims_csv.read_bytes().replace(b"holds", b"holdz", 1))
    run = RunFolders(built.data, built.figures, copy, built.root)
    problems = editions.check(built.paper_pdf, run)
    assert any(p.startswith("claims.csv: the attached copy differs") for p in problems)
    assert any(p.startswith("tables/claims.csv: the paper read") for p in problems)


@pytest.mark.slow
def test_two_builds_give_the_same_editions(built):
    again = manuscript.typeset(built)
    assert again.pdf == built.paper_pdf.read_bytes()
    assert again.html == built.paper_html.read_bytes()


# --- the claims appendix, read from the PDF (slow) ----------------------------------------------

INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


@pytest.fixture(scope="module")
def appendix(built) -> tuple[str, list[tuple[str, float]]]:
    """The claims appendix's text (from its heading to the COREQ appendix) and each text run
    with its size in points."""
    reader = pypdf.PdfReader(built.paper_pdf)
    runs: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size) -> None:  # noqa: ARG001 - pypdf's visitor signature
        if text.strip():
            runs.append((text, size * abs(tm[3]) * abs(cm[3])))

    pages = []
    for page in reader.pages:
        pages.append(page.extract_text(visitor_text=visit))
    text = " ".join(pages)
    start = text.index("The claims ledger\n")
    end = text.index("COREQ checklist", start)
    return text[start:end], runs


@pytest.fixture(scope="module")
def claims_rows(built) -> list[dict]:
    with open(built.tables / "claims.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


INVISIBLE_SYMBOLS = re.compile(r"sym\.(?:zws|zwj|zwnj|wj|shy)\b")


def test_the_source_and_the_claims_table_insert_no_invisible_characters():
    """The old appendix broke ids with ``sym.zws``, which a reader copying an id carries
    along (a PDF's text extraction drops it, so the source is where to look)."""
    source = manuscript.SOURCE.read_text(encoding="utf-8")
    assert not INVISIBLE_SYMBOLS.findall(source)
    assert not INVISIBLE.findall(source)
    assert not INVISIBLE.findall((TABLES_DIR / "claims.csv").read_text(encoding="utf-8"))


def test_the_invisible_character_scan_finds_them():
    assert INVISIBLE_SYMBOLS.findall('text.replace(".", "." + sym.zws)')
    assert INVISIBLE.findall("recruitment.\u200bcontacted")


@pytest.mark.slow
def test_the_appendix_text_has_no_invisible_characters(appendix):
    # A hyphen glyph that also ends a hyphenated line is read back as a soft hyphen (U+00AD)
    # wherever the font uses it ("2-3 sessions"): typesetting, not a character of the text.
    text, _ = appendix
    assert not INVISIBLE.findall(text.replace("\u00ad", "-"))


@pytest.mark.slow
def test_the_appendix_lists_every_claim_in_section_order_with_its_reason(appendix, claims_rows):
    text = flat(appendix[0])
    positions = [text.find(row["id"] + " ") for row in claims_rows]
    assert all(p >= 0 for p in positions), [r["id"] for r, p in zip(claims_rows, positions,
                                                                     strict=True) if p < 0]
    assert positions == sorted(positions), "claims not in claims.csv's order (by section)"
    for row in claims_rows:
        assert flat(row["reason"])[:60] in text, f"{row['id']}: reason not shown"
        assert row["evidence"] in text


@pytest.mark.slow
def test_the_appendix_shows_values_at_the_articles_precision(appendix):
    # Methods: "65% (259/397)"; 259/397 = 65.239...%, shown at the article's precision.
    assert "65.2393" not in appendix[0]


@pytest.mark.slow
def test_claim_ids_are_set_at_seven_points_or_more(appendix, claims_rows):
    _, runs = appendix
    ids = {row["id"] for row in claims_rows}
    sizes = [size for text, size in runs if text.strip() in ids]
    assert len(sizes) >= len(ids)
    assert min(sizes) >= 7 - 1e-6, min(sizes)


@pytest.mark.slow
def test_the_abstract_counts_holds_by_evidence(built, claims_rows):
    text = flat(" ".join(p.extract_text() for p in pypdf.PdfReader(built.paper_pdf).pages[:1]))
    held = [r["evidence"] for r in claims_rows if r["status"] == "holds"]
    for evidence, words in (("published", "on published data"),
                            ("derived", "by arithmetic on published data"),
                            ("synthetic", "on synthetic stand-ins")):
        count = held.count(evidence)
        assert count > 0  # the repository's data have holds of every kind
        assert f"{count} {words}" in text, (evidence, count)
