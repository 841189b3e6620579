"""Shared fixtures: the repository, its data, the article, a loaded study, and one built
copy of the project that every test needing a whole build shares (``built_repo``)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from psu_study.environment import DETERMINISTIC_ENV, PREFIX
from psu_study.validation import Study, load_study

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
ARTICLE = REPO.parent / "shared" / "paper" / "000_8a5c687e5a0c0f93.txt"


settings.register_profile("full", max_examples=60)
settings.register_profile("fast", max_examples=10)
settings.load_profile("full")
"""How many examples each property test draws: 60 in ``make test``; 10 in ``make test-fast``
(``--hypothesis-profile=fast``), the edit-test loop, where each loader example loads the
whole study (about 25 ms)."""


@pytest.fixture(scope="session")
def study() -> Study:
    return load_study(DATA)


@pytest.fixture(scope="session")
def article() -> str:
    if not ARTICLE.exists():
        pytest.skip(f"the article is not beside the repository ({ARTICLE}); it is shared/ "
                    "in the workplace, not part of the repo")
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's data to mutate."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("*.md"))
    return target


# --- One built copy of the project, shared --------------------------------------------------
#
# A test that needs a whole build asks for the ``built_repo`` fixture (read it, never write
# to it) or for ``repo_copy`` (a private copy of that build to change, then ``make`` in it
# with ``run_make``: only what the change makes stale runs, in a second or two). The build
# is made once per test session, by ``make`` in a copy of the work tree's tracked files under
# pytest's temporary folder (with the committed outputs: nothing runs unless the work tree's
# outputs are stale), shared by xdist's workers. It starts in the background as soon
# as collection finds a test that asks for it, so other tests run meanwhile; the fixture
# waits for it. Only tracked files are copied: ``git add`` a new module or notebook before
# running these tests. ``make`` there uses this environment and never rebuilds it.
# Example:
#
#     def test_x(repo_copy):
#         (repo_copy / "data" / "interviews.csv").write_text(...)
#         result = run_make(repo_copy)
#         assert executed(result) == ["03_interviews", "06_claims"]
#
# The same machinery shares ``second_study_build``: the runner on the hand-written second
# study (tests/fixtures/second_study) with --data-dir/--out-dir, read by more than one file.

SHARED = "built-repo"
SECOND_STUDY = "second-study"
REPO_BEFORE = "repo-before.json"
SECOND_STUDY_OUT = "out-ZZdistinctZZ"
"""The second study's output folder: a name no output may contain (nor any other part of its
path: tests/test_confidential.py searches every output for it)."""
STUDY = REPO / "tests" / "fixtures" / "second_study"


def _shared_root(config: pytest.Config) -> Path:
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _built_repo_command(folder: Path) -> tuple[list[str], Path, dict[str, str]]:
    """``make`` in a copy of the tracked files, as on a fresh clone: the committed outputs
    and manifest are current, so it runs nothing (a work tree whose outputs are stale is
    brought up to date in the copy, never in place). That every notebook run from scratch
    writes the committed bytes is nbval's check (the root conftest.py); that a build from
    nothing runs them all, the second study's."""
    tracked_copy(folder)
    return make_command(folder), folder, copy_env(folder)


def repo_outputs() -> dict[str, str]:
    """The sha256 of every file of the repository's data, committed outputs and paper."""
    return {str(p.relative_to(REPO)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("data", "figures", "tables", "notebooks", "paper")
            for p in sorted((REPO / folder).rglob("*")) if p.is_file()}


def _second_study_command(folder: Path) -> tuple[list[str], Path, dict[str, str]]:
    """The runner on the hand-written second study, as ``make DATA_DIR=... OUT_DIR=...``
    calls it, writing under ``folder / SECOND_STUDY_OUT`` (no nbval stage folder: in
    place). What the repository held just before is kept in ``folder / REPO_BEFORE``: a
    real-data run must leave it untouched (tests/test_confidential.py)."""
    folder.mkdir()
    (folder / REPO_BEFORE).write_text(json.dumps(repo_outputs()), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(DETERMINISTIC_ENV)
    return ([sys.executable, "-m", "psu_study.runner", "--data-dir", str(STUDY),
             "--out-dir", str(folder / SECOND_STUDY_OUT)], REPO, env)


SHARED_BUILDS = {"built_repo": (SHARED, _built_repo_command),
                 "second_study_build": (SECOND_STUDY, _second_study_command)}
"""Each session-shared build: its fixture's name, its folder under the shared root (its log
``<folder>.log`` and exit status ``<folder>.rc`` beside it), and how to start it."""


def _start_shared_build(root: Path, fixture: str) -> None:
    """Start a shared build unless another worker has: its folder, then its command, its
    exit status written last (``rc``) so a waiting worker knows when it is done."""
    name, prepare = SHARED_BUILDS[fixture]
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        folder = root / name
        if folder.exists():
            return
        argv, cwd, env = prepare(folder)
        command = " ".join(shlex.quote(a) for a in argv)
        log, rc = (shlex.quote(str(root / f"{name}.{ext}")) for ext in ("log", "rc"))
        subprocess.Popen(["sh", "-c", f"{command} > {log} 2>&1; echo $? > {rc}"],
                         cwd=cwd, env=env, start_new_session=True)


def _wait_for_shared_build(request: pytest.FixtureRequest, fixture: str) -> tuple[Path, str]:
    """The shared build's folder and log, once it succeeded."""
    root = _shared_root(request.config)
    _start_shared_build(root, fixture)  # a no-op unless collection did not start it
    name, _ = SHARED_BUILDS[fixture]
    rc = root / f"{name}.rc"
    deadline = time.monotonic() + 900
    while not rc.exists() or not rc.read_text().strip():
        assert time.monotonic() < deadline, f"the shared {name} build did not finish in 15 min"
        time.sleep(0.2)
    log = (root / f"{name}.log").read_text()
    assert rc.read_text().strip() == "0", f"the shared {name} build failed:\n{log}"
    return root / name, log


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_finish(session: pytest.Session) -> None:
    for fixture in SHARED_BUILDS:
        if any(fixture in getattr(item, "fixturenames", ()) for item in session.items):
            _start_shared_build(_shared_root(session.config), fixture)


LONGEST_FIRST = (
    "tests/test_build.py", "tests/test_second_study.py", "tests/test_build_failures.py",
    "tests/test_browser.py", "tests/test_verify.py", "tests/test_loader_properties.py",
    "tests/test_qda_import.py", "tests/test_confidential.py", "tests/test_figures.py",
    "tests/test_claims.py", "tests/test_forked_kernels.py", "tests/test_hostile_input.py",
    "tests/test_paper.py", "tests/test_nbval_catches_changes.py",
)
"""The test files that take longest, longest first (their total from `make test`'s
--durations on 2 cores). `make test` deals whole files out to xdist's workers in collection
order (--dist loadfile --no-loadscope-reorder): a long file dealt out last would keep one
worker busy while the other sits idle. A stale list costs balance, never a test."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of ``LONGEST_FIRST`` first, in its order; the rest (nbval's notebooks
    included) after them as collected. Each file's tests keep their own order.

    A test that asks, directly or through another fixture (``repo_copy``), for one of the
    session's shared builds (``SHARED_BUILDS``) is marked ``slow`` here, by what it uses;
    tests that start a kernel, a browser or a build themselves are marked in their own file,
    and nbval's cells by the root conftest.py."""
    for item in items:
        if set(SHARED_BUILDS) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def tracked_copy(target: Path) -> Path:
    """The work tree's tracked files (with their uncommitted edits) copied to ``target``, with
    their times: what a fresh clone holds, without the environment."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def run_make(repo: Path, *args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    """``make`` in a copy of the project, with this environment (never rebuilt) and the
    copy's own package and runner."""
    return subprocess.run(make_command(repo, *args), env=copy_env(repo), capture_output=True,
                          text=True, timeout=600, **popen)


def make_command(repo: Path, *args: str) -> list[str]:
    venv = Path(sys.prefix)
    return ["make", "--no-print-directory", "-C", str(repo), f"VENV={venv}",
            "-o", str(venv / ".installed"), *args]


def copy_env(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env["PYTHONPATH"] = str(repo / "src")
    return env


def executed(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The notebooks a build ran to the end, from its progress lines."""
    return sorted(line.split()[1] for line in result.stdout.splitlines()
                  if line.strip().startswith("done "))


@pytest.fixture(scope="session")
def built_repo(request: pytest.FixtureRequest) -> Path:
    """A copy of the project as a fresh clone has it, brought up to date by ``make``
    (read-only: see ``repo_copy``); its log is ``built-repo.log`` beside it."""
    return _wait_for_shared_build(request, "built_repo")[0]


@pytest.fixture(scope="session")
def second_study_build(request: pytest.FixtureRequest) -> tuple[Path, str]:
    """The hand-written second study (tests/fixtures/second_study) built once end to end by
    the runner with ``--data-dir``/``--out-dir``, shared by every test that reads such a
    build (read it, never write to it): its out folder and the runner's output."""
    folder, log = _wait_for_shared_build(request, "second_study_build")
    return folder / SECOND_STUDY_OUT, log


@pytest.fixture
def repo_copy(built_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the shared build, times kept, so make finds it up to date."""
    target = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(built_repo), str(target)], check=True)
    return target
