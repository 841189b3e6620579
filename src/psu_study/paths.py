"""Where things are: every default folder derived once from the package's own location.

Notebook parameters left as ``None`` resolve here, so the same notebooks run on the
repository's data, on another directory named by ``PSU_STUDY_DATA_DIR``, or on whatever a
runner injects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import schema
from .environment import FOLDER_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
FIGURES_DIR = REPO_ROOT / "figures"
TABLES_DIR = REPO_ROOT / "tables"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "build"
PAPER_DIR = REPO_ROOT / "paper"
PAPER_SOURCE = PAPER_DIR / "paper.typ"
"""The manuscript's Typst source; a project copy without it builds no paper."""
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
"""The study's notebooks: numbered, run (and shown in the report) in that order."""


def notebook_paths(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    return sorted(folder.glob(NOTEBOOK_GLOB))


def cell_text(source: str | list[str]) -> str:
    """A cell's source (or an output's text) as one string: the notebook format allows a
    string or a list of lines."""
    return "".join(source) if isinstance(source, list) else source


def record_folders(data: Path, figures: Path, tables: Path, notebooks: Path | None = None,
                   paper: Path | None = None) -> dict[str, Path]:
    """The folders behind the first part of a file's name in the build's records (the
    manifest): ``figures/x.png`` lies in ``figures``, ``repo/claims/ledger.yaml`` in the
    repository, wherever a run put them."""
    optional = {"notebooks": notebooks, "paper": paper}
    return {"data": data, "figures": figures, "tables": tables,
            **{k: v for k, v in optional.items() if v is not None}, "repo": REPO_ROOT}


def record_key(path: Path, folders: dict[str, Path]) -> str | None:
    """``path``'s name in the records (never a machine-specific prefix), or None."""
    path = path.resolve()
    for prefix, folder in folders.items():  # "repo" last: the others may lie inside it
        if path.is_relative_to(folder.resolve()):
            return f"{prefix}/{path.relative_to(folder.resolve()).as_posix()}"
    return None


def resolve_record_key(key: str, folders: dict[str, Path]) -> Path:
    prefix, _, rest = key.partition("/")
    return folders[prefix] / rest


@dataclass(frozen=True)
class StudyDirs:
    """The three folders a notebook reads from and writes to."""

    data: Path
    figures: Path
    tables: Path


def _given(value: str | os.PathLike[str] | None) -> bool:
    return value is not None and str(value) != ""


def _pick(value: str | os.PathLike[str] | None, env: str, default: Path) -> Path:
    if _given(value):
        return Path(value).expanduser().resolve()
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser().resolve()
    return default


def resolve_dirs(
    data_dir: str | os.PathLike[str] | None = None,
    figures_dir: str | os.PathLike[str] | None = None,
    tables_dir: str | os.PathLike[str] | None = None,
) -> StudyDirs:
    """Turn notebook parameters into folders: explicit value, then environment, then repo."""
    return StudyDirs(
        data=_pick(data_dir, FOLDER_ENV["data_dir"], DATA_DIR),
        figures=_pick(figures_dir, FOLDER_ENV["figures_dir"], FIGURES_DIR),
        tables=_pick(tables_dir, FOLDER_ENV["tables_dir"], TABLES_DIR),
    )


def is_repository_data(folder: Path) -> bool:
    """Whether ``folder`` is the repository's own ``data/`` (through any link or relative
    form): the published and synthetic data, whose outputs are the committed ones."""
    return Path(folder).resolve() == DATA_DIR.resolve()


def inside_repository(folder: Path) -> bool:
    """Whether ``folder`` (resolved: links and ``..`` followed) lies in the work tree."""
    return Path(folder).resolve().is_relative_to(REPO_ROOT.resolve())


class OutputDirError(ValueError):
    """Other data would write its outputs into the repository, where they could be
    committed."""


def outputs_inside(data: Path, outputs: dict[str, Path]) -> list[str]:
    """The names of ``outputs`` that would put results of ``data`` into the work tree: none
    for the repository's own data, else those whose folder lies inside the repository."""
    if is_repository_data(data):
        return []
    return [name for name, folder in outputs.items() if inside_repository(folder)]


def check_output_dirs(dirs: StudyDirs, data_dir: str | os.PathLike[str] | None = None) -> None:
    """Refuse, before anything is written, other data whose figures or tables would land in
    the work tree: every route (the runner, papermill, nbval, JupyterLab) passes here.
    ``data_dir`` is the notebook's parameter, to say where the data folder was named."""
    inside = outputs_inside(dirs.data, {"figures_dir": dirs.figures, "tables_dir": dirs.tables})
    if not inside:
        return
    named = "parameter data_dir" if _given(data_dir) else FOLDER_ENV["data_dir"]
    raise OutputDirError(
        f"data from {display_path(dirs.data)} ({named}) is not the repository's data/, and "
        f"{' and '.join(inside)} would write its outputs inside the repository: set "
        f"{' and '.join(inside)} (papermill -p, or "
        f"{' and '.join(FOLDER_ENV[name] for name in inside)}) to folders outside it, or "
        "build with make DATA_DIR=... OUT_DIR=...")


def display_path(path: Path) -> str:
    """A path as shown in outputs: relative to the repo when inside it, so outputs stay
    identical across clones; otherwise only its final component, never a full private path."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f".../{path.name}"


class DataDirError(FileNotFoundError):
    """The data directory is not one: it does not exist, or holds none of the contract."""


def check_data_dir(path: str | os.PathLike[str]) -> Path:
    """Refuse, once and up front, a data directory that does not exist or holds none of the
    contract's files, naming it; a directory with some of them goes on to the loader, which
    names each file missing or wrong."""
    folder = Path(path)
    expected = [t.file for t in schema.TABLES.values()]
    if not folder.is_dir():
        raise DataDirError(f"data directory {str(path)!r} does not exist (or is not a "
                           "folder); see data/README.md for what it must hold")
    if not any((folder / name).is_file() for name in expected):
        raise DataDirError(f"data directory {str(path)!r} holds none of the contract's files "
                           f"({', '.join(expected)}); see data/README.md")
    return folder
