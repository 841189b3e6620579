"""The environment variables the project reads and sets, each named once here.

The folder variables and the stage folder are how a notebook learns, from whatever started
its kernel (the runner, papermill, nbval, JupyterLab), where to read and write; the others
make every interpreter that writes an output give the same bytes.
"""

from __future__ import annotations

PREFIX = "PSU_STUDY_"
"""Every variable of the project's own starts so: a test or a benchmark that starts a build
of its own removes them all from what it inherits."""

FOLDER_ENV = {"data_dir": "PSU_STUDY_DATA_DIR", "figures_dir": "PSU_STUDY_FIGURES_DIR",
              "tables_dir": "PSU_STUDY_TABLES_DIR"}
"""Each folder parameter and the variable that sets it when the parameter is left as None
(JupyterLab, nbval, and the runner, which hands its folders to the kernels so)."""

STAGE_ENV = "PSU_STUDY_STAGE_DIR"
"""Set by the runner (and the tests' nbval): the folder a notebook's outputs are staged in
(``staging``)."""

PLAIN_KERNELS_ENV = "PSU_STUDY_PLAIN_KERNELS"
"""Set (to anything) to start every kernel plainly, never forked (``compat``)."""

DETERMINISTIC_ENV = {"PYTHONHASHSEED": "0"}
"""A fixed hash seed: set ordering, and so every output, the same in every interpreter. The
Makefile exports the same (tests/test_makefile.py holds the two equal)."""

KERNEL_ENV = {**DETERMINISTIC_ENV, "MPLBACKEND": "agg"}
"""Every kernel's: ``DETERMINISTIC_ENV`` and a backend that opens no window. Both are read
once, when an interpreter starts or matplotlib is imported, so the fork server starts with
them too."""


def without_folders(env: dict[str, str]) -> dict[str, str]:
    """``env`` less the folder variables: a kernel or a rebuild is given its own folders, never
    the ones a user's shell exported."""
    return {k: v for k, v in env.items() if k not in FOLDER_ENV.values()}
