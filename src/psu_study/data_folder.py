"""The data folder checked up front against the contract (``schema``): it exists and holds some
of the contract's files; the loader names each file missing or wrong."""

from __future__ import annotations

import os
from pathlib import Path

from . import schema


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
