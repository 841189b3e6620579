"""The study as a static web report: an index that reads like the paper's Results, every figure
and table, and every executed notebook rendered with nbconvert (code folded away).

``python -m psu_study.report`` (``make report``) writes ``report/``. The site is built from what
the build left behind (the manifest, the executed notebooks, figures, tables and numbers) and
discovers which notebooks exist, so notebooks added later appear without changes here. It
loads nothing from the network: every page works opened from disk, offline, and the CDN
scripts nbconvert's templates reference (require.js, MathJax, mermaid, widget managers) are
left out. Synthetic values are flagged from the data's ``provenance`` column (as each
output's writer recorded it beside the output, and as each data file holds it), never from
a footnote's wording or a list kept here. Every figure shows its alt text.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import numbers as numbers_mod
from . import sentences as results
from .notebook_files import NOTEBOOK_GLOB, cell_text, notebook_paths
from .outputs import output_meta
from .provenance import synthetic_columns
from .run_folders import RunFolders, add_folder_options, outputs_inside

if TYPE_CHECKING:  # nbconvert is imported only when pages are rendered
    from nbconvert.exporters import HTMLExporter

TEMPLATES = Path(__file__).resolve().parent / "templates"
MARKER = ".psu-study-report"
"""Written into every report folder: only a folder holding it (or an empty one) is cleared
before a rebuild, so a mistyped ``--out-dir`` never deletes someone's files."""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_HEADING = re.compile(r"^#\s+(?:\d+\.\s*)?(.+)$", re.MULTILINE)


class ReportError(RuntimeError):
    """The report cannot be built as asked; the message says why."""


# --- what the site is made of --------------------------------------------------------------

@dataclass
class TableOut:
    name: str
    caption: str
    html: str
    footnote: str
    files: list[str]
    synthetic_inputs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """From the provenance of the data it was built from, as its writer recorded it."""
        return bool(self.synthetic_inputs)


@dataclass
class FigureOut:
    name: str
    png: str
    files: list[str]
    cell: str | None = None
    footnote: str = ""
    alt: str = ""
    synthetic_inputs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """From the provenance of the data it was built from, as its writer recorded it."""
        return bool(self.synthetic_inputs)


@dataclass
class DataFile:
    key: str
    link: str
    synthetic: list[str]
    provenance: str


@dataclass
class Section:
    name: str
    title: str
    page: str
    intro_html: str
    sentences: list[str]
    figures: list[FigureOut] = field(default_factory=list)
    tables: list[TableOut] = field(default_factory=list)
    reads: list[DataFile] = field(default_factory=list)
    numbers: dict[str, object] = field(default_factory=dict)

    @property
    def synthetic_notes(self) -> list[str]:
        """The synthetic-data footnotes of this notebook's own tables, each once."""
        return list(dict.fromkeys(t.footnote for t in self.tables if t.synthetic))

    @property
    def synthetic_reads(self) -> list[DataFile]:
        return [d for d in self.reads if d.synthetic]


_ANCHOR_LINK = re.compile(r'<a class="anchor-link" href="[^"]*">[^<]*</a>')


def _markdown(text: str) -> str:
    """Markdown as HTML the way notebooks render it, headings keeping their ids but not the
    pilcrow links nbconvert adds to them."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return _ANCHOR_LINK.sub("", markdown2html_mistune(text))


def _source(cell: dict) -> str:
    return cell_text(cell.get("source", ""))


def notebook_title(nb: dict, name: str) -> tuple[str, str]:
    """The notebook's first heading and the rest of its first markdown cell (its intro)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            text = _source(cell)
            match = _HEADING.search(text)
            if match:
                return match.group(1).strip(), text[match.end():].strip()
            return name, text.strip()
    return name, ""


def read_table_markdown(path: Path) -> tuple[str, str, str]:
    """A table's Markdown file as written by ``Outputs.table``: (caption, table, footnote)."""
    text = path.read_text(encoding="utf-8")
    caption, table, footnote = "", [], []
    lines = text.splitlines()
    if lines and lines[0].startswith("**") and lines[0].endswith("**"):
        caption = lines[0].strip("*")
        lines = lines[1:]
    seen_table = False
    for line in lines:
        if line.startswith("|"):
            seen_table = True
            table.append(line)
        elif seen_table and line.strip():
            footnote.append(line)
    return caption, "\n".join(table), " ".join(footnote).strip()


def data_provenance(path: Path) -> tuple[list[str], str]:
    """(synthetic columns, a one-line summary) of a data file, read from its own
    ``provenance`` column (or, for a transcript, its first line)."""
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "provenance" not in frame:
            return [], "no provenance column"
        columns = [c for c in frame.columns if c != "provenance"]
        synthetic = synthetic_columns(frame, columns)
        kinds = sorted({p.split(" ")[0] for p in frame["provenance"]})
        return synthetic, ", ".join(kinds)
    if path.suffix == ".txt":
        head = path.read_text(encoding="utf-8")[:200]
        if head.startswith("SYNTHETIC"):
            return ["whole file"], "synthetic"
        return [], "study"
    return [], "unknown"


def _find_cell(nb: dict, name: str) -> str | None:
    """The id of the code cell that wrote output ``name``, for a link to it."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and re.search(
                rf"[\"']{re.escape(name)}[\"']", _source(cell)):
            return cell.get("id")
    return None


def collect(src: RunFolders) -> tuple[list[Section], dict]:
    """Every notebook's section of the report, from the manifest and the files it names."""
    manifest_path = src.tables / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) \
        if manifest_path.exists() else {}
    entries = manifest.get("notebooks", {})
    numbers_path = src.tables / "numbers.json"
    all_numbers = json.loads(numbers_path.read_text(encoding="utf-8")) \
        if numbers_path.exists() else {}
    sections = []
    known: dict[str, object] = {}  # the numbers of this notebook and those before it
    for path in notebook_paths(src.notebooks):
        name = path.stem
        nb = json.loads(path.read_text(encoding="utf-8"))
        title, intro = notebook_title(nb, name)
        entry = entries.get(name, {})
        fragment = numbers_mod.fragment(src.tables, name)
        numbers = json.loads(fragment.read_text(encoding="utf-8")) if fragment.exists() else {}
        numbers = {k: all_numbers.get(k, v) for k, v in numbers.items()}
        # A sentence is said once, in the first section by which all its keys are written.
        unsaid = [name for name in results.SENTENCES if not all(k in known for k in
                 results.required_keys(name))]
        known.update(numbers)
        sentences = [results.render(name, known) for name in unsaid
                     if all(k in known for k in results.required_keys(name))]
        section = Section(name, title, f"notebooks/{name}.html", _markdown(intro), sentences,
                          numbers=numbers)
        outputs = sorted(entry.get("outputs", {}))
        for key in outputs:
            if key.startswith("figures/") and key.endswith(".png"):
                stem = key[len("figures/"):-len(".png")]
                files = [k for k in outputs if k.startswith(f"figures/{stem}.")]
                meta = output_meta(src.resolve(key))
                section.figures.append(FigureOut(
                    stem, key, files, _find_cell(nb, stem), meta.get("footnote", ""),
                    meta.get("alt", ""), meta.get("synthetic_inputs", {})))
            elif key.startswith("tables/") and key.endswith(".md") and "/numbers/" not in key:
                file = src.resolve(key)
                if not file.exists():
                    continue
                stem = key[len("tables/"):-len(".md")]
                caption, table, footnote = read_table_markdown(file)
                files = [k for k in outputs if k.startswith(f"tables/{stem}.")]
                section.tables.append(TableOut(
                    stem, caption or stem, _markdown(table), footnote, files,
                    output_meta(file).get("synthetic_inputs", {})))
        for key in sorted(entry.get("reads", {})):
            file = src.resolve(key)
            if not file.exists():
                continue
            synthetic, kinds = data_provenance(file)
            section.reads.append(DataFile(key, key, synthetic, kinds))
        sections.append(section)
    return sections, manifest


# --- writing the site ----------------------------------------------------------------------

def _lab_css() -> str:
    """JupyterLab's light theme as nbconvert ships it, without its comments (which carry
    URLs of the projects it credits, none of them loaded)."""
    from nbconvert.exporters import HTMLExporter

    for folder in HTMLExporter(template_name="lab").template_paths:
        index = Path(folder) / "static" / "index.css"
        theme = Path(folder) / "static" / "theme-light.css"
        if index.exists() and theme.exists():
            text = index.read_text(encoding="utf-8") + "\n" + theme.read_text(encoding="utf-8")
            return _CSS_COMMENT.sub("", text)
    raise ReportError("nbconvert's lab template (static/index.css) was not found")


def _strip_widgets(nb) -> None:
    """Widget views cannot render offline without a CDN: keep their plain-text fallback."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                del data[WIDGET_MIME]
                data.setdefault("text/plain", "(interactive widget: open the notebook in "
                                              "JupyterLab to use it)")


def notebook_exporter() -> HTMLExporter:
    """The exporter of the notebook pages; one serves every page, so its templates are
    compiled once a build, not once a notebook (about half of a build's time)."""
    from nbconvert.exporters import HTMLExporter

    return HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES)],
                        template_file="psu_notebook.html.j2", exclude_input_prompt=True,
                        exclude_output_prompt=True, exclude_anchor_links=True)


def render_notebook(path: Path, section: Section, site: dict, css: str,
                    exporter: HTMLExporter) -> str:
    """One executed notebook as a page: code folded in <details>, outputs shown, a banner
    when the notebook's outputs or data hold synthetic values."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    _strip_widgets(nb)
    resources = {"metadata": {"name": section.title},
                 "psu": {"section": section, "site": site, "css": css}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _prepare(out: Path) -> None:
    """Empty ``out`` for a rebuild, refusing a folder the report did not make."""
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise ReportError(f"{out} is not empty and was not made by the report builder; "
                              "choose another folder")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by python -m psu_study.report; rebuilt from scratch\n")


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def build_report(out_dir: Path | None = None, folders: RunFolders | None = None) -> list[Path]:
    """Write the site of ``folders``' outputs (default: the repository's) into ``out_dir``
    (default: their ``report/``); returns the HTML pages written."""
    src = folders or RunFolders.of()
    out = Path(out_dir or src.report).resolve()
    if outputs_inside(src.data, {"report": out}):
        raise ReportError(f"a report of data from {src.data} must be written outside the "
                          "repository, like every other output of such data")
    sections, manifest = collect(src)
    if not sections:
        raise ReportError(f"no notebooks matching {NOTEBOOK_GLOB} in {src.notebooks}")
    _prepare(out)

    for section in sections:  # copies of everything the pages link to
        for key in [k for f in section.figures for k in f.files] + \
                   [k for t in section.tables for k in t.files]:
            if src.resolve(key).exists():
                _copy(src.resolve(key), out / key)
        for read in section.reads:
            _copy(src.resolve(read.key), out / read.key)
    if src.paper_pdf.exists():  # the manuscript, typeset by psu_study.manuscript
        _copy(src.paper_pdf, out / "paper" / "paper.pdf")
    datasheet = src.data / "README.md"
    synthetic_files = sorted({d.key for s in sections for d in s.synthetic_reads})
    site = {
        "title": "Junior doctors and a Deanery Professional Support Unit",
        "synthetic_files": synthetic_files,
        "datasheet": (datasheet.exists() and "data/index.html") or None,
        "paper": (src.paper_pdf.exists() and "paper/paper.pdf") or None,
        "sections": sections,
        "environment": manifest.get("environment", {}),
    }
    env = _environment()
    css = _lab_css()
    site_css = (TEMPLATES / "site.css").read_text(encoding="utf-8")
    pages = []
    index = out / "index.html"
    index.write_text(env.get_template("index.html.j2").render(site=site, css=site_css, root=""),
                     encoding="utf-8")
    pages.append(index)
    if site["datasheet"]:
        page = out / "data" / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        body = _markdown(datasheet.read_text(encoding="utf-8"))
        page.write_text(env.get_template("page.html.j2").render(
            site=site, css=site_css, root="../", title="Datasheet: the study's data", body=body),
            encoding="utf-8")
        pages.append(page)
    exporter = notebook_exporter()
    for section in sections:
        page = out / section.page
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_notebook(src.notebooks / f"{section.name}.ipynb", section, site,
                                        css + "\n" + site_css, exporter), encoding="utf-8")
        pages.append(page)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the study's static HTML report.",
                                     allow_abbrev=False)
    add_folder_options(parser, "the data the outputs were built from; default: data/",
                       "a build's OUT_DIR: report its outputs into OUT_DIR/report; default: "
                       "the repository's outputs, into report/")
    args = parser.parse_args(argv)
    folders = RunFolders.of(args.data_dir, args.out_dir)
    try:
        pages = build_report(folders=folders)
    except ReportError as exc:
        print(f"report failed: {exc}", file=sys.stderr)
        return 1
    print(f"  {len(pages)} page(s) written; open {folders.report / 'index.html'}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
