"""``python -m psu_study.runner``."""

import sys

from .cli import main

sys.exit(main())
