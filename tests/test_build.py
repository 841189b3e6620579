"""The build runner: refusals, incremental rebuilds and figure regression.

Builds here run on copies of the data and write under pytest's temporary folder (OUT_DIR
mode), never into the repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.testing.compare import compare_images

from psu_study import build
from psu_study.paths import FIGURES_DIR, REPO_ROOT

from .conftest import DATA


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "psu_study.build", *args], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=600)


def executed(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split()[1] for line in result.stdout.splitlines()
            if line.strip().startswith("done")]


def test_out_dir_inside_the_repository_is_refused():
    with pytest.raises(build.BuildError, match="inside the repository"):
        build.layout(DATA, REPO_ROOT / "out")


def test_other_data_without_out_dir_is_refused(data_copy):
    with pytest.raises(build.BuildError, match="needs OUT_DIR"):
        build.layout(data_copy, None)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """One clean build of a copy of the repository's data into a temporary OUT_DIR."""
    root = tmp_path_factory.mktemp("build")
    data = root / "data"
    subprocess.run(["cp", "-r", str(DATA), str(data)], check=True)
    out = root / "out"
    result = run_build("--data-dir", str(data), "--out-dir", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return data, out, result


def test_clean_build_executes_every_notebook(built):
    _, out, result = built
    names = {p.stem for p in build.notebooks()}
    assert set(executed(result)) == names
    manifest = json.loads((out / "tables" / "manifest.json").read_text())
    assert set(manifest["notebooks"]) == names


def test_second_build_executes_nothing_and_a_data_change_only_its_readers(built):
    data, out, _ = built
    again = run_build("--data-dir", str(data), "--out-dir", str(out))
    assert again.returncode == 0 and executed(again) == [], again.stdout
    manifest = json.loads((out / "tables" / "manifest.json").read_text())
    readers = sorted(n for n, e in manifest["notebooks"].items()
                     if "data/interviews.csv" in e["reads"])
    assert "03_interviews" in readers and "01_recruitment" not in readers
    # Notebooks that read the others' numbers re-run too when the numbers change.
    readers += sorted(n for n, e in manifest["notebooks"].items()
                      if any(k.startswith("tables/numbers") for k in e["reads"]))
    path = data / "interviews.csv"
    original = path.read_text()
    path.write_text(original.replace(",telephone,42,", ",telephone,43,", 1))
    changed = run_build("--data-dir", str(data), "--out-dir", str(out))
    path.write_text(original)
    restored = run_build("--data-dir", str(data), "--out-dir", str(out))
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert sorted(executed(changed)) == readers
    assert sorted(executed(restored)) == readers, "the shared build is left as it was"


def test_figures_match_the_committed_ones(built):
    """Figure regression: nbval does not compare images, so every committed PNG is compared
    with a fresh rendering from the same data (a code change that alters a figure without a
    rebuild fails here)."""
    _, out, _ = built
    fresh = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert fresh == sorted(p.name for p in FIGURES_DIR.glob("*.png"))
    for name in fresh:
        assert compare_images(str(FIGURES_DIR / name), str(out / "figures" / name), tol=0.5) \
            is None, f"{name} differs from a fresh rendering"


def test_a_failing_notebook_leaves_previous_outputs_untouched(built, tmp_path):
    data, out, _ = built
    before = {p: p.read_bytes() for p in (out / "figures").glob("interview*")}
    path = data / "interviews.csv"
    path.write_text(path.read_text().replace("telephone", "carrier pigeon", 1))
    failed = run_build("--data-dir", str(data), "--out-dir", str(out))
    path.write_text(path.read_text().replace("carrier pigeon", "telephone", 1))
    assert failed.returncode != 0
    assert "interviews.csv, row 1, column 'mode'" in failed.stdout
    assert (out / "failed" / "03_interviews.ipynb").exists()
    assert before == {p: p.read_bytes() for p in (out / "figures").glob("interview*")}


def test_numbers_reader_reruns_when_a_notebook_newly_writes_numbers(data_copy, tmp_path):
    """The second wave starts once the notebooks that wrote numbers last time are done. If
    another notebook turns out to write numbers too, the runner merges them again and runs
    the second wave again, so every build ends consistent: here 05_agreement is recorded as
    writing none, and the second coder's codes change so its numbers do."""
    out = tmp_path / "out"
    assert run_build("--data-dir", str(data_copy), "--out-dir", str(out)).returncode == 0
    manifest_path = out / "tables" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["notebooks"]["05_agreement"]["outputs"]["tables/numbers/05_agreement.json"]
    manifest_path.write_text(json.dumps(manifest))
    segments = data_copy / "segments.csv"
    lines = segments.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if ",FF,C1.1," in line)
    lines[i] = lines[i].replace(",FF,C1.1,", ",FF,C7.4,")
    segments.write_text("".join(lines), encoding="utf-8")
    result = run_build("--data-dir", str(data_copy), "--out-dir", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert executed(result).count("06_claims") >= 1
    final = json.loads(manifest_path.read_text())
    numbers_sha = final["combined"]["tables/numbers.json"]
    assert final["notebooks"]["06_claims"]["reads"]["tables/numbers.json"] == numbers_sha
