"""Where the repository's things are: every default folder derived once from the package's
own location, and how a path is shown in outputs (never a machine's private prefix).

A run's own folders (the repository's, or another data folder's with its OUT_DIR) are
``run_folders.RunFolders``; these are the defaults it falls back on.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
FIGURES_DIR = REPO_ROOT / "figures"
TABLES_DIR = REPO_ROOT / "tables"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build"
PAPER_DIR = REPO_ROOT / "paper"
PAPER_SOURCE = PAPER_DIR / "paper.typ"
"""The manuscript's Typst source; a project copy without it builds no paper."""


def is_repository_data(folder: Path) -> bool:
    """Whether ``folder`` is the repository's own ``data/`` (through any link or relative
    form): the published and synthetic data, whose outputs are the committed ones."""
    return Path(folder).resolve() == DATA_DIR.resolve()


def inside_repository(folder: Path) -> bool:
    """Whether ``folder`` (resolved: links and ``..`` followed) lies in the work tree."""
    return Path(folder).resolve().is_relative_to(REPO_ROOT.resolve())


def display_path(path: Path) -> str:
    """A path as shown in outputs: relative to the repo when inside it, so outputs stay
    identical across clones; otherwise only its final component, never a full private path."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f".../{path.name}"
