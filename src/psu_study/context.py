"""What every notebook does first: resolve its folders, load and validate the data it needs,
and prepare the writer for its outputs."""

from __future__ import annotations

import datetime as dt
import os

from .outputs import Outputs
from .paths import StudyDirs, resolve_dirs
from .validation import Study, load_study


def open_study(
    notebook: str,
    data_dir: str | os.PathLike[str] | None,
    figures_dir: str | os.PathLike[str] | None,
    tables_dir: str | os.PathLike[str] | None,
    tables: list[str] | None = None,
    study_window: tuple[dt.date, dt.date] | None = None,
) -> tuple[Study, Outputs, StudyDirs]:
    """Load the validated study and an output writer from a notebook's parameters."""
    dirs = resolve_dirs(data_dir, figures_dir, tables_dir)
    study = load_study(dirs.data, tables=tables, study_window=study_window)
    return study, Outputs(dirs.figures, dirs.tables, notebook), dirs

