"""``python -m psu_study.qda``: see ``cli``."""

import sys

from .cli import main

sys.exit(main())
