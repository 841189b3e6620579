"""The static report, without a browser: every page is made, every figure and table is shown,
synthetic values are flagged from the data's provenance (as each output's writer recorded it),
never a footnote's wording; every figure shows its alt text; every
link resolves to a file of the site, and nothing is loaded from another host.

Reports are built into pytest's temporary folders from the repository's committed outputs.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from psu_study import report
from psu_study.paths import DATA_DIR, NOTEBOOKS_DIR, REPO_ROOT, TABLES_DIR
from psu_study.run_folders import RunFolders

EXTERNAL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", re.IGNORECASE)
"""A URL naming a host (http://, https:// or protocol-relative //host.tld)."""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "report"
    report.build_report(out)
    return out


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


@functools.cache
def soup(path: Path) -> BeautifulSoup:
    """A page parsed once: no test changes a page once it is built, and every built site is
    in a folder of its own, so a path names one page for the whole session (read it, never
    change the tree)."""
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def manifest() -> dict:
    return json.loads((TABLES_DIR / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow  # builds the report site
def test_an_index_a_datasheet_and_a_page_per_notebook(site):
    """The report of the repository's outputs, built by ``build_report`` (which
    ``python -m psu_study.report`` calls) into a temporary folder."""
    assert (site / "index.html").is_file()
    assert (site / "data" / "index.html").is_file()
    for path in sorted(NOTEBOOKS_DIR.glob(report.NOTEBOOK_GLOB)):
        assert (site / "notebooks" / f"{path.stem}.html").is_file(), path.stem


@pytest.mark.slow  # builds the report site
def test_every_figure_and_table_of_the_manifest_is_on_the_index(site):
    index = soup(site / "index.html")
    shown = {img["src"] for img in index.find_all("img")}
    outputs = [key for name, entry in manifest()["notebooks"].items()
               if (NOTEBOOKS_DIR / f"{name}.ipynb").exists() for key in entry["outputs"]]
    figures = [key for key in outputs if key.startswith("figures/") and key.endswith(".png")]
    tables = [key for key in outputs
              if key.startswith("tables/") and key.endswith(".md") and "/numbers/" not in key]
    assert figures and tables, "the manifest names no figure or table: nothing would be checked"
    assert [key for key in figures if key not in shown] == []
    assert [key for key in tables if index.find(id=f"table-{Path(key).stem}") is None] == []


@pytest.mark.slow  # builds the report site
def test_figures_are_flagged_from_their_own_provenance(site):
    """A figure built from synthetic values records its synthetic inputs beside it and is
    flagged with its footnote; one built only from published values is not flagged. The
    second figure of each pair is known from the data contract, not from the code: interview
    durations are synthetic, the 259/397 base rate and the eight women are published."""
    index = soup(site / "index.html")

    def flag(name: str) -> str:
        figure = index.find(id=f"figure-{name}")
        assert figure is not None, name
        found = figure.find(class_="psu-flag")
        return found.get_text(" ", strip=True) if found else ""

    assert "interviews.csv (interview_date, duration_min)" in flag("interview_durations")
    assert flag("participants_female_share") == ""
    assert flag("recruitment_flow") == ""


@pytest.mark.slow  # builds the report site
def test_sections_read_like_the_results(site):
    """README, section Exploring and reading the report: "One section per notebook"."""
    text = soup(site / "index.html").get_text(" ", strip=True)
    numbers = json.loads((TABLES_DIR / "numbers.json").read_text())
    # Both keys are always computed (recruitment.csv and codebook.csv are required files):
    # a missing key fails here with a KeyError instead of skipping the check.
    assert f"Of the {numbers['n_contacted']} trainees contacted" in text
    assert f"The analysis found {numbers['n_themes']} themes" in text  # the paper's words too


SYNTHETIC_TABLES = {
    "agreement_character": "segments.csv: the coding (code_id, start, end) is synthetic",
    "agreement_participant": "segments.csv: the coding is synthetic",
    "themes_prevalence": "segments.csv: the coding is synthetic",
    "interviews": "interviews.csv: interview_date and duration_min are synthetic",
    "table1_training_roles": "participants.csv: training_stage is synthetic",
    "themes_by_gender": "segments.csv: the coding is synthetic",
    "themes_by_training_stage": "segments.csv: the coding; participants.csv: training_stage",
    "themes_cooccurrence": "segments.csv: the coding is synthetic",
    "codebook_summary": "segments.csv: the coding (the counts) is synthetic",
}
"""The tables built from synthetic values, by hand from data/README.md and each data file's
provenance column. The others are from published values only: recruitment stages and rates
(stage_reached is published), the female share (gender is published), the quotations (the
article's words), and the claims table, which is built from no data frame though its
footnote says "synthetic"."""


@pytest.mark.slow  # builds the report site
def test_a_table_is_flagged_from_the_provenance_of_its_inputs_not_its_wording(site):
    """Every table is on the index; the banner marks exactly the tables built from synthetic
    values; the claims table's footnote uses the word "synthetic" and carries no banner."""
    index = soup(site / "index.html")
    blocks = {md.stem: index.find(id=f"table-{md.stem}") for md in TABLES_DIR.glob("*.md")}
    assert set(SYNTHETIC_TABLES) | {"claims"} <= set(blocks)
    assert [name for name, block in blocks.items() if block is None] == []
    flagged = {name for name, block in blocks.items()
               if (banner := block.find(class_="psu-banner")) is not None
               and "Synthetic values" in banner.get_text()}
    assert flagged == set(SYNTHETIC_TABLES)
    assert not any(block.find(class_="psu-banner") for name, block in blocks.items()
                   if name not in SYNTHETIC_TABLES)
    assert "synthetic" in report.read_table_markdown(TABLES_DIR / "claims.md")[2].lower()


@pytest.mark.slow  # builds the report site
def test_every_figure_shows_its_alt_text(site):
    index = soup(site / "index.html")
    figures = index.find_all("figure", class_="psu-figure")
    assert figures
    for figure in figures:
        name = figure["id"].removeprefix("figure-")
        alt = json.loads((REPO_ROOT / "figures" / f"{name}.meta.json").read_text())["alt"]
        assert figure.find("img")["alt"] == alt, name
        assert figure.find(class_="psu-alt").get_text() == alt, name


@pytest.mark.slow  # builds the report site
def test_the_site_banner_follows_the_datas_provenance(site, tmp_path):
    """README, section Exploring and reading the report: "with a banner wherever values are
    synthetic"."""
    assert soup(site / "index.html").find(class_="psu-banner-site") is not None
    # The same outputs over data whose every row is the study's own: no site-wide banner.
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("transcripts"))
    for csv in data.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        frame.assign(provenance="study").to_csv(csv, index=False, lineterminator="\n")
    out = tmp_path / "report"
    report.build_report(out, RunFolders.of(data))
    assert soup(out / "index.html").find(class_="psu-banner-site") is None


def test_data_provenance_names_the_synthetic_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,provenance\n1,2,published (synthetic: b)\n3,4,published\n")
    assert report.data_provenance(path)[0] == ["b"]
    path.write_text("a,b,provenance\n1,2,published\n")
    assert report.data_provenance(path)[0] == []
    path.write_text("a,b,provenance\n1,2,synthetic\n")
    assert report.data_provenance(path)[0] == ["a", "b"]


def _local_targets(page: Path, site: Path) -> list[tuple[str, Path, str]]:
    found = []
    for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
        for element in soup(page).find_all(tag):
            value = element.get(attr)
            if not value or value.startswith(("data:", "mailto:")):
                continue
            parts = urlsplit(value)
            assert not parts.scheme and not parts.netloc, f"{page.name}: external {value}"
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            found.append((value, target, unquote(parts.fragment)))
    return found


@pytest.mark.slow  # builds the report site
def test_every_link_resolves_to_a_file_of_the_site(site):
    for page in pages(site):
        for value, target, fragment in _local_targets(page, site):
            assert target.is_relative_to(site.resolve()), f"{page.name}: {value} leaves the site"
            assert target.is_file(), f"{page.relative_to(site)}: {value} does not exist"
            if fragment and target.suffix == ".html":
                assert soup(target).find(id=fragment) is not None, \
                    f"{page.relative_to(site)}: {value} names no element"


@pytest.mark.slow  # builds the report site
def test_no_page_names_another_host(site):
    """README, section Exploring and reading the report: "it needs no server and no network"."""
    for page in pages(site):
        text = page.read_text(encoding="utf-8")
        hits = EXTERNAL.findall(text)
        assert not hits, f"{page.relative_to(site)} names other hosts: {sorted(set(hits))[:5]}"
        assert "require.js" not in text and "MathJax.js" not in text and "mathjax" not in text


@pytest.mark.slow  # builds the report site
def test_code_is_folded_and_outputs_shown(site):
    """A notebook page's code is folded, one click to show it."""
    page = soup(site / "notebooks" / "01_recruitment.html")
    folded = page.find_all("details", class_="psu-code")
    assert folded and all(not d.has_attr("open") for d in folded)
    assert page.find("img") is not None, "the notebook's figure is shown"


def test_widget_views_are_replaced_by_text():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    cell = nbformat.v4.new_code_cell("w")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        report.WIDGET_MIME: {"model_id": "abc"}, "text/plain": "Tab(...)"})]
    nb.cells.append(cell)
    report._strip_widgets(nb)
    assert "widgets" not in nb.metadata
    assert report.WIDGET_MIME not in nb.cells[0].outputs[0]["data"]


def test_a_folder_the_report_did_not_make_is_refused(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(report.ReportError, match="not made by the report builder"):
        report.build_report(tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_a_report_of_other_data_is_refused_inside_the_repository(tmp_path):
    with pytest.raises(report.ReportError, match="outside the repository"):
        report.build_report(REPO_ROOT / "report-of-other-data", RunFolders.of(tmp_path))
    assert not (REPO_ROOT / "report-of-other-data").exists()


@pytest.mark.slow  # builds the report site
def test_the_queries_tables_are_in_the_report(site):
    """Issue 22: the query tables and heatmaps sit on the index, in 04's section with
    its sentence, each flagged as built from synthetic coding."""
    index = soup(site / "index.html")
    numbers = json.loads((TABLES_DIR / "numbers.json").read_text())
    for name in ("themes_by_gender", "themes_by_training_stage", "themes_cooccurrence",
                 "codebook_summary"):
        block = index.find(id=f"table-{name}")
        assert block is not None, name
        assert block.find(class_="psu-banner") is not None, name
    assert index.find(id="figure-themes_by_training_stage") is not None
    text = index.get_text(" ", strip=True)
    attributes = numbers["n_attribute_tables"]
    noun = "participant attribute" if attributes == 1 else "participant attributes"
    assert f"crosses the themes and sub-themes with each of the {attributes} {noun}" in text
