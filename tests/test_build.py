"""The build as make runs it: refusals, a clean build, incremental rebuilds, the dependency
file make and the runner share, and figure regression (failures and interrupts:
``test_build_failures.py``).

Builds run in copies of the project under pytest's temporary folder (``built_repo``, built
once per session, and private copies of it), never in the repository.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from psu_study.notebook_files import notebook_paths
from psu_study.paths import REPO_ROOT
from psu_study.runner.layout import BuildError, layout

from .conftest import DATA, copy_env, executed, make_command, run_make

NOTEBOOKS = sorted(p.stem for p in notebook_paths())


def runner(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The copy's runner asked directly, as make would not."""
    return subprocess.run([sys.executable, "-m", "psu_study.runner", *args], cwd=repo,
                          env=copy_env(repo), capture_output=True, text=True, timeout=600)


def would_run(repo: Path) -> list[str]:
    """What the runner, asked directly, finds stale."""
    result = runner(repo, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted(line.split()[1].rstrip(":") for line in result.stdout.splitlines()
                  if line.strip().startswith("run "))


def make_is_current(repo: Path) -> bool:
    return subprocess.run(make_command(repo, "-q"), env=copy_env(repo)).returncode == 0


def manifest(repo: Path) -> dict:
    return json.loads((repo / "tables" / "manifest.json").read_text())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_out_dir_inside_the_repository_is_refused():
    """README, section Running on your own data: "whose output folders are inside the repository is
    refused before anything is written"."""
    with pytest.raises(BuildError, match="inside the repository"):
        layout(DATA, REPO_ROOT / "out")


def test_other_data_without_out_dir_is_refused(data_copy):
    """Other data without an OUT_DIR is refused."""
    with pytest.raises(BuildError, match="needs OUT_DIR"):
        layout(data_copy, None)


def test_a_fresh_clone_runs_nothing_and_then_nothing(built_repo, repo_copy):
    """The committed outputs are current: ``make`` on a fresh clone (the tracked files,
    conftest's ``built_repo``) runs no notebook and typesets nothing, and then has nothing to
    do. (A build from nothing runs every notebook: tests/test_second_study.py.)

    README, section Two commands: "A second `make` does nothing"."""
    log = (built_repo.parent / "built-repo.log").read_text()
    ran = [line for line in log.splitlines() if line.strip().startswith(("done ", "typeset"))]
    assert ran == [], f"the work tree's outputs are stale (run make): {log}"
    assert sorted(manifest(built_repo)["notebooks"]) == NOTEBOOKS
    again = run_make(repo_copy)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout, again.stdout
    assert would_run(repo_copy) == [], "make and the runner agree: nothing is stale"


def test_a_data_change_reruns_only_its_readers(repo_copy):
    """README, section Two commands: "`make` reruns only what is stale"."""
    # By hand, from the notebooks' cells: 03_interviews alone loads interviews.csv
    # (open_study(..., tables=["interviews"])); 06_claims reads every notebook's numbers,
    # which 03 writes again. Not read from the manifest: a runner that forgot to record a
    # read would write a manifest that agreed with it.
    readers = ["03_interviews", "06_claims"]
    edit(repo_copy / "data" / "interviews.csv", ",telephone,42,", ",telephone,43,")
    assert would_run(repo_copy) == ["03_interviews"]  # 06 waits for 03's numbers
    assert not make_is_current(repo_copy)
    changed = run_make(repo_copy)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert executed(changed) == readers
    # A duration is in a figure and a table the paper reads: it is typeset again.
    assert "typeset paper/paper.pdf (outputs of 03_interviews" in changed.stdout, changed.stdout
    assert make_is_current(repo_copy) and would_run(repo_copy) == []


def test_editing_the_ledger_reruns_the_claims_notebook_and_fails_it(repo_copy):
    """The ledger is read by 06_claims alone: a published value the data contradict (the
    article's 20 contacted, Methods > Participants and recruitment, changed to 21) reruns
    it, and it fails naming the claim, again on the next make.

    README, section Two commands: "A failed build ... fails again on the next `make` until its
    cause is fixed"."""
    edit(repo_copy / "claims" / "ledger.yaml", 'published: "20"', 'published: "21"')
    assert would_run(repo_copy) == ["06_claims"] and not make_is_current(repo_copy)
    for _ in range(2):
        result = run_make(repo_copy)
        assert result.returncode == 2, result.stdout + result.stderr
        assert executed(result) == [] and "FAILED 06_claims" in result.stdout
        assert "recruitment.contacted" in result.stdout, result.stdout


def test_editing_the_report_template_or_css_reruns_no_notebook(repo_copy):
    """docs/architecture.md, section How a build runs: "editing the report's template reruns no
    notebook"."""
    templates = repo_copy / "src" / "psu_study" / "templates"
    for path in (templates / "site.css", templates / "index.html.j2"):
        path.write_text(path.read_text() + "\n/* edited */\n")
    assert make_is_current(repo_copy), "make sees nothing stale"
    assert would_run(repo_copy) == [], "nor does the runner"


def test_editing_themes_reruns_exactly_the_notebooks_importing_it(repo_copy):
    """docs/architecture.md, section How a build runs: "editing `themes.py` reruns exactly the
    notebooks that import it"."""
    # 04_themes imports psu_study.themes; 05_agreement imports psu_study.agreement, which
    # imports themes; 07_explore imports psu_study.explore, which imports themes. The other
    # notebooks import neither, directly or through another module.
    importers = ["04_themes", "05_agreement", "07_explore"]
    path = repo_copy / "src" / "psu_study" / "themes.py"
    path.write_text(path.read_text() + "\n# edited\n")
    assert would_run(repo_copy) == importers and not make_is_current(repo_copy)
    result = run_make(repo_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert executed(result) == importers
    # The outputs are the same bytes, but the paper imports themes.py too.
    assert "typeset paper/paper.pdf (changed: repo/src/psu_study/themes.py)" in result.stdout, \
        result.stdout
    assert make_is_current(repo_copy)


def test_adding_an_optional_disclosure_list_makes_its_readers_stale(repo_copy):
    """A notebook that looked for data/disclosure/names.txt and found none is stale once the
    analyst adds one: its outputs must be scanned for the new names. Every notebook writes
    through an output writer (context.writer, through open_study or open_outputs), which
    looks for the list: all seven, by hand, not from the manifest the runner wrote.

    docs/architecture.md, section How a build runs: "the files it read (data, the claims ledger,
    disclosure lists, the merged numbers)"."""
    lookers = ["01_recruitment", "02_participants", "03_interviews", "04_themes",
               "05_agreement", "06_claims", "07_explore"]
    assert make_is_current(repo_copy) and would_run(repo_copy) == []
    (repo_copy / "data" / "disclosure").mkdir()
    (repo_copy / "data" / "disclosure" / "names.txt").write_text("Okafor\n")
    assert not make_is_current(repo_copy)
    assert would_run(repo_copy) == lookers


def test_the_lock_reruns_every_notebook(repo_copy):
    """docs/architecture.md, section How a build runs: "the project's modules it imports ... and
    the lock".

    README, section Two commands: "a notebook whose cells, data, imported modules or lock
    changed"."""
    path = repo_copy / "requirements.lock"
    path.write_text(path.read_text() + "\n")
    assert would_run(repo_copy) == NOTEBOOKS


def test_numbers_reader_reruns_when_a_notebook_newly_writes_numbers(repo_copy):
    """The second wave starts once the notebooks that wrote numbers last time are done. If
    another notebook turns out to write numbers too, the runner merges them again and runs
    the second wave again, so every build ends consistent: here 03_interviews is recorded as
    writing none, and an interview's length changes so its numbers do."""
    manifest_path = repo_copy / "tables" / "manifest.json"
    recorded = manifest(repo_copy)
    del recorded["notebooks"]["03_interviews"]["outputs"]["tables/numbers/03_interviews.json"]
    manifest_path.write_text(json.dumps(recorded))
    edit(repo_copy / "data" / "interviews.csv", ",telephone,42,", ",telephone,43,")
    result = run_make(repo_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert executed(result) == ["03_interviews", "06_claims"]
    # 06 merges the notebooks' numbers itself: what it read last is every fragment as it is.
    reads = manifest(repo_copy)["notebooks"]["06_claims"]["reads"]
    fragments = {k: v for k, v in reads.items() if k.startswith("tables/numbers/")}
    assert "tables/numbers/03_interviews.json" in fragments
    for key, digest in fragments.items():
        assert hashlib.sha256((repo_copy / key).read_bytes()).hexdigest() == digest, key


def outputs(repo: Path) -> dict[str, str]:
    """The sha256 of every file under the build's output folders (and the notebooks)."""
    return {p.relative_to(repo).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("figures", "tables", "notebooks", "paper")
            for p in sorted((repo / folder).rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_deleted_and_edited_outputs_are_made_again_by_their_writers_alone(built_repo, repo_copy):
    """The cases issue 19 reports as "Nothing to be done": a figure, the merged numbers and
    the paper deleted, a table one byte longer. A plain ``make`` asks the runner, which runs
    the figure's writer (01_recruitment) and the table's (03_interviews), no other notebook,
    merges the numbers again and typesets the paper, each file the committed bytes.

    README, section Two commands: "or one of whose outputs is missing or was edited (it is
    rebuilt byte-identical to the committed file)"."""
    for name in ("figures/recruitment_flow.png", "tables/numbers.json", "paper/paper.pdf"):
        (repo_copy / name).unlink()
    with open(repo_copy / "tables" / "interviews.csv", "ab") as handle:
        handle.write(b"x")
    assert not make_is_current(repo_copy)
    result = run_make(repo_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert executed(result) == ["01_recruitment", "03_interviews"], result.stdout
    assert "typeset paper/paper.pdf (paper/paper.pdf is missing or was edited)" in result.stdout, \
        result.stdout
    assert outputs(repo_copy) == outputs(built_repo)
    assert make_is_current(repo_copy)


def replace_an_output(path: Path) -> None:
    """An executed notebook edited by hand: one output's text replaced, still a notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    output = next(o for c in nb["cells"] for o in c.get("outputs", []) if "text/plain"
                  in o.get("data", {}))
    output["data"]["text/plain"] = ["edited by hand"]
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")


def append_newline(path: Path) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "change", "writers"), [
    # 02_participants wrote its own executed notebook.
    ("notebooks/02_participants.ipynb", replace_an_output, ["02_participants"]),
    # 04_themes wrote its numbers fragment; 06_claims and the paper read it, and need not run:
    # the fragment is made again with the bytes they read.
    ("tables/numbers/04_themes.json", append_newline, ["04_themes"]),
    # The runner writes the manifest: rewritten, no notebook run.
    ("tables/manifest.json", append_newline, []),
], ids=["executed-notebook", "numbers-fragment", "manifest"])
def test_an_edited_output_is_made_again_by_its_writer_alone(built_repo, repo_copy, name,
                                                             change, writers):
    change(repo_copy / name)
    assert not make_is_current(repo_copy)
    result = run_make(repo_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert executed(result) == writers, result.stdout
    assert "typeset" not in result.stdout, result.stdout
    assert (repo_copy / name).read_bytes() == (built_repo / name).read_bytes()
    assert outputs(repo_copy) == outputs(built_repo)
    assert make_is_current(repo_copy)


@pytest.mark.slow
@pytest.mark.parametrize("exported", [("DATA_DIR", "OUT_DIR"), ("DATA_DIR",), ("OUT_DIR",)])
def test_data_dir_and_out_dir_from_the_environment_switch_nothing(repo_copy, data_copy,
                                                                  tmp_path, exported):
    """A cluster profile's exported OUT_DIR (or DATA_DIR) is not followed: a plain ``make``
    stays the repository's build, with nothing to do, and says in one line that it ignored
    them and how to pass them; typed on make's command line they still count.

    README, section Running on your own data: "Only what you type switches modes: `DATA_DIR` and
    `OUT_DIR` exported in the environment are ignored by a plain `make`, which says so in one
    line"."""
    values = {"DATA_DIR": str(data_copy), "OUT_DIR": str(tmp_path / "out")}
    env = {**copy_env(repo_copy), **{k: values[k] for k in exported}}
    before = outputs(repo_copy)
    result = subprocess.run(make_command(repo_copy), env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    said = [line for line in result.stdout.splitlines() if "from the environment" in line]
    assert said == ["make: ignoring " + " ".join(f"{k}={values[k]}" for k in exported)
                    + " from the environment; only make's command line switches to other "
                    "data: make DATA_DIR=... OUT_DIR=..."], result.stdout
    assert "Nothing to be done" in result.stdout, result.stdout
    assert not (tmp_path / "out").exists() and outputs(repo_copy) == before
    typed = subprocess.run(make_command(repo_copy, "-n", "OUT_DIR=/typed/out"), env=env,
                           capture_output=True, text=True, timeout=60)
    assert '--out-dir "/typed/out"' in typed.stdout, typed.stdout
