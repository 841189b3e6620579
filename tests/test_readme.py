"""Claims of README.md that no other test held, each checked here on the committed project
(fast: no kernel, no build). Each test names the README section and quotes the claim; a
claim held elsewhere names this README reference in that test's docstring instead
(``grep -rn "README, section" tests``)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import nbformat
import pypdf
import pytest

from psu_study.paths import (
    FIGURES_DIR,
    NOTEBOOKS_DIR,
    PAPER_DIR,
    PAPER_SOURCE,
    REPO_ROOT,
    TABLES_DIR,
)

from .conftest import executed, run_make

MANIFEST = json.loads((TABLES_DIR / "manifest.json").read_text(encoding="utf-8"))


def make_dry(*args: str) -> str:
    """What ``make`` would run (``-n``: nothing runs), with the environment taken as built."""
    result = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed",
                             *args], capture_output=True, text=True, cwd=REPO_ROOT,
                            timeout=60, check=True)
    return result.stdout


def test_make_help_lists_every_target():
    """README, section Two commands: "`make help` lists the other targets"."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    phony = {name for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
             for name in line.split()}
    listed = subprocess.run(["make", "--no-print-directory", "help"], capture_output=True,
                            text=True, cwd=REPO_ROOT, timeout=60, check=True).stdout
    shown = {line.split()[0] for line in listed.splitlines() if line.strip()}
    assert len(phony) >= 5
    assert phony <= shown, sorted(phony - shown)


def test_make_lab_starts_jupyterlab_on_loopback_opened_on_the_notebooks():
    """README, section Exploring and reading the report: "`make lab` starts JupyterLab on
    `127.0.0.1` with the project's kernel (`Python (psu-study)`), opened on `notebooks/`".
    The kernel itself is the one the environment installs (.venv's kernelspec;
    tests/test_kernel_transport.py starts it by that name)."""
    command = make_dry("lab")
    assert "jupyter lab" in command
    assert "--ip=127.0.0.1" in command
    assert "default_url=/lab/tree/notebooks" in command


def test_make_test_runs_pytest_over_two_xdist_workers_file_by_file():
    """README, section Tests: pytest "with pytest-xdist (`-n auto --dist loadfile`: ... each
    file stays on one worker)" and "prints the ten slowest tests"; ruff first.

    README, section Two commands: "ruff, the whole test suite, nbval on every notebook"."""
    command = make_dry("test")
    assert command.index("ruff check") < command.index("-m pytest")
    assert re.search(r"-m pytest -n auto --dist loadfile\b", command)
    assert "--durations=10" in command and "--nbval" in command


def test_the_makefile_unexports_pythondontwritebytecode():
    """docs/performance.md, section Performance: "The Makefile unexports
    `PYTHONDONTWRITEBYTECODE`"."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^unexport PYTHONDONTWRITEBYTECODE$", makefile, re.MULTILINE)


def test_the_lock_says_how_it_was_made_from_pyproject():
    """The lock is made from pyproject.toml with the command written at its top
    (``uv pip compile ... --generate-hashes``)."""
    head = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()[:3]
    command = next(line for line in head if "uv pip compile" in line)
    assert "pyproject.toml" in command and "--generate-hashes" in command
    assert "-o requirements.lock" in command


# The outputs the README's table gives each notebook (section What it computes), by name.
OUTPUTS = {
    "01_recruitment": ["figures/recruitment_flow", "tables/recruitment_stages",
                       "tables/recruitment_rates"],
    "02_participants": ["figures/participants_female_share",
                        "tables/participants_female_share", "tables/table1_training_roles"],
    "03_interviews": ["figures/interview_durations", "figures/interview_timeline",
                      "tables/interviews"],
    "04_themes": ["figures/themes_heatmap", "figures/thematic_map", "tables/themes_prevalence",
                  "tables/table2_quotations"],
    "05_agreement": ["figures/agreement", "tables/agreement_participant",
                     "tables/agreement_character", "tables/codebook.qdc", "tables/coding.qdpx"],
    "06_claims": ["tables/claims"],
    "07_explore": [],
}


def outputs_of(notebook: str) -> set[str]:
    return set(MANIFEST["notebooks"][notebook]["outputs"])


def test_each_notebook_writes_the_outputs_the_readme_names():
    """README, section What it computes: the table's "outputs" column, notebook by notebook
    ("`07_explore` ... nothing: an interactive companion"); README, section What it computes:
    "Figures are written as 300 dpi PNG and PDF; tables as CSV, Markdown and LaTeX" (the dpi:
    tests/test_figures.py)."""
    assert set(MANIFEST["notebooks"]) == set(OUTPUTS)
    for notebook, names in OUTPUTS.items():
        written = outputs_of(notebook)
        for name in names:
            if "." in name.split("/")[-1]:  # a file named with its extension (REFI-QDA)
                expected = {name}
            elif name.startswith("figures/"):
                expected = {f"{name}.png", f"{name}.pdf"}
            else:
                expected = {f"{name}.csv", f"{name}.md", f"{name}.tex"}
            assert expected <= written, (notebook, sorted(expected - written))
    figures_or_tables = {k for k in outputs_of("07_explore") if not k.startswith("notebooks/")}
    assert figures_or_tables == set()


def test_the_manifest_records_what_the_readme_says():
    """docs/architecture.md, section How a build runs: "`tables/manifest.json` records, for every
    output, its sha256, the notebook that wrote it, the data files it read (with their sha256), its
    parameters and the versions of Python and the key packages"; README, section What it
    computes: "`tables/manifest.json` records, for every output, its sha256, the notebook that
    wrote it, the data files it read and the versions of the key packages"."""
    for notebook, entry in MANIFEST["notebooks"].items():
        assert entry["notebook"] == f"notebooks/{notebook}.ipynb"
        assert entry["parameters"] == {}  # the default run: the notebooks as committed
        for key, digest in entry["outputs"].items():
            path = REPO_ROOT / key
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, key
        for key, digest in entry["reads"].items():
            path = REPO_ROOT / key if not key.startswith("repo/") else REPO_ROOT / key[5:]
            expected = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() \
                else "absent"
            assert digest == expected, key
    assert any(key.startswith("data/") for key in MANIFEST["notebooks"]["01_recruitment"]
               ["reads"])
    environment = MANIFEST["environment"]
    assert re.fullmatch(r"3\.\d+\.\d+", environment["python"])
    assert {"pandas", "matplotlib", "scipy"} <= set(environment["packages"])


def test_numbers_go_to_json_and_to_latex_macros_under_stable_keys():
    """README, section What it computes: "Headline numbers go under stable keys to
    `tables/numbers.json` and, as LaTeX macros, to `tables/numbers.tex`" (the naming rule:
    tests/test_numbers_tex.py)."""
    numbers = json.loads((TABLES_DIR / "numbers.json").read_text(encoding="utf-8"))
    assert numbers["n_contacted"] == 20
    assert r"\newcommand{\nContacted}{20}" in (TABLES_DIR / "numbers.tex").read_text(
        encoding="utf-8")
    assert MANIFEST["combined"]["tables/numbers.json"] == hashlib.sha256(
        (TABLES_DIR / "numbers.json").read_bytes()).hexdigest()


def test_the_readmes_images_are_committed_figures():
    """README: every figure it shows (`![...](figures/...)`) is a committed output."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", readme)
    assert shown
    for name in shown:
        assert (FIGURES_DIR.parent / name).is_file(), name


def test_the_published_quotations_are_23_and_22_name_their_participant(study):
    """README, introduction: "the 23 quotations of the Results, 22 of them attributed to a
    participant" (the article's Results; the one left is attributed to "one participant",
    so its participant_id is marked synthetic). That each is verbatim in the article:
    tests/test_article_text.py."""
    published = study.segments[study.segments["provenance"].str.startswith("published")]
    assert len(published) == 23
    placed = published["provenance"].str.contains(r"synthetic:[^)]*participant_id")
    assert (~placed).sum() == 22


def test_uv_is_pinned_in_the_makefile_and_typst_comes_from_the_lock():
    """README, section Two commands: "The first step puts uv (pinned in the Makefile) into
    `.venv`"; README, section The paper: "with Typst from the `typst` wheel in the lock (no TeX,
    no Node)"."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^UV_VERSION := \d+\.\d+\.\d+$", makefile, re.MULTILINE)
    assert "uv==$(UV_VERSION)" in makefile
    lock = (REPO_ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"^typst==\S+ \\$", lock, re.MULTILINE)


def test_the_paper_has_the_parts_the_readme_lists():
    """README, section The paper: "a structured abstract, Methods ... Results with every figure and
    Tables 1 and 2, a Discussion ... the claims ledger (Appendix A) and the COREQ checklist" (every
    figure, and the 32 COREQ items: tests/test_paper.py)."""
    reader = pypdf.PdfReader(PAPER_DIR / "paper.pdf")
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    abstract = text[:text.index("1 Introduction")]
    order = [abstract.index(f"{part}. ") for part in
             ("Background", "Methods", "Results", "Conclusions")]
    assert order == sorted(order)
    for heading in ("Methods", "Results", "Discussion"):
        assert re.search(rf"\d {heading} ", text), heading
    assert "Table 1: " in text and "Table 2: " in text
    assert text.index("A The claims ledger") < text.index("B COREQ checklist")


def test_explore_keeps_interactive_off_and_shows_the_binomial_tail():
    """README, section Exploring and reading the report: "vary the base rate and sample size to see
    how surprising an all-female sample is"; README, section Exploring and reading the report:
    "the committed notebook keeps it `False`" (``interactive``)."""
    nb = nbformat.read(NOTEBOOKS_DIR / "07_explore.ipynb", as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r"^interactive = False$", parameters.source, re.MULTILINE)
    assert round((259 / 397) ** 8, 3) == 0.033  # by hand, as the README rounds it
    shown = re.findall(r"0\.03\d+", json.dumps([c.get("outputs", []) for c in nb.cells]))
    assert shown and {round(float(v), 3) for v in shown} == {0.033}


IMPORTS = """
import importlib, json, pkgutil, sys
from psu_study.runner import compat
compat.skip_slow_optional_imports()  # as the runner does before it reads any notebook
import nbformat
from psu_study import disclosure
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
disclosure.scan_notebook(nb, "notebooks/03_interviews.ipynb", (), ())
scanned = sorted(m for m in ("pandas", "rfc3987_syntax") if sys.modules.get(m) is not None)
import psu_study
for found in pkgutil.walk_packages(psu_study.__path__, "psu_study."):
    if not found.name.endswith(("__main__", "pytest_startup")):
        importlib.import_module(found.name)
heavy = ("seaborn", "matplotlib.pyplot", "scipy.stats", "statsmodels")
print(json.dumps([scanned, sorted(m for m in heavy if m in sys.modules)]))
"""


def test_heavy_imports_wait_until_they_are_used():
    """docs/performance.md: "the fork server imports only what the notebooks it runs need (no
    seaborn and no pyplot: the two heatmaps import seaborn, and pyplot with it, when they
    draw), scipy.stats and statsmodels load only where they are used, the runner scans
    executed notebooks without importing pandas", and "the runner does not import
    `rfc3987_syntax`". In a fresh interpreter: the runner's scan
    of an executed notebook (validated as nbformat validates it), then every module of the
    package imported, without calling them."""
    result = subprocess.run([sys.executable, "-c", IMPORTS,
                             str(NOTEBOOKS_DIR / "03_interviews.ipynb")],
                            capture_output=True, text=True, timeout=120, check=True)
    scanned, heavy = json.loads(result.stdout)
    assert scanned == []
    assert heavy == []


@pytest.mark.slow
def test_editing_the_papers_source_retypesets_it_and_reruns_no_notebook(repo_copy):
    """README, section The paper: "editing `paper/paper.typ` retypesets the paper and reruns
    no notebook"."""
    source = repo_copy / PAPER_SOURCE.relative_to(REPO_ROOT)
    before = (repo_copy / "paper" / "paper.pdf").read_bytes()
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace("= Discussion <sec-discussion>",
                                   "= Discussion, edited <sec-discussion>", 1),
                      encoding="utf-8")
    assert source.read_text(encoding="utf-8") != text
    result = run_make(repo_copy)
    assert result.returncode == 0, result.stderr[-2000:]
    assert executed(result) == []
    assert "typeset paper/paper.pdf" in result.stdout, result.stdout
    assert (repo_copy / "paper" / "paper.pdf").read_bytes() != before


def test_make_test_fast_runs_the_tests_not_marked_slow():
    """README, section More documentation: "the test tiers (`make test-fast`)";
    docs/development.md, section Make targets: "`make test-fast` | the fast tier: unit and
    property tests, no kernel, browser or build"."""
    command = make_dry("test-fast")
    assert re.search(r'-m pytest -n auto -p no:nbval -m "not slow" .*tests$', command,
                     re.MULTILINE), command
    assert "ruff" not in command and "--nbval" not in command
