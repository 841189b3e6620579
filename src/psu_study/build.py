"""``python -m psu_study.build``: the former name of ``python -m psu_study.runner``, kept for
the scripts and tests that still call it."""

import sys

from .runner.cli import main

if __name__ == "__main__":
    sys.exit(main())
