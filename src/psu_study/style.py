"""The paper's figure style, applied once per process by every plotting function, and the
print sizes every figure is drawn at (the figure check holds figures to them)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.style
from matplotlib.figure import Figure

STYLE_FILE = Path(__file__).with_name("paper.mplstyle")
MM_PER_IN = 25.4
WIDTHS_MM = (85.0, 175.0)
"""A journal's one column and full page width: every figure is drawn at one of them."""
SINGLE_COLUMN_IN = WIDTHS_MM[0] / MM_PER_IN
DOUBLE_COLUMN_IN = WIDTHS_MM[1] / MM_PER_IN
MAX_HEIGHT_MM = 225.0
"""The tallest figure a page holds with its caption (A4's text block is about 247 mm): the
print check refuses a taller one, and a figure that would be taller is split into panels."""
MAX_HEIGHT_IN = MAX_HEIGHT_MM / MM_PER_IN
FOOTNOTE_ROOM_IN = 0.6
"""Height kept free under a figure laid out to the page's height, for the footnote band
(``outputs.add_footnote``) added when it is saved."""
MIN_FONT_PT = 7.0
"""The smallest text a journal prints legibly at final size."""
PALETTE: list[str] = [
    f"#{c.lstrip('#').upper()}" for c in matplotlib.rc_params_from_file(
        STYLE_FILE, use_default_template=False)["axes.prop_cycle"].by_key()["color"]]
"""Okabe-Ito, as the style file's colour cycle (its one home): distinguishable under the
common colour-vision deficiencies. Neighbours that must also differ in greyscale are paired
by lightness: PALETTE[0] (dark blue) with PALETTE[1] (orange) or PALETTE[4] (sky blue)."""


def use() -> None:
    """Apply the paper style (idempotent, cheap)."""
    matplotlib.style.use(STYLE_FILE)


def figure(width_in: float, height_in: float) -> Figure:
    """A figure at print size whose layout keeps labels apart (constrained layout)."""
    use()
    return Figure(figsize=(width_in, height_in), layout="constrained")


def side_by_side(n_rows: int, row_in: float, fixed_in: float) -> int:
    """How many panels, side by side, ``n_rows`` rows of ``row_in`` inches need so that the
    figure (``fixed_in`` inches besides its rows, and room for a footnote) stays within
    ``MAX_HEIGHT_IN``."""
    per_panel = max(1, int((MAX_HEIGHT_IN - FOOTNOTE_ROOM_IN - fixed_in) // row_in))
    return -(-n_rows // per_panel)


def describe(fig: Figure, sentence: str) -> Figure:
    """Attach the figure's alt text: one sentence, made from the numbers it draws. Kept as
    the figure's label (matplotlib's own name for a figure), which the writer stores."""
    fig.set_label(" ".join(sentence.split()))
    return fig


def alt_text(fig: Figure) -> str:
    """The sentence ``describe`` attached, or an empty string."""
    return str(fig.get_label() or "")
