"""Operating-system errors are one line (issue 19, requirement 5): a full disk, a permission
refused or a folder turned read-only while a notebook's outputs are moved into place is
reported in one line naming the folder (by its role, never a machine path), the cause and
the notebook whose outputs they were; and the output folders hold the previous outputs with
a manifest that records them, or the complete new ones with a manifest that records those.

The error is injected (tests run as root, where ``chmod`` stops no write, and a small file
system needs privileges): the Nth rename or write fails once, as on a disk that fills up at
that moment, for every N up to the number the commit makes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from psu_study import staging
from psu_study.environment import STAGE_ENV
from psu_study.runner.build import Run
from psu_study.runner.layout import layout
from psu_study.runner.notebook import Progress
from psu_study.runner.result import Result

from .conftest import REPO, copy_env
from .test_build import manifest, would_run
from .test_interrupts import RUNNER

NAME = "01_x"
OLD = {"figures/flow.png": b"old figure", "tables/stages.csv": b"old,table\n",
       "tables/gone.csv": b"made last time, not this time\n"}
NEW = {"figures/flow.png": b"new figure", "tables/stages.csv": b"new,table\n",
       "tables/added.csv": b"a table made for the first time\n"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _state(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file() and ".stage" not in p.parts}


def _matches_manifest(out: Path) -> None:
    """Every output the manifest records is there with its recorded sha256, and every
    figure and table there is recorded."""
    recorded = json.loads((out / "tables" / "manifest.json").read_text())
    outputs = {k: v for entry in recorded["notebooks"].values()
               for k, v in entry["outputs"].items()}
    for key, digest in outputs.items():
        assert _sha((out / key).read_bytes()) == digest, key
    there = {p.relative_to(out).as_posix() for folder in ("figures", "tables")
             for p in (out / folder).rglob("*") if p.is_file()}
    combined = {"tables/manifest.json", "tables/numbers.json", "tables/numbers.tex"}
    assert there - combined == set(outputs) - {f"notebooks/{NAME}.ipynb"}


def _run(tmp_path: Path) -> tuple[Run, Result, Path]:
    """A build of one notebook that has run and whose outputs wait in the stage, over the
    outputs and manifest of its previous run (written by the same commit)."""
    data = tmp_path / "data"
    data.mkdir(parents=True)
    out = tmp_path / "out"
    lay = layout(data, out)
    source = nbformat.v4.new_notebook()
    run = Run(lay, {NAME: source}, {}, False, Progress(1))

    def finished(files: dict[str, bytes]) -> Result:
        stage = lay.stage / "run"
        stage.mkdir(parents=True, exist_ok=True)
        result = Result(NAME, 1.0, nbformat.v4.new_notebook())
        for index, (key, data) in enumerate(files.items()):
            staged = stage / f"{index}-{Path(key).name}"
            staged.write_bytes(data)
            result.moves.append((staged, out / key))
        return result

    run.settle([finished(OLD)])
    assert not run.failed
    assert {k: v for k, v in _state(out).items() if k in OLD} == OLD
    return run, finished(NEW), out


def _failing_once(monkeypatch: pytest.MonkeyPatch, name: str, at: int, code: int) -> list[int]:
    """``os.<name>`` fails with ``code`` on its ``at``-th call (from 0), once, as the
    system's would: a rename names both files, a write to an open file none."""
    real = getattr(os, name)
    calls = [0]

    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] - 1 == at:
            if name == "replace":
                raise OSError(code, os.strerror(code), args[0], None, args[1])
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)
    return calls


def test_a_commit_that_succeeds_replaces_every_output(tmp_path):
    run, result, out = _run(tmp_path)
    run.settle([result])
    assert not run.failed
    now = _state(out)
    assert {k: now[k] for k in NEW} == NEW
    assert "tables/gone.csv" not in now
    _matches_manifest(out)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
@pytest.mark.parametrize("call", ["replace", "fdopen"])
def test_a_commit_that_fails_part_way_leaves_the_previous_outputs(tmp_path, monkeypatch,
                                                                   code, call):
    """At every step of the commit (each file moved, the executed notebook, the manifest,
    the merged numbers), an error leaves exactly what was there, and says so in one line.

    README, section Two commands: "each notebook's outputs and the manifest move into place
    together or not at all"."""
    at = 0
    while True:
        run, result, out = _run(tmp_path / f"{call}-{at}")
        before = _state(out)
        calls = _failing_once(monkeypatch, call, at, code)
        run.settle([result])
        monkeypatch.undo()
        if calls[0] <= at:  # the commit made fewer calls than ``at``: every step was tried
            assert not run.failed
            break
        assert [r.name for r in run.failed] == [NAME], f"{call} {at}"
        error = run.failed[0].error
        assert error.startswith("cannot write OUT_DIR/"), error
        assert f": {os.strerror(code)}, while moving its outputs into place" in error, error
        assert "\n" not in error and str(tmp_path) not in error, error
        assert _state(out) == before, f"{call} {at}: {error}"
        _matches_manifest(out)
        at += 1
    assert at >= 2, "the commit renames and writes several files"


def test_a_folder_made_read_only_is_one_line(tmp_path):
    """As a user other than root: a tables folder without write permission.

    README, section Two commands: "an output folder turned read-only is one line naming the
    folder"."""
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder; the injected EACCES/EROFS above "
                    "stand for it")
    run, result, out = _run(tmp_path)
    before = _state(out)
    (out / "tables").chmod(0o555)
    try:
        run.settle([result])
    finally:
        (out / "tables").chmod(0o755)
    assert run.failed[0].error.startswith("cannot write OUT_DIR/tables: Permission denied")
    assert _state(out) == before


def test_write_atomic_names_its_target_not_a_temporary_file(tmp_path, monkeypatch):
    """``write()`` on a full disk names no file: the error names the file being written."""
    target = tmp_path / "tables" / "t.csv"
    _failing_once(monkeypatch, "replace", 0, errno.ENOSPC)
    with pytest.raises(OSError) as raised:
        staging.write_atomic(target, b"x")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename.endswith("t.csv")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_a_notebook_that_cannot_stage_a_file_names_it_as_outputs_do(tmp_path, monkeypatch):
    """In a notebook under the runner, a full disk while staging names the output (relative
    to the repository, as the notebook's error is printed), not the staging folder's
    temporary file."""
    monkeypatch.setenv(STAGE_ENV, str(tmp_path))
    _failing_once(monkeypatch, "open", 0, errno.ENOSPC)
    with pytest.raises(OSError) as raised:
        staging.write_bytes(REPO / "tables" / "stages.csv", b"x")
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == "tables/stages.csv"


INJECT = """\
import errno, os, sys
from psu_study.runner import manifest

real, failed = os.replace, []

def replace(staged, target):
    if {name!r} in os.fspath(target) and not failed:
        failed.append(target)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), staged, None, target)
    return real(staged, target)

manifest.os = type(sys)("os_with_a_full_disk")
manifest.os.__dict__.update(os.__dict__, replace=replace)
sys.argv = ["psu_study.runner", *sys.argv[1:]]
import runpy
runpy.run_module("psu_study.runner", run_name="__main__")
"""
"""The runner whose commit (``manifest.commit``'s renames) meets a full disk at the first
rename of a file whose path holds ``name``; the rest of the runner writes as usual."""


@pytest.mark.slow
def test_a_full_disk_during_a_build_is_one_line_and_the_next_build_reruns(repo_copy,
                                                                          tmp_path):
    """Two notebooks run; 03_interviews's commit meets a full disk: the build says which
    notebook and which folder in one line, exits 1 without a traceback, the folders hold
    01_recruitment's new outputs and 03_interviews's old ones, as the manifest records; the
    next build runs 03_interviews only.

    README, section Two commands: "A full disk, a refused permission or an output folder turned
    read-only is one line naming the folder and the step (`build failed: ... cannot write
    tables: No space left on device ...`)"."""
    for module in ("recruitment", "interviews"):
        path = repo_copy / "src" / "psu_study" / f"{module}.py"
        path.write_text(path.read_text(encoding="utf-8") + "# touched by a test\n",
                        encoding="utf-8")
    assert would_run(repo_copy) == ["01_recruitment", "03_interviews"]
    outputs = ("figures", "tables", "notebooks", "paper")
    before = {p: p.read_bytes() for folder in outputs for p in (repo_copy / folder).rglob("*")
              if p.is_file() and p.name != "manifest.json"}
    failing = subprocess.run([sys.executable, "-c", INJECT.format(name="interview"),
                              *RUNNER[2:]], cwd=repo_copy, env=copy_env(repo_copy),
                             capture_output=True, text=True, timeout=600)
    errors = failing.stderr.strip().splitlines()
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "Traceback" not in failing.stdout + failing.stderr
    assert errors == ["build failed: 1 notebook(s) failed: 03_interviews (cannot write "
                      f"{errors[0].split('cannot write ')[1].split(':')[0]}: No space left on "
                      "device, while moving its outputs into place (its previous outputs are "
                      "kept))"], errors
    assert errors[0].split("cannot write ")[1].startswith(("figures:", "tables:")), errors
    assert str(repo_copy) not in errors[0]
    assert would_run(repo_copy) == ["03_interviews"]
    after = {p: p.read_bytes() for p in before}
    assert after == before  # the touched comments change no output: old bytes everywhere
    recorded = manifest(repo_copy)["notebooks"]
    for entry in recorded.values():
        for key, digest in entry["outputs"].items():
            assert _sha((repo_copy / key).read_bytes()) == digest, key
    again = subprocess.run([sys.executable, *RUNNER], cwd=repo_copy, env=copy_env(repo_copy),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "done   03_interviews" in again.stdout, again.stdout
    assert "done   01_recruitment" not in again.stdout, again.stdout
