# The study as a graph of files. `make` builds the environment and every output of the
# paper; `make test` checks them. `make help` lists every target.
#
# Executing notebooks is delegated to psu_study.build, which decides by content hash which
# notebooks are stale (make's timestamps decide only whether to ask it), runs kernels in
# parallel itself, and is the only job that writes outputs: `make -j` is safe.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANIFEST := tables/manifest.json
PAPER := paper/paper.pdf
PAPER_SOURCES := paper/paper.typ $(wildcard src/psu_study/manuscript.py src/psu_study/quantifiers.py)
DATA_DIR ?=
OUT_DIR ?=

NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
DATA_FILES := $(shell find data -type f -not -name '*.md' 2>/dev/null)
SRC_FILES := $(shell find src/psu_study -type f -not -path '*/__pycache__/*' 2>/dev/null)

# Matplotlib's font cache lives in the environment, so its first-run message never lands
# in a notebook's output.
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/mplconfig
export PYTHONHASHSEED := 0

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# The manifest is rewritten by a partly failed build and must survive it.
.PRECIOUS: $(MANIFEST)
.PHONY: all test lab help clean-env

ifeq ($(strip $(DATA_DIR)$(OUT_DIR)),)
all: $(MANIFEST) $(PAPER) ## Build the environment and every figure, table, executed notebook and the paper
else
all: $(STAMP) ## (with DATA_DIR=... OUT_DIR=...: run on other data, write under OUT_DIR)
	$(PY) -m psu_study.build $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") $(if $(OUT_DIR),--out-dir "$(OUT_DIR)")
	$(PY) -m psu_study.manuscript $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") --out-dir "$(OUT_DIR)"
endif

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m psu_study.kernel install
	$(PY) -c "import matplotlib.pyplot"
	touch $@

$(MANIFEST): $(STAMP) $(NOTEBOOKS) $(DATA_FILES) $(SRC_FILES) requirements.lock
	$(PY) -m psu_study.build

# The paper reads the built outputs directly; its recipe records it in the manifest, then
# writes the PDF last, so the PDF is newer than the manifest and a second make does nothing.
.PHONY: paper
paper: $(PAPER) ## Typeset the manuscript paper/paper.pdf with Typst from the built outputs
$(PAPER): $(MANIFEST) $(PAPER_SOURCES)
	$(PY) -m psu_study.manuscript

test: $(STAMP) ## Lint, unit tests, nbval on every notebook, figure regression
	$(PY) -m ruff check src tests
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

lab: $(STAMP) ## Start JupyterLab on loopback with the project's kernel, opened on notebooks/
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser --ServerApp.root_dir="$(CURDIR)" \
		$(if $(filter 0,$(shell id -u)),--allow-root) \
		--LabApp.default_url=/lab/tree/notebooks

# The report is rebuilt from scratch on every call (it takes seconds): it is generated,
# git-ignored, and its recipe writes nothing outside report/.
.PHONY: report
report: $(STAMP) $(MANIFEST) ## Build the static HTML report into report/ (open report/index.html)
	$(PY) -m psu_study.report --out report

# verify rebuilds HEAD in a fresh clone under /tmp and bench works on a copy of the work
# tree: neither writes into this repository, so both are safe beside a build (and `make -j`).
.PHONY: verify bench
verify: $(STAMP) ## Rebuild HEAD from scratch in a fresh clone; fail naming each output that differs
	$(PY) -m psu_study.build --verify

bench: $(STAMP) ## Time the build against its floor, papermill, no-op and incremental make, scale
	$(PY) benchmarks/bench.py

clean-env: ## Remove the environment (outputs are committed and kept)
	rm -rf $(VENV)

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort -u
