"""One run's folders: where a notebook, the runner, the report and the paper read and write,
the names the build's records (the manifest) give files by the role of their folder, and the
rule that other data's outputs never land in the repository.

Notebook parameters left as ``None`` resolve here, so the same notebooks run on the
repository's data, on another directory named by ``PSU_STUDY_DATA_DIR``, or on whatever a
runner injects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .paths import (
    DATA_DIR,
    FIGURES_DIR,
    REPO_ROOT,
    TABLES_DIR,
    display_path,
    inside_repository,
    is_repository_data,
)


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


ENV = {"data_dir": "PSU_STUDY_DATA_DIR", "figures_dir": "PSU_STUDY_FIGURES_DIR",
       "tables_dir": "PSU_STUDY_TABLES_DIR"}
"""Each folder parameter and the environment variable that sets it when the parameter is
left as None (JupyterLab, nbval, and the runner, which hands its folders to the kernels so)."""


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
        data=_pick(data_dir, ENV["data_dir"], DATA_DIR),
        figures=_pick(figures_dir, ENV["figures_dir"], FIGURES_DIR),
        tables=_pick(tables_dir, ENV["tables_dir"], TABLES_DIR),
    )


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
    named = "parameter data_dir" if _given(data_dir) else ENV["data_dir"]
    raise OutputDirError(
        f"data from {display_path(dirs.data)} ({named}) is not the repository's data/, and "
        f"{' and '.join(inside)} would write its outputs inside the repository: set "
        f"{' and '.join(inside)} (papermill -p, or "
        f"{' and '.join(ENV[name] for name in inside)}) to folders outside it, or build with "
        "make DATA_DIR=... OUT_DIR=...")
