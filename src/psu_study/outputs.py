"""Write figures, tables and headline numbers so that the same inputs give the same bytes.

Every file goes through ``staging.write_bytes``: under the build runner it is staged and only
moved into place when the whole notebook succeeds.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

from . import disclosure, staging
from .numbers import latex_escape

PNG_METADATA = {"Software": None}
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
"""No dates and no tool versions in the files: a rebuild must give the same bytes."""


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

    def _scan_texts(self, label: str, texts: list[str]) -> None:
        """Refuse to write an output whose text carries a direct identifier."""
        for text in texts:
            hits = disclosure.scan_text(text, self.names, self.allow)
            if hits:
                raise disclosure.DisclosureError(label, None, None, hits[0].kind, hits[0].masked)

    def figure(self, fig: Figure, name: str, footnote: str = "") -> SavedFigure:
        """Save ``fig`` as 300 dpi PNG and PDF, with ``footnote`` drawn under it; the result
        shows itself in a notebook at screen resolution."""
        if footnote:
            fig.text(0.01, 0.005, footnote, fontsize=5.5, ha="left", va="bottom", wrap=True,
                     style="italic")
        fig.draw_without_rendering()  # tick labels exist only once laid out
        self._scan_texts(f"figure {name}", [t.get_text() for t in fig.findobj(Text)])
        written = []
        # The footnote also travels in the files' metadata, so a reader (the report) can
        # tell which figures use synthetic values without reading the pixels.
        png = {**PNG_METADATA, **({"Description": footnote} if footnote else {})}
        pdf = {**PDF_METADATA, **({"Subject": footnote} if footnote else {})}
        for suffix, metadata in ((".png", png), (".pdf", pdf)):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=suffix[1:], metadata=metadata)
            target = Path(self.figures_dir) / f"{name}{suffix}"
            staging.write_bytes(target, buffer.getvalue())
            written.append(target)
        return SavedFigure(fig, written)

    def table(self, frame: pd.DataFrame, name: str, caption: str, footnote: str = "") -> list[Path]:
        """Save ``frame`` as CSV, Markdown and LaTeX; the footnote travels with each."""
        base = Path(self.tables_dir) / name
        disclosure.scan_frame(frame, f"table {name}", self.names, self.allow)
        self._scan_texts(f"table {name}", [caption, footnote])
        csv = frame.to_csv(index=False, lineterminator="\n")
        markdown = f"**{caption}**\n\n{frame.to_markdown(index=False)}\n"
        if footnote:
            markdown += f"\n{footnote}\n"
        if footnote:
            csv_frame = frame.assign(note=[footnote] + [""] * (len(frame) - 1)) if len(
                frame) else frame
            csv = csv_frame.to_csv(index=False, lineterminator="\n")
        files = {
            base.with_suffix(".csv"): csv,
            base.with_suffix(".md"): markdown,
            base.with_suffix(".tex"): _latex(frame, caption, footnote, name),
        }
        for target, text in files.items():
            staging.write_bytes(target, text.encode("utf-8"))
        return list(files)

    def numbers(self, values: dict[str, object]) -> dict[str, object]:
        """Record headline numbers under stable keys (merged into ``numbers.json`` by the
        runner); returns them rounded as stored, for display."""
        clean = {key: _round(value) for key, value in values.items()}
        self.numbers_written.update(clean)
        target = Path(self.tables_dir) / "numbers" / f"{self.notebook}.json"
        text = json.dumps(self.numbers_written, indent=2, sort_keys=True) + "\n"
        staging.write_bytes(target, text.encode("utf-8"))
        return clean
