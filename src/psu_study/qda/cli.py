"""``python -m psu_study.qda PROJECT --out-dir FOLDER``: import a project from the shell, one
line on any failure."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import NoReturn

from ..loader import clip_message
from ..paths import display_path
from .archive import QdaError
from .importer import import_project
from .offsets import OFFSET_NAMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Import a REFI-QDA project (.qdpx or .qde) into data-contract files.",
        allow_abbrev=False)
    parser.add_argument("project", type=Path, help="the .qdpx (or bare .qde) to import")
    parser.add_argument("--out-dir", type=Path, required=True,
                        help="the data folder to write")
    parser.add_argument("--participants", type=Path, default=None,
                        help="CSV source_name,participant_id (or an import's sources.csv) "
                        "overriding the naming rules")
    parser.add_argument("--auto-map", action="store_true",
                        help="number the coded sources the map does not place in document "
                        "order (P<n> for the n-th), ignoring their names; written to "
                        "sources.csv to check")
    parser.add_argument("--offsets", choices=OFFSET_NAMES, default=None,
                        help="read selection positions this way instead of detecting it")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --out-dir, replacing what an import writes "
                        "there and keeping every other file")
    args = parser.parse_args(argv)
    # A kill (SIGTERM) unwinds like Ctrl-C, so the staged files are removed and an
    # interrupted swap puts the old ones back.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        report = import_project(args.project, args.out_dir, args.participants,
                                overwrite=args.overwrite, auto_map=args.auto_map,
                                offsets=args.offsets)
    except QdaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: {display_path(args.out_dir)}: import interrupted; nothing was written",
              file=sys.stderr)
        return 130
    except Exception as exc:  # the last guard: whatever the input, one line, no traceback
        print(f"error: {display_path(args.project)}: cannot be imported "
              f"({type(exc).__name__}: {clip_message(str(exc))}); this is a bug in "
              "psu_study.qda, please report it", file=sys.stderr)
        return 3
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(report.summary())
    return 0


def _interrupt(signum: int, frame: object) -> NoReturn:  # noqa: ARG001 - a handler's signature
    raise KeyboardInterrupt
