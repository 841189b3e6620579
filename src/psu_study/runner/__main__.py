"""``python -m psu_study.runner``."""

import signal

# First: a signal while the modules below import is an interrupt too (held until the
# handlers are in place).
signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGINT, signal.SIGTERM))

import sys  # noqa: E402

from . import interrupts  # noqa: E402

interrupts.catch()


def _main() -> int:
    from .cli import main

    return main()


sys.exit(interrupts.main(_main))
