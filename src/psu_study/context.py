"""What every notebook does first: resolve its folders, load and validate the data it needs,
and prepare the writer for its outputs."""

from __future__ import annotations

import datetime as dt
import os

from . import disclosure, numbers, provenance, staging
from .data_folder import check_data_dir
from .notebook_files import notebook_paths
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
) -> tuple[Study, Outputs]:
    """Load the validated study and an output writer from a notebook's parameters: the
    notebook's first line. The writer knows its folders (``out.figures_dir``,
    ``out.tables_dir``); the name is the notebook's own, typed once, since no route
    (papermill, nbval, JupyterLab, the runner) reliably tells a kernel which notebook it
    runs, and the name decides where its numbers are written."""
    dirs = study_dirs(data_dir, figures_dir, tables_dir)
    return _load(dirs, tables, study_window), writer(notebook, dirs)


def read_study(
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
    tables: list[str] | None = None,
) -> Study:
    """The validated study alone, for a notebook that writes nothing (the analysts'
    explorer): its folders are checked as every notebook's are, and the names and allow
    lists are recorded as read, since the runner scans what the notebook shows with them: a
    list added later reruns it."""
    dirs = study_dirs(data_dir, figures_dir, tables_dir)
    disclosure.disclosure_lists(dirs.data)  # recorded as read, absent ones too
    return _load(dirs, tables, None)


def _load(dirs: RunFolders, tables: list[str] | None,
          study_window: tuple[dt.date, dt.date] | None) -> Study:
    study = load_study(dirs.data, tables=tables, study_window=study_window)
    provenance.label_files(study.frames)
    return study


def open_outputs(
    notebook: str,
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
) -> tuple[Outputs, RunFolders]:
    """An output writer for a notebook that reads other notebooks' numbers, not the data
    files: its outputs still go through the names-list and allow-list check. Outside the
    runner (papermill, JupyterLab) it first merges those numbers (if any) into ``numbers.json``
    and ``numbers.tex``, which the runner otherwise writes itself after each wave."""
    dirs = study_dirs(data_dir, figures_dir, tables_dir)
    names = [path.stem for path in notebook_paths()]
    if staging.stage_dir() is None and numbers.fragments(dirs.tables, names):
        numbers.write_numbers(dirs.tables, names)
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
