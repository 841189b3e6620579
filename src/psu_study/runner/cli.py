"""``python -m psu_study.runner``: the command make runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..data_folder import DataDirError, check_data_dir
from ..paths import DATA_DIR
from ..run_folders import FoldersError, add_folder_options
from .build import build
from .interrupts import BuildInterrupted
from .layout import BuildError
from .verify import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the study's notebooks.",
                                     allow_abbrev=False)
    add_folder_options(parser, "the data to build from; default: data/",
                       "where other data's outputs go (outside the repository); default: "
                       "the repository's folders")
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="kernels at once (default: one per core)")
    parser.add_argument("--force", action="store_true", help="execute every notebook")
    parser.add_argument("--dry-run", "-n", action="store_true",
                        help="say what would run, run nothing")
    parser.add_argument("--stamp", type=Path, default=None,
                        help="make's target: removed first, written when every notebook "
                             "succeeded")
    parser.add_argument("--depfile", type=Path, default=None,
                        help="write make's dependency file for --stamp here")
    parser.add_argument("--verify", action="store_true",
                        help="name every output that differs: work tree vs manifest, and a "
                             "fresh rebuild of HEAD vs HEAD")
    args = parser.parse_args(argv)
    if args.verify:
        return verify(args.jobs)
    started = time.perf_counter()
    try:
        check_data_dir(args.data_dir or DATA_DIR)
    except DataDirError as exc:
        print(f"build refused: {exc}", file=sys.stderr)
        return 1
    try:
        executed = build(args.data_dir, args.out_dir, args.jobs, args.force, args.dry_run,
                         args.stamp, args.depfile)
    except BuildInterrupted as exc:
        print(f"build {exc}", file=sys.stderr)
        return 128 + exc.signum
    except (BuildError, FoldersError) as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    if not args.dry_run:
        print(f"  {executed} notebook(s) executed in {time.perf_counter() - started:.1f} s")
    return 0
