"""``make verify``: a clean rebuild of HEAD in a fresh clone, compared file by file with what
is committed. Each test works on its own small git repository under pytest's temporary
folder (the work tree's tracked files, one notebook), never on this repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from psu_study.environment import PLAIN_KERNELS_ENV, PREFIX
from psu_study.notebook_files import notebook_paths

pytestmark = pytest.mark.slow  # rebuilds in fresh clones

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_recruitment"


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid",
                           *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout


def runner(folder: Path, *args: str, plain: bool = False) -> subprocess.CompletedProcess[str]:
    """The runner of ``folder``'s own package, as ``make`` would start it there (``plain``:
    with plainly started kernels, as outside the library versions it forks for)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env["PYTHONPATH"] = str(folder / "src")
    if plain:
        env[PLAIN_KERNELS_ENV] = "1"
    return subprocess.run([sys.executable, "-m", "psu_study.runner", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


def make_repo(root: Path, extra_cell: str | None = None) -> Path:
    """A git repository holding the work tree's tracked files with only ``NOTEBOOK`` (plus
    ``extra_cell`` after its imports), built from scratch and committed: its outputs are
    what its code makes, as a maintainer would commit them."""
    repo = root / "repo"
    listed = git(REPO, "ls-files", "-z").split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, repo / name)
    for path in notebook_paths(repo / "notebooks"):
        if path.stem != NOTEBOOK:
            path.unlink()
    shutil.rmtree(repo / "paper")  # the paper needs every notebook's outputs
    if extra_cell is not None:
        path = repo / "notebooks" / f"{NOTEBOOK}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        first_code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"][1]
        nb["cells"].insert(first_code + 1, {"cell_type": "code", "execution_count": None,
                                            "id": "added", "metadata": {}, "outputs": [],
                                            "source": extra_cell})
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    git(repo, "init", "--quiet")
    # Built in plainly started kernels (the runner's fallback); --verify's clean rebuild
    # forks them, so a repository that verifies shows the two give the same bytes.
    built = runner(repo, "--force", plain=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert [line for line in built.stdout.splitlines() if "warning" in line] == [
        f"  warning: plain kernels (slower, same outputs): {PLAIN_KERNELS_ENV} is set"]
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "built")
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("verify"))


def test_a_consistent_repository_verifies(repo: Path):
    """Built in plain kernels, rebuilt from scratch by --verify in forked ones: the same
    bytes, every output (the fallback ``compat`` promises, byte for byte).

    docs/architecture.md, section Forked kernels: "Outside the library versions `runner/compat.py`
    was written for, the runner falls back to plain kernels"."""
    result = runner(repo, "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: work tree vs manifest: no difference" in result.stdout
    assert "a clean rebuild gives the committed bytes" in result.stdout
    assert git(repo, "status", "--porcelain") == "", "verify leaves the repository untouched"


@pytest.mark.slow
def test_a_hand_edited_output_in_the_work_tree_is_named_by_the_manifest_check(repo: Path,
                                                                             tmp_path: Path):
    """HEAD is consistent, so a fresh rebuild of it finds nothing; a table edited by hand
    and a figure deleted in the work tree (not committed) are named by the other check, the
    work tree against the sha256 the manifest records."""
    copy = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(repo), str(copy)], check=True)
    table = copy / "tables" / "recruitment_stages.csv"
    table.write_text(table.read_text().replace("20", "21", 1))
    (copy / "figures" / "recruitment_flow.png").unlink()
    result = runner(copy, "--verify")
    assert result.returncode == 1, result.stdout + result.stderr
    differs = [line for line in result.stdout.splitlines() if "DIFFERS" in line]
    assert [line.split()[1] for line in differs] == ["figures/recruitment_flow.png:",
                                                     "tables/recruitment_stages.csv:"]
    assert all(line.endswith("[work tree vs manifest]") for line in differs), differs
    assert "missing" in differs[0] and "edited since it was built" in differs[1], differs
    assert "verify: work tree vs manifest: 2 difference(s)" in result.stdout
    assert "verify: fresh rebuild of HEAD vs HEAD: no difference" in result.stdout


UNSEEDED_FIGURE = """\
import numpy as np

_plot_flow = recruitment.plot_flow


def plot_flow(counts):
    fig = _plot_flow(counts)
    # A new place every run, kept clear of the other texts and the edges: the figure check
    # passes it, so only the bytes differ.
    fig.text(0.05 * np.random.default_rng().random(), 0.5, "unseeded")
    return fig


recruitment.plot_flow = plot_flow
"""


def test_each_committed_output_a_clean_rebuild_does_not_make_is_named(tmp_path: Path):
    """Determinism is checked, not assumed: a notebook cell that draws an unseeded random
    number into its figure, and a table edited by hand after the build. ``--verify`` names
    exactly: the figure's two files, the notebook that shows the figure, the manifest that
    records both, and the table with its line.

    docs/development.md, section What the suite holds: "`make verify` makes two checks ... every
    file that then differs from the committed one named ... It exits non-zero on any difference";
    "catching an unseeded random draw in a figure"."""
    repo = make_repo(tmp_path, extra_cell=UNSEEDED_FIGURE)
    table = repo / "tables" / "recruitment_stages.csv"
    table.write_text(table.read_text().replace("20", "21", 1))
    git(repo, "commit", "--quiet", "--all", "-m", "an edit by hand")
    result = runner(repo, "--verify")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if "DIFFERS" in line]
    rebuilt = {line.split()[1].rstrip(":"): line for line in lines
               if line.endswith("[fresh rebuild of HEAD vs HEAD]")}
    assert sorted(rebuilt) == ["figures/recruitment_flow.pdf", "figures/recruitment_flow.png",
                               "notebooks/01_recruitment.ipynb", "tables/manifest.json",
                               "tables/recruitment_stages.csv"], result.stdout
    assert "tables/recruitment_stages.csv: line " in rebuilt["tables/recruitment_stages.csv"]
    # The edited table no longer has the sha256 its (committed) manifest records either.
    in_work_tree = [line.split()[1] for line in lines
                    if line.endswith("[work tree vs manifest]")]
    assert in_work_tree == ["tables/recruitment_stages.csv:"], result.stdout
    assert len(lines) == len(rebuilt) + len(in_work_tree), result.stdout
    assert git(repo, "status", "--porcelain") == ""
