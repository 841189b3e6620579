"""Write figures, tables and headline numbers so that the same inputs give the same bytes.

Every file goes through ``staging.write_bytes``: under the build runner it is staged and only
moved into place when the whole notebook succeeds.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

from . import disclosure, figure_check, provenance, staging, style
from . import numbers as numbers_mod
from .numbers import latex_escape

PNG_METADATA = {"Software": None}
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
"""No dates and no tool versions in the files: a rebuild must give the same bytes."""
FOOTNOTE_COLUMN = "footnote"
FOOTNOTE_PT = 7.0
FOOTNOTE_MARGIN_IN = 0.04
FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
"""A text cell a spreadsheet would run as a formula (OWASP's CSV injection): it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return; quotes before them count too, so that
the quote added below can always be taken off again (the paper does, ``paper.typ``'s
``tbl``)."""
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
"""A text cell that is only a number ("-0.5"): a spreadsheet reads the number, runs nothing."""


def spreadsheet_safe(value: object) -> object:
    """``value`` as a CSV cell no spreadsheet runs: a text that would start a formula gets a
    leading single quote, as OWASP advises; numbers, and texts that are just a number, stay
    as they are."""
    if isinstance(value, str) and FORMULA_START.match(value) \
            and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """The frame's CSV copy: every text cell and column name through ``spreadsheet_safe``,
    numeric columns untouched (a negative number stays a number); rows end in ``\n``.

    Python's CSV writer quotes a field holding a line break only if the break is in its
    line terminator, so a bare ``\r`` in a cell would end the row for any reader: the rows
    are written ending in ``\r\n`` (every ``\r`` and ``\n`` in a cell is then quoted) and
    the terminators outside quotes made ``\n``."""
    safe = frame.rename(columns=spreadsheet_safe)
    for column in safe.columns[[not pd.api.types.is_numeric_dtype(t) for t in safe.dtypes]]:
        safe[column] = safe[column].map(spreadsheet_safe)
    parts = safe.to_csv(index=False, lineterminator="\r\n").split('"')
    # Split on quotes, the even parts lie outside every quoted field.
    return '"'.join(p.replace("\r\n", "\n") if i % 2 == 0 else p for i, p in enumerate(parts))


def _sidecar(base: Path, meta: dict[str, object]) -> Path:
    target = base.with_name(base.name + provenance.SIDECAR_SUFFIX)
    text = json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    staging.write_bytes(target, text.encode("utf-8"))
    return target


def output_meta(path: Path) -> dict:
    """What ``Outputs`` recorded beside a figure or table (``<name>.meta.json``: alt text or
    caption, footnote, synthetic inputs); empty for an output written without one."""
    sidecar = path.with_name(path.stem + provenance.SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    return json.loads(sidecar.read_text(encoding="utf-8"))


def _wrap(text: str, width_px: float, measure: Callable[[str], float]) -> str:
    """Greedy word wrap to ``width_px`` as the renderer measures the text."""
    lines: list[str] = []
    for word in text.split():
        if lines and measure(f"{lines[-1]} {word}") <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def add_footnote(fig: Figure, footnote: str) -> None:
    """Set ``footnote`` in a band of its own under the figure, which grows by the band's
    height: the width stays the print width, and nothing drawn before can run into it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.font_manager import FontProperties

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    prop = FontProperties(size=FOOTNOTE_PT, style="italic")
    margin = FOOTNOTE_MARGIN_IN * fig.dpi
    width, old_h = fig.get_figwidth(), fig.get_figheight()
    wrapped = _wrap(footnote, width * fig.dpi - 2 * margin,
                    lambda s: renderer.get_text_width_height_descent(s, prop, ismath=False)[0])
    lines = wrapped.count("\n") + 1
    band = (lines * 1.25 * FOOTNOTE_PT / 72) + 2 * FOOTNOTE_MARGIN_IN
    new_h = old_h + band
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set") and "rect" in engine.get():
        # A legend outside the axes at the bottom (a key of long names) is drawn from the
        # figure's edge, not the layout's: anchor it on the band and keep its room above.
        fig.draw_without_rendering()
        below = [leg for leg in fig.legends if getattr(leg, "_outside_loc", None) == "lower"]
        held = max((leg.get_window_extent().height / fig.dpi for leg in below), default=0.0)
        for leg in below:
            leg.set_bbox_to_anchor((0, band / new_h), transform=fig.transFigure)
        bottom = (band + held) / new_h
        engine.set(rect=(0, bottom, 1, 1 - bottom))
    else:  # placed by hand: keep every axes and figure text where it was, in inches
        for ax in fig.axes:
            box = ax.get_position(original=True)
            ax.set_position((box.x0, (box.y0 * old_h + band) / new_h, box.width,
                             box.height * old_h / new_h))
        for text in fig.texts:
            x, y = text.get_position()
            text.set_position((x, (y * old_h + band) / new_h))
    fig.set_size_inches(width, new_h)
    fig.text(FOOTNOTE_MARGIN_IN / width, FOOTNOTE_MARGIN_IN / new_h, wrapped,
             fontproperties=prop, ha="left", va="bottom", gid=figure_check.FOOTNOTE_GID,
             linespacing=1.1)


def _round(value: object) -> object:
    """Numbers as JSON keeps them: integers exact, floats to 6 significant digits."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return int(value)
        return float(f"{value:.6g}")
    if hasattr(value, "item"):  # numpy scalars
        return _round(value.item())
    return value


def _column_format(frame: pd.DataFrame) -> str:
    """Numbers right-aligned, short text left-aligned, and long text (quotations, claims)
    wrapped in paragraph columns that share the text width, so no table runs off the page."""
    lengths = {c: frame[c].astype(str).str.len().max() if len(frame) else 0 for c in frame}
    long = [c for c, n in lengths.items() if n > 30 and not pd.api.types.is_numeric_dtype(
        frame[c])]
    total = sum(math.sqrt(lengths[c]) for c in long)
    specs = []
    for column in frame.columns:
        if column in long:
            specs.append(f"p{{{0.85 * math.sqrt(lengths[column]) / total:.2f}\\linewidth}}")
        elif pd.api.types.is_numeric_dtype(frame[column]):
            specs.append("r")
        else:
            specs.append("l")
    return "".join(specs)


def _latex(frame: pd.DataFrame, caption: str, footnote: str, label: str) -> str:
    body = frame.style.hide(axis="index").format(escape="latex", precision=1).to_latex(
        hrules=True, column_format=_column_format(frame)
    )
    lines = [r"\begin{table}[htbp]", r"\centering", rf"\caption{{{latex_escape(caption)}}}",
             rf"\label{{tab:{label}}}", body.rstrip()]
    if footnote:
        lines.append(rf"\par\footnotesize {latex_escape(footnote)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


class Note(str):
    """Plain text a notebook shows in place of an output it cannot make (nothing to compare,
    widgets not asked for): a paragraph in HTML, itself in plain text."""

    def _repr_html_(self) -> str:
        return f"<p><em>{html.escape(self)}</em></p>"

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Table:
    """A frame shown in full (no truncated quotations) and identically on every run."""

    frame: pd.DataFrame
    caption: str = ""

    def _repr_html_(self) -> str:
        caption = f"<p><strong>{html.escape(self.caption)}</strong></p>\n" if self.caption else ""
        return caption + self.frame.to_html(index=False, border=0, escape=True)

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.width", 200):
            body = self.frame.to_string(index=False) if len(self.frame) else "(no rows)"
        return f"{self.caption}\n{body}" if self.caption else body


@dataclass(frozen=True)
class SavedTable(Table):
    """A table saved by ``Outputs.table``, shown as published (its caption and columns), so
    what a notebook displays is what it writes (its footnote too), and nbval compares it."""

    footnote: str = ""
    files: tuple[Path, ...] = ()

    def _repr_html_(self) -> str:
        note = f"\n<p><em>{html.escape(self.footnote)}</em></p>" if self.footnote else ""
        return super()._repr_html_() + note

    def __repr__(self) -> str:
        return super().__repr__() + (f"\n{self.footnote}" if self.footnote else "")


@dataclass(frozen=True)
class Shown:
    """Tables shown one after another as one cell's result (a table and its companion
    written in one step), each as it shows alone."""

    items: tuple[Table | Note, ...]

    def _repr_html_(self) -> str:
        return "\n".join(item._repr_html_() for item in self.items)

    def __repr__(self) -> str:
        return "\n\n".join(repr(item) for item in self.items)


@dataclass
class InlineFigure:
    """A figure a notebook displays as a PNG without pyplot's backend: no metadata and a
    fixed text form, so the notebook's bytes are the same on every run and every clone."""

    fig: Figure

    def __repr__(self) -> str:
        return "<figure shown inline, not saved>"

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=110, metadata=PNG_METADATA)
        return buffer.getvalue()


@dataclass
class SavedFigure(InlineFigure):
    """A figure saved by ``Outputs.figure``, shown inline the same way."""

    files: list[Path]

    def __repr__(self) -> str:
        """Names only: a full path would differ between clones and break byte-identity."""
        return f"<figure {', '.join(p.name for p in self.files)}>"


@dataclass
class Outputs:
    """One notebook's outputs: its figures, tables and numbers, under the study folders."""

    figures_dir: Path
    tables_dir: Path
    notebook: str
    names: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    numbers_written: dict[str, object] = field(default_factory=dict)
    numbers_sources: dict[str, dict] = field(default_factory=dict)

    def _scan_texts(self, label: str, texts: list[str]) -> None:
        """Refuse to write an output whose text carries a direct identifier."""
        for text in texts:
            hits = disclosure.scan_text(text, self.names, self.allow)
            if hits:
                raise disclosure.DisclosureError(label, None, None, hits[0].kind, hits[0].masked)

    def figure(self, fig: Figure, name: str, note: str = "", *,
               sources: Sequence[pd.DataFrame] | None = None) -> SavedFigure:
        """Check ``fig`` (``figure_check``) and save it as 300 dpi PNG and PDF with its alt
        text; the footnote (the synthetic inputs among ``sources``, read from their
        ``provenance`` column, then ``note``) is set in a band added under the figure.
        ``sources`` defaults to those the plotting function marked the figure with
        (``provenance.with_sources``). The result shows itself in a notebook at screen
        resolution."""
        sources = provenance.sources_of(fig) if sources is None else sources
        alt = style.alt_text(fig)
        if not alt:
            raise figure_check.FigureCheckError(
                f"figure {name} has no alt text: describe it with psu_study.style.describe")
        inputs = provenance.synthetic_inputs(sources)
        footnote = " ".join(filter(None, [provenance.synthetic_note(inputs), note]))
        if footnote:
            add_footnote(fig, footnote)
        fig.draw_without_rendering()  # tick labels exist only once laid out
        self._scan_texts(f"figure {name}", [alt, *(t.get_text() for t in fig.findobj(Text))])
        figure_check.check(fig, name)
        written = []
        # Alt text, footnote and synthetic inputs also travel in the files' metadata and a
        # sidecar, so a reader (the report, the paper) need not read the pixels.
        png = {**PNG_METADATA, "Title": name, "Description": alt,
               **({"Comment": footnote} if footnote else {})}
        pdf = {**PDF_METADATA, "Title": name, "Subject": alt,
               **({"Keywords": footnote} if footnote else {})}
        for suffix, metadata in ((".png", png), (".pdf", pdf)):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=suffix[1:], metadata=metadata)
            target = Path(self.figures_dir) / f"{name}{suffix}"
            staging.write_bytes(target, buffer.getvalue())
            written.append(target)
        written.append(_sidecar(Path(self.figures_dir) / name, {
            "alt": alt, "footnote": footnote, "synthetic_inputs": inputs}))
        return SavedFigure(fig, written)

    def table(self, frame: pd.DataFrame, name: str, caption: str, note: str = "", *,
              sources: Sequence[pd.DataFrame] | None = None) -> SavedTable:
        """Save ``frame`` as CSV, Markdown and LaTeX; the footnote (the synthetic inputs among
        ``sources``, then ``note``) travels with each: in the CSV as a last column of its
        own, ``footnote``, so the table's own columns (a ``note`` among them) stay as they
        are. The CSV's text cells are ``spreadsheet_safe``; Markdown and LaTeX show every
        value as written. ``sources`` defaults to those the analysis marked ``frame`` with
        (``provenance.with_sources``). The result shows the published table in a notebook."""
        sources = provenance.sources_of(frame) if sources is None else sources
        if FOOTNOTE_COLUMN in frame.columns:
            raise ValueError(f"table {name} has a column {FOOTNOTE_COLUMN!r}, the name the "
                             "CSV copy gives the footnote; rename it")
        inputs = provenance.synthetic_inputs(sources)
        footnote = " ".join(filter(None, [provenance.synthetic_note(inputs), note]))
        base = Path(self.tables_dir) / name
        disclosure.scan_frame(frame, f"table {name}", self.names, self.allow)
        self._scan_texts(f"table {name}", [caption, footnote])
        markdown = f"**{caption}**\n\n{frame.to_markdown(index=False)}\n"
        csv_frame = frame
        if footnote:
            markdown += f"\n{footnote}\n"
            if len(frame):
                csv_frame = frame.assign(**{
                    FOOTNOTE_COLUMN: [footnote] + [""] * (len(frame) - 1)})
        files = {
            base.with_name(f"{base.name}.csv"): csv_text(csv_frame),
            base.with_name(f"{base.name}.md"): markdown,
            base.with_name(f"{base.name}.tex"): _latex(frame, caption, footnote, name),
        }
        for target, text in files.items():
            staging.write_bytes(target, text.encode("utf-8"))
        sidecar = _sidecar(base, {"caption": caption, "footnote": footnote,
                                  "synthetic_inputs": inputs})
        return SavedTable(frame, caption, footnote, (*files, sidecar))

    def numbers(self, values: dict[str, object], *,
                sources: Sequence[pd.DataFrame] | None = None) -> dict[str, object]:
        """Record headline numbers under stable keys (merged into ``numbers.json`` by the
        runner), each with its provenance record (``provenance.rests_on``: the columns it was
        computed from and whether they are published, synthetic or the study's own) in
        ``numbers/<notebook>.meta.json``, so the claims ledger can say what a "holds" rests
        on. ``sources`` defaults to those the analysis marked ``values`` with
        (``provenance.with_sources``); numbers from nothing are refused. Returns every number
        the notebook has recorded so far, rounded as stored: a notebook's last call shows them
        all, so nbval sees any of them change."""
        sources = provenance.sources_of(values) if sources is None else sources
        clean = {key: _round(value) for key, value in values.items()}
        record = provenance.rests_on(sources)
        self.numbers_written.update(clean)
        self.numbers_sources.update({key: record for key in clean})
        fragment = numbers_mod.fragment(self.tables_dir, self.notebook)
        record_path = fragment.with_name(fragment.stem + provenance.SIDECAR_SUFFIX)
        for target, data in ((fragment, self.numbers_written),
                             (record_path, self.numbers_sources)):
            text = json.dumps(data, indent=2, sort_keys=True) + "\n"
            staging.write_bytes(target, text.encode("utf-8"))
        return dict(self.numbers_written)
