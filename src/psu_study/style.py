"""The paper's figure style, applied once per process by every plotting function."""

from __future__ import annotations

from pathlib import Path

import matplotlib.style

STYLE_FILE = Path(__file__).with_name("paper.mplstyle")
SINGLE_COLUMN_IN = 3.35
DOUBLE_COLUMN_IN = 7.0
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe-Ito: distinguishable under the common colour-vision deficiencies."""


def use() -> None:
    """Apply the paper style (idempotent, cheap)."""
    matplotlib.style.use(STYLE_FILE)
