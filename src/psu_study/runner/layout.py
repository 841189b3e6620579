"""The folders one build may use: the runner's refusals before anything runs."""

from __future__ import annotations

from pathlib import Path

from ..paths import display_path, inside_repository, is_repository_data
from ..run_folders import RunFolders


class BuildError(RuntimeError):
    """The build was refused or a notebook failed; the message says which and why."""


def layout(data_dir: Path | None, out_dir: Path | None) -> RunFolders:
    """The default run writes into the repository; any other data must go to ``out_dir``,
    outside the work tree, so confidential results can never be committed by accident."""
    folders = RunFolders.of(data_dir, out_dir)
    if out_dir is None and not is_repository_data(folders.data):
        raise BuildError(f"data from {display_path(folders.data)} needs OUT_DIR: results of "
                         "other data are never written into the repository (make DATA_DIR=... "
                         "OUT_DIR=...)")
    if out_dir is not None and inside_repository(folders.root):
        raise BuildError(f"OUT_DIR {display_path(folders.root)} is inside the repository; "
                         "choose a folder outside it so nothing derived from other data can "
                         "be committed")
    return folders
