# The study as a graph of files. `make` builds the environment and every output of the
# paper; `make test` checks them. `make help` lists every target.
#
# Executing notebooks is delegated to psu_study.runner, which decides by content hash which
# notebooks are stale (make's timestamps decide only whether to ask it), runs kernels in
# parallel itself, and is the only job that writes outputs: `make -j` is safe.

# The project needs Python 3.11 (pyproject's requires-python): checked by version before the
# environment is made, never replaced by whatever python3 is on PATH.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# make's record that the last build succeeded: the runner removes it before running anything
# and writes it only when every notebook succeeded, so a failed or interrupted build is
# never taken for an up-to-date one.
BUILT := build/notebooks.stamp
# What each notebook (and the paper) read, imported and wrote when it last ran, written by the
# runner (as gcc -MMD -MP writes a .d file): the one record of the graph, which make includes
# below. A newer input, or an output edited or deleted by hand, makes make ask the runner.
DEPFILE := build/notebooks.d
# Other data and an output folder outside the repository (make DATA_DIR=... OUT_DIR=...):
# only what is typed on make's command line switches modes. A DATA_DIR or OUT_DIR exported in
# the environment (cluster profiles set such names) is ignored, in one line that says so.
FROM_ENVIRONMENT := $(strip $(foreach name,DATA_DIR OUT_DIR, \
	$(if $(filter environment,$(origin $(name))),$(name))))
ifneq ($(FROM_ENVIRONMENT),)
$(info make: ignoring $(foreach name,$(FROM_ENVIRONMENT),$(name)=$($(name))) from the environment; \
only make's command line switches to other data: make DATA_DIR=... OUT_DIR=...)
$(foreach name,$(FROM_ENVIRONMENT),$(eval override $(name) :=))
unexport $(FROM_ENVIRONMENT)
endif
# A run's folders as every command of the project spells them (the runner, the report, the
# paper, the PDF's check): --data-dir and --out-dir.
RUN_FOLDERS = $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") $(if $(OUT_DIR),--out-dir "$(OUT_DIR)")

# The study's notebooks: the glob mirrors psu_study.notebook_files.NOTEBOOK_GLOB, the runner's
# (tests/test_makefile.py holds the two lists equal).
NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)

# Matplotlib's font cache lives in the environment, so its first-run message never lands
# in a notebook's output.
export MPLCONFIGDIR := $(abspath $(VENV))/mplconfig
# Every interpreter make starts, as every kernel: mirrors psu_study.environment.DETERMINISTIC_ENV
# (tests/test_makefile.py holds the two equal).
export PYTHONHASHSEED := 0
# Python caches compiled bytecode beside the modules it imports, here inside the project's own
# (git-ignored) environment; uv installs none. With PYTHONDONTWRITEBYTECODE set (some shells
# and sandboxes set it) every kernel, test worker and build would compile pandas, matplotlib,
# seaborn and scipy from source again: about 7.5 s instead of 2.5 s of CPU per interpreter
# here, paid by every kernel of every build and test.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.PHONY: all test lint lab help clean clean-env

ifeq ($(strip $(DATA_DIR)$(OUT_DIR)),)
all: $(BUILT) ## Build the environment and every figure, table and executed notebook
else
all: $(STAMP) ## (with DATA_DIR=... OUT_DIR=...: run on other data, write under OUT_DIR)
	$(PY) -m psu_study.runner $(RUN_FOLDERS)
endif

# The environment: uv, from PyPI at the version pinned here, installs exactly the lock
# (`uv pip sync` removes whatever else an earlier environment held) and refuses any package
# whose hash differs from the lock's. The lock is made from pyproject.toml with
#   uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
#     -o requirements.lock
# uv reads no pip configuration: it installs from PyPI (or $UV_INDEX_URL) on any machine.
# The environment is made without pip (ensurepip takes seconds) and Python's own pip puts uv
# into it; a Python whose pip cannot (none, or older than 22.3) gets pip in the venv first.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
# The stamp holds a digest of what an install reads: the lock, and pyproject.toml's
# [build-system], [project] and [tool.setuptools]. An edit to other tool settings ([tool.ruff],
# [tool.pytest...]) leaves the digest as it was: the stamp is touched, nothing reinstalled.
INSTALL_DIGEST := import hashlib, json, tomllib; \
	p = tomllib.load(open("pyproject.toml", "rb")); \
	read = [p.get("build-system"), p.get("project"), p.get("tool", {}).get("setuptools"), \
	        open("requirements.lock", encoding="utf-8").read()]; \
	print(hashlib.sha256(json.dumps(read, sort_keys=True).encode()).hexdigest())
$(STAMP): pyproject.toml requirements.lock
	@version=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	[ "$$version" = 3.11 ] || { echo "Python 3.11 is needed; PYTHON=$(PYTHON) is" \
		"$${version:+Python }$${version:-not found}. Install Python 3.11, or name it:" \
		"make PYTHON=/path/to/python3.11" >&2; exit 1; }
	@digest=$$($(PYTHON) -c '$(INSTALL_DIGEST)') || exit 1; \
	if [ -x $(PY) ] && [ "$$(cat $@ 2>/dev/null)" = "$$digest" ]; then \
		echo "pyproject.toml: only settings no install reads changed; $(VENV) kept"; \
	else \
		set -ex; \
		$(PYTHON) -m venv --without-pip $(VENV); \
		$(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check \
			uv==$(UV_VERSION) \
		|| { $(PYTHON) -m venv $(VENV) && \
		     $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }; \
		$(UV) pip sync --quiet --python $(PY) --require-hashes requirements.lock; \
		$(UV) pip install --quiet --python $(PY) --no-deps -e .; \
		$(PY) -m psu_study.runner.kernel install; \
		$(PY) -c "import matplotlib.pyplot"; \
		echo "$$digest" > $@; \
	fi; \
	touch $@

# Before the first build there is no dependency file and no stamp: the runner runs, decides
# by content hash what is stale (on a fresh clone, nothing) and writes both.
$(BUILT): $(STAMP) $(NOTEBOOKS) requirements.lock
	$(PY) -m psu_study.runner --stamp $@ --depfile $(DEPFILE)
-include $(DEPFILE)

# The paper is the runner's last step (typeset once every notebook succeeded, recorded in
# the manifest and the dependency file like a notebook): `make paper` is the same build as
# `make`, with DATA_DIR/OUT_DIR as given (the paper then goes to OUT_DIR/paper/paper.pdf).
.PHONY: paper
paper: all ## Build every output the paper reads, then paper/paper.pdf (Typst)

lint: $(STAMP) ## ruff over the package, tests, benchmarks, the root conftest and the notebooks
	$(PY) -m ruff check src tests benchmarks conftest.py notebooks

test: $(STAMP) lint ## Lint, unit tests, nbval on every notebook, figure regression
	$(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder --durations=10 \
		tests notebooks \
		--nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

# The edit-test loop: what is marked slow (a kernel, a build, a browser, nbval's notebooks)
# is left out, and each property test draws fewer examples; `make test` runs everything.
# One process: xdist's workers each import and collect everything again, which on two
# cores cost as much as they saved (measured: 18 CPU-s alone, 32 with -n auto).
.PHONY: test-fast
test-fast: $(STAMP) ## Unit and property tests only (no kernel, build or browser): seconds
	$(PY) -m pytest -n auto -p no:nbval -m "not slow" --hypothesis-profile=fast tests

lab: $(STAMP) ## Start JupyterLab on loopback with the project's kernel, opened on notebooks/
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser --ServerApp.root_dir="$(CURDIR)" \
		$(if $(filter 0,$(shell id -u)),--allow-root) \
		--LabApp.default_url=/lab/tree/notebooks

# The report is rebuilt from scratch on every call (it takes seconds): it is generated,
# git-ignored, and its recipe writes nothing outside report/ (OUT_DIR/report/ for a run with
# OUT_DIR, from that run's outputs: nothing of other data lands in the work tree).
.PHONY: report
report: all ## Build the static HTML report into report/ (open report/index.html)
	$(PY) -m psu_study.report $(RUN_FOLDERS)

# verify checks the work tree's outputs against the manifest and rebuilds HEAD in a fresh
# clone under /tmp; bench works on a copy of the work tree: neither writes into this
# repository, so both are safe beside a build (and `make -j`).
.PHONY: verify bench
verify: $(STAMP) ## Check outputs against the manifest and a fresh rebuild of HEAD; name each difference
	$(PY) -m psu_study.runner --verify

bench: $(STAMP) ## Time the build against its floor, papermill, no-op and incremental make, scale
	$(PY) benchmarks/bench.py

clean: ## Remove build/ (make's records, failed notebooks) and report/; outputs are kept
	rm -rf build report

clean-env: ## Remove the environment (outputs are committed and kept)
	rm -rf $(VENV)

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort -u
