"""Load a data directory and refuse anything that breaks the data contract.

``loader`` reads and checks each file column by column; ``rules`` checks the study's rules
across files. Notebooks and modules import ``load_study``, ``Study`` and ``DataError`` from
here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import rules, schema
from .loader import MAX_FILE_BYTES, DataError, check_provenance, load_transcripts, read_table
from .paths import display_path

__all__ = ["DataError", "Study", "load_study", "read_table"]


@dataclass
class Study:
    """Validated frames of one data directory, keyed by table name."""

    data_dir: Path
    frames: dict[str, pd.DataFrame]
    transcripts: dict[str, str] | None = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(f"table {name!r} was not loaded; load it with tables=[{name!r}]")

    def files(self) -> list[Path]:
        """The data files this study was read from (for a manifest's record of inputs)."""
        tables = [self.data_dir / schema.TABLES[name].file for name in self.frames]
        texts = [self.data_dir / schema.TRANSCRIPTS_DIR / f"{pid}.txt"
                 for pid in sorted(self.transcripts or {})]
        return tables + texts


def load_study(
    data_dir: str | Path,
    tables: list[str] | tuple[str, ...] | None = None,
    study_window: tuple[dt.date, dt.date] | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> Study:
    """Load and validate ``tables`` (default: all) plus every table they reference."""
    data_dir = Path(data_dir)
    names = schema.closure(list(tables) if tables is not None else list(schema.TABLES))
    frames: dict[str, pd.DataFrame] = {}
    seen: rules.Seen = {}
    for name in names:
        table = schema.TABLES[name]
        seen[name] = {}
        frames[name] = read_table(data_dir, table, max_bytes, seen[name])
        check_provenance(seen[name]["provenance"], list(frames[name].columns),
                         display_path(data_dir / table.file))
    transcripts = (load_transcripts(data_dir, list(frames["participants"]["participant_id"]),
                                    max_bytes) if "segments" in frames else None)
    rules.check_study(frames, seen, data_dir, study_window, transcripts)
    return Study(data_dir=data_dir, frames=frames, transcripts=transcripts)
