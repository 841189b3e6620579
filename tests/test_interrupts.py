"""An interrupt at any moment is an interrupt (issue 19, requirement 4): SIGINT or SIGTERM
before, during or after the kernels start, while outputs are moved into place, during the
paper, once or twice, gives the one line ``interrupted by SIG... while running ...``, exit
128+n, no traceback, an end within seconds, no process of the build left (kernels run in
sessions of their own, and the fork server), and the next build runs what was interrupted.

The runner is started as make starts it, in a session of its own, in a private copy of the
shared build (``repo_copy``); what it leaves running is every process of that session and
every process whose command line or folder names the copy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from .conftest import copy_env
from .test_build import manifest, would_run

pytestmark = pytest.mark.slow

ENDS_WITHIN_S = 20
"""From the signal to the runner's exit; it takes one or two seconds on an idle machine,
and the tests share two cores with other builds."""
RUNNER = ["-m", "psu_study.runner", "--stamp", "build/notebooks.stamp",
          "--depfile", "build/notebooks.d"]
SIGNAL_SELF = """\
import os, signal, sys, time
import psu_study.{module} as target

real = target.{function}

def {function}(*args, **kwargs):
    os.kill(os.getpid(), signal.{signal})
    time.sleep(1)  # the signal arrives here, in the middle of the step
    return real(*args, **kwargs)

target.{function} = {function}
sys.argv = ["psu_study.runner", *sys.argv[1:]]
import runpy
runpy.run_module("psu_study.runner", run_name="__main__")
"""
"""The runner with one step wrapped so that the process signals itself inside it: a moment
no timing can hit reliably (moving outputs into place takes milliseconds)."""


def _stale(repo: Path, module: str) -> None:
    """Make the notebooks that import ``module`` stale without changing what they write."""
    path = repo / "src" / "psu_study" / f"{module}.py"
    path.write_text(path.read_text(encoding="utf-8") + "# touched by a test\n",
                    encoding="utf-8")


def _start(repo: Path, log: Path, argv: list[str]) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, *argv], cwd=repo, env=copy_env(repo),
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _left(process: subprocess.Popen, repo: Path) -> list[str]:
    """Every live process of the build: its session, or naming the copy (forked kernels
    name it in their command line, plain ones run in its notebooks folder)."""
    left = []
    for other in psutil.process_iter(["pid", "cmdline", "status", "cwd"]):
        if other.info["status"] == psutil.STATUS_ZOMBIE or other.pid == os.getpid():
            continue
        with_copy = (str(repo) in " ".join(other.info["cmdline"] or [])
                     or str(repo) in (other.info["cwd"] or ""))
        try:
            same_session = os.getsid(other.pid) == process.pid
        except OSError:
            continue
        if same_session or with_copy:
            left.append(f"{other.pid} {' '.join(other.info['cmdline'] or [])[:120]}")
    return left


def _stop(process: subprocess.Popen, repo: Path, log: Path, signals: list[int]) -> str:
    """Send ``signals`` (0.3 s apart) as they come: SIGINT as Ctrl-C at a terminal sends it,
    to the runner's whole process group (the fork server is in it); SIGTERM to the runner
    alone, as a batch system sends it. Then ``_ended``'s checks."""
    for index, signum in enumerate(signals):
        if index:
            time.sleep(0.3)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if signum == signal.SIGINT:
                    os.killpg(process.pid, signum)
                else:
                    os.kill(process.pid, signum)
    return _ended(process, repo, log, signals[0])


def _ended(process: subprocess.Popen, repo: Path, log: Path, signum: int,
           within: float = ENDS_WITHIN_S) -> str:
    """Check the runner ended within ``within`` seconds (of ``signum``), with the one line
    and exit 128+n, no traceback and nothing left running; its output."""
    sent = time.monotonic()
    try:
        status = process.wait(within)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        status = None
    took = time.monotonic() - sent
    time.sleep(0.2)  # a process killed at the very end may take a moment to vanish
    left = _left(process, repo)
    for line in left:  # never leave them to the next test
        os.kill(int(line.split()[0]), signal.SIGKILL)
    output = log.read_text()
    name = signal.Signals(signum).name
    assert status == 128 + signum, f"status {status} after {took:.1f} s:\n{output}"
    assert f"build interrupted by {name} while running " in output, output
    assert "Traceback" not in output and "CancelledError" not in output, output
    assert not left, f"left running:\n{left}\n{output}"
    return output


def test_early_interrupts_end_cleanly_every_time(repo_copy, tmp_path):
    """Ten interrupts in the first seconds (Python starting, the fork server importing, the
    kernels starting: the moments where one try in seven hung), Ctrl-C and SIGTERM in turn;
    after each, the same notebooks are still to run.

    README, section Two commands: "Ctrl-C (or SIGTERM) at any moment prints `interrupted by SIGINT
    while running ...` (exit 130, or 143), leaves no process behind"."""
    _stale(repo_copy, "provenance")
    stale = would_run(repo_copy)
    assert len(stale) >= 4, stale  # several kernels start at once
    delays = [0.1, 0.5, 1.0, 2.0, 0.3, 1.5, 2.5, 0.7, 3.0, 1.2]
    for index, delay in enumerate(delays):
        signum = (signal.SIGINT, signal.SIGTERM)[index % 2]
        log = tmp_path / f"early-{index}.log"
        process = _start(repo_copy, log, RUNNER)
        time.sleep(delay)
        _stop(process, repo_copy, log, [signum])
        assert would_run(repo_copy) == stale, f"after {delay} s: {log.read_text()}"


def test_a_second_signal_ends_everything_at_once(repo_copy, tmp_path):
    """Ctrl-C twice while the kernels start: still the line, exit 130, nothing left."""
    _stale(repo_copy, "provenance")
    stale = would_run(repo_copy)
    for index, delay in enumerate([1.0, 2.5]):
        log = tmp_path / f"twice-{index}.log"
        process = _start(repo_copy, log, RUNNER)
        time.sleep(delay)
        _stop(process, repo_copy, log, [signal.SIGINT, signal.SIGINT])
        assert would_run(repo_copy) == stale


def test_an_interrupt_while_outputs_are_committed_lets_the_commit_finish(repo_copy,
                                                                          tmp_path):
    """A signal while a notebook's outputs are moved into place: they all move, the manifest
    records them, and that notebook is not run again; the line says what was stopped."""
    _stale(repo_copy, "interviews")
    assert would_run(repo_copy) == ["03_interviews"]
    log = tmp_path / "commit.log"
    code = SIGNAL_SELF.format(module="runner.build", function="commit", signal="SIGINT")
    process = _start(repo_copy, log, ["-c", code, *RUNNER[2:]])
    output = _ended(process, repo_copy, log, signal.SIGINT, within=600)
    assert "interrupted by SIGINT while running the commit of 03_interviews's outputs" \
        in output, output
    assert would_run(repo_copy) == []
    assert "failed" not in manifest(repo_copy)["notebooks"]["03_interviews"]


def test_an_interrupt_during_the_paper_is_one_and_the_paper_is_typeset_next_time(
        repo_copy, tmp_path):
    """SIGTERM while the paper is typeset: the line names the paper, the PDF is untouched,
    and the next make typesets it."""
    source = repo_copy / "paper" / "paper.typ"
    source.write_text(source.read_text(encoding="utf-8") + "\n// touched by a test\n",
                      encoding="utf-8")
    pdf = (repo_copy / "paper" / "paper.pdf").read_bytes()
    log = tmp_path / "paper.log"
    code = SIGNAL_SELF.format(module="manuscript", function="paper", signal="SIGTERM")
    process = _start(repo_copy, log, ["-c", code, *RUNNER[2:]])
    output = _ended(process, repo_copy, log, signal.SIGTERM, within=600)
    assert "interrupted by SIGTERM while running the paper" in output, output
    assert (repo_copy / "paper" / "paper.pdf").read_bytes() == pdf
    again = subprocess.run([sys.executable, *RUNNER], cwd=repo_copy, env=copy_env(repo_copy),
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "typeset paper/paper.pdf" in again.stdout, again.stdout
