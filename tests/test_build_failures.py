"""A failure stays a failure: after a failed or interrupted build the next ``make`` runs
what failed again (and fails again if nothing changed), and an interrupt is reported as one.

Builds run in private copies of the shared build (``repo_copy``), never in the repository.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from .conftest import copy_env, executed, make_command, run_make
from .test_build import edit, make_is_current, manifest

pytestmark = pytest.mark.slow  # builds in copies of the project


def test_a_failing_notebook_keeps_its_outputs_and_fails_again(repo_copy):
    """A failure stays a failure: the second make runs the failed notebook again (rc 2, from
    make) instead of saying "Nothing to be done"; its previous outputs are untouched.

    README, section Two commands: "A failed build names the notebook, cell and error, leaves the
    previous outputs untouched"; docs/architecture.md, section How a build runs: "the partially
    executed notebook is kept in `build/failed/`"."""
    before = {p: p.read_bytes() for p in (repo_copy / "figures").glob("interview*")}
    path = repo_copy / "data" / "interviews.csv"
    edit(path, "telephone", "carrier pigeon")
    for _ in range(2):
        failed = run_make(repo_copy)
        assert failed.returncode == 2, failed.stdout + failed.stderr
        assert "interviews.csv, row 1, column 'mode'" in failed.stdout
        assert "FAILED 03_interviews" in failed.stdout
        assert (repo_copy / "build" / "failed" / "03_interviews.ipynb").exists()
        assert manifest(repo_copy)["notebooks"]["03_interviews"]["failed"] == "failed"
        assert before == {p: p.read_bytes() for p in (repo_copy / "figures").glob("interview*")}
        assert not make_is_current(repo_copy)
    edit(path, "carrier pigeon", "telephone")
    fixed = run_make(repo_copy)
    assert fixed.returncode == 0 and "03_interviews" in executed(fixed), fixed.stdout
    assert "failed" not in manifest(repo_copy)["notebooks"]["03_interviews"]
    # Back to the data the paper was typeset from, the same outputs again: nothing the
    # paper reads changed, so it is not typeset again.
    assert "typeset" not in fixed.stdout, fixed.stdout
    assert make_is_current(repo_copy)


HOLD = """\
import os
import time

print("holding", flush=True)
open({held!r}, "w").close()
while os.path.exists({hold!r}):
    time.sleep(0.05)
"""


def _hold(repo: Path, hold: Path) -> Path:
    """A cell in 01_recruitment that waits while ``hold`` exists; the file it creates once
    it is waiting, so a test interrupts it there rather than guessing when with a sleep."""
    held = hold.with_suffix(".held")
    path = repo / "notebooks" / "01_recruitment.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "hold",
                        "metadata": {}, "outputs": [],
                        "source": HOLD.format(hold=str(hold), held=str(held))})
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    return held


def _interrupt(repo: Path, held: Path, how: str) -> str:
    """Start ``make``, wait until 01_recruitment's holding cell runs, interrupt the build the
    way ``how`` says; its output, once it has stopped."""
    held.unlink(missing_ok=True)
    process = subprocess.Popen(make_command(repo), env=copy_env(repo), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "start  01_recruitment" in line:
            break
    deadline = time.monotonic() + 120
    while not held.exists():  # into the holding cell
        assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.05)
    if how == "ctrl-c":  # as a terminal does: SIGINT to make and the runner
        os.killpg(process.pid, signal.SIGINT)
    else:  # to the runner alone, as a batch system would
        (child,) = psutil.Process(process.pid).children()
        child.terminate()
    output = "".join(lines) + process.stdout.read()
    assert process.wait(60) != 0, output
    return output


def test_an_interrupted_build_is_reported_and_reruns(repo_copy, tmp_path):
    """Ctrl-C, then SIGTERM on the next make (which runs the interrupted notebook again and
    is interrupted in it again), then a make that is let finish.

    README, section Two commands: "Ctrl-C (or SIGTERM) at any moment prints `interrupted by SIGINT
    while running ...` (exit 130, or 143), leaves no process behind, and the next `make` reruns
    what was interrupted"."""
    hold = tmp_path / "hold"
    hold.touch()
    held = _hold(repo_copy, hold)
    before = (repo_copy / "tables" / "recruitment_stages.csv").read_bytes()
    for how, name in (("ctrl-c", "SIGINT"), ("sigterm", "SIGTERM")):
        output = _interrupt(repo_copy, held, how)
        assert f"interrupted by {name} while running 01_recruitment" in output, output
        assert "AssertionError" not in output, output
        assert manifest(repo_copy)["notebooks"]["01_recruitment"]["failed"] == "interrupted"
        assert (repo_copy / "tables" / "recruitment_stages.csv").read_bytes() == before
        assert not make_is_current(repo_copy)
    hold.unlink()
    again = run_make(repo_copy)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "01_recruitment" in executed(again)
    assert make_is_current(repo_copy)
    assert not [p for p in psutil.process_iter(["cmdline"])
                if str(repo_copy) in " ".join(p.info["cmdline"] or [])], "nothing left running"
