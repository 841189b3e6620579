"""``make verify``: rebuild HEAD from scratch in a fresh clone and name every file that then
differs from what is committed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..paths import REPO_ROOT
from .execute import ENV_OVERRIDES
from .graph import sha256_bytes


def verify(jobs: int | None = None) -> list[str]:
    """Rebuild the committed state (HEAD) from scratch in a fresh clone and name every file
    that then differs from what is committed: what a clean ``make`` on a fresh clone would
    leave in ``git status``. Uncommitted changes in the work tree are not part of it."""
    head = _git(REPO_ROOT, "rev-parse", "HEAD").strip()
    with tempfile.TemporaryDirectory(prefix="psu-verify-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "--quiet", "--shared", "--no-checkout", str(REPO_ROOT),
                        str(clone)], check=True)
        _git(clone, "checkout", "--quiet", "--detach", head)
        print(f"verify: rebuilding {head[:12]} in {clone}", flush=True)
        env = {k: v for k, v in os.environ.items() if k not in ENV_OVERRIDES}
        env["PYTHONPATH"] = str(clone / "src")
        command = [sys.executable, "-m", "psu_study.runner", "--force"]
        if jobs:
            command += ["--jobs", str(jobs)]
        if subprocess.run(command, cwd=clone, env=env).returncode != 0:
            return ["the rebuild failed"]
        status = _git(clone, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        return [_difference(clone, entry[:2], entry[3:])
                for entry in status.split("\0") if entry]


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout


def _difference(clone: Path, code: str, name: str) -> str:
    """One line on how ``name`` differs: its first changed line, or its sha256 if binary."""
    path = clone / name
    if code == "??":
        return f"{name}: made by the build but not committed"
    if not path.exists():
        return f"{name}: committed but not made by the build"
    old = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=clone, check=True,
                         capture_output=True).stdout
    new = path.read_bytes()
    try:
        old_lines, new_lines = old.decode().splitlines(), new.decode().splitlines()
    except UnicodeDecodeError:
        return f"{name}: differs (sha256 {sha256_bytes(old)[:12]} -> {sha256_bytes(new)[:12]})"
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return f"{name}: line {number}: {a.strip()[:70]!r} -> {b.strip()[:70]!r}"
    return f"{name}: {len(old_lines)} lines committed, {len(new_lines)} rebuilt"
