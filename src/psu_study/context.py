"""What every notebook does first: resolve its folders, load and validate the data it needs,
and prepare the writer for its outputs."""

from __future__ import annotations

import datetime as dt
import os

from . import disclosure, provenance
from .data_folder import check_data_dir
from .outputs import Outputs
from .run_folders import RunFolders, check_output_dirs
from .validation import Study, load_study


def open_study(
    notebook: str,
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
    tables: list[str] | None = None,
    study_window: tuple[dt.date, dt.date] | None = None,
) -> tuple[Study, Outputs, RunFolders]:
    """Load the validated study and an output writer from a notebook's parameters."""
    dirs = study_dirs(data_dir, figures_dir, tables_dir)
    study = load_study(dirs.data, tables=tables, study_window=study_window)
    provenance.label_files(study.frames)
    return study, writer(notebook, dirs), dirs


def open_outputs(
    notebook: str,
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
) -> tuple[Outputs, RunFolders]:
    """An output writer for a notebook that reads other notebooks' numbers, not the data
    files: its outputs still go through the names-list and allow-list check."""
    dirs = study_dirs(data_dir, figures_dir, tables_dir)
    return writer(notebook, dirs), dirs


def study_dirs(
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
) -> RunFolders:
    """The notebook's folders, checked before anything is read or written: a data folder
    that is one, and other data's outputs outside the repository, whichever route (runner,
    papermill, nbval, JupyterLab, environment variables) named them."""
    dirs = RunFolders.from_parameters(data_dir, figures_dir, tables_dir)
    check_data_dir(dirs.data)
    check_output_dirs(dirs, data_dir)
    return dirs


def writer(notebook: str, dirs: RunFolders) -> Outputs:
    """The notebook's output writer, scanning with the study's own names and allow lists."""
    names, allow = disclosure.disclosure_lists(dirs.data)
    return Outputs(dirs.figures, dirs.tables, notebook, names, allow)
