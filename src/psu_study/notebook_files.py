"""The study's notebooks as files: which they are, and their JSON's text (a cell's source or an
output's text, which the notebook format gives as a string or a list of lines)."""

from __future__ import annotations

from pathlib import Path

from .paths import NOTEBOOKS_DIR

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
"""The study's notebooks: numbered, run (and shown in the report) in that order."""


def notebook_paths(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(folder.glob(NOTEBOOK_GLOB))


def cell_text(source: str | list[str]) -> str:
    """A cell's source (or an output's text) as one string: the notebook format allows a
    string or a list of lines."""
    return "".join(source) if isinstance(source, list) else source
