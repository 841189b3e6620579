"""Loaded by every pytest run before the plugins it finds installed (pyproject's ``addopts``:
``-p tests.startup``), so before nbval imports nbformat and with it jsonschema: the same
skipped optional import as the runner's (``compat.skip_slow_optional_imports``), which
otherwise costs each pytest process, the controller and every xdist worker, about 1.4 s."""

from psu_study.runner.compat import skip_slow_optional_imports

skip_slow_optional_imports()
