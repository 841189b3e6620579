"""pytest started as the runner starts: loaded by every pytest run of this project before the
plugins it finds installed (pyproject's ``addopts``: ``-p psu_study.runner.pytest_startup``;
a module of the installed package, so it is found whatever the folder and however pytest is
started), so before nbval imports nbformat and with it jsonschema. It skips the same optional
import as the runner does (``compat.skip_slow_optional_imports``), which otherwise costs each
pytest process, the controller and every xdist worker, about 1.4 s."""

from .compat import skip_slow_optional_imports

skip_slow_optional_imports()
