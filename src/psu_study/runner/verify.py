"""``make verify``: two checks, each finding named by the check it comes from.

- *work tree vs manifest*: every output the work tree's ``tables/manifest.json`` records
  (figures, tables, numbers, executed notebooks, the paper) is there with the sha256
  recorded, so a hand-edited or deleted output is named, never passed over;
- *fresh rebuild of HEAD vs HEAD*: HEAD rebuilt from scratch in a fresh clone gives the
  committed bytes, file by file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..environment import without_folders
from ..paths import REPO_ROOT
from ..staging import ABSENT, digest, file_digest
from .layout import layout
from .manifest import load_manifest
from .paper import KEY as PAPER_KEY

WORK_TREE = "work tree vs manifest"
REBUILD = "fresh rebuild of HEAD vs HEAD"


def verify(jobs: int | None = None) -> int:
    """Run both checks, print each finding with its check, and return the exit status: 0
    when neither found anything."""
    found = 0
    for check, differences in ((WORK_TREE, work_tree), (REBUILD, lambda: rebuild(jobs))):
        lines = differences()
        for line in lines:
            print(f"  DIFFERS {line} [{check}]", flush=True)
        print(f"verify: {check}: " + (f"{len(lines)} difference(s)" if lines else
              "no difference" + (" (a clean rebuild gives the committed bytes)"
                                 if check == REBUILD else "")), flush=True)
        found += len(lines)
    return 1 if found else 0


def recorded_outputs(manifest: dict) -> dict[str, str]:
    """Every output a manifest records, with its sha256: each notebook's, the merged
    numbers and the paper."""
    outputs = dict(manifest.get("combined", {}))
    for entry in [*manifest.get("notebooks", {}).values(), manifest.get(PAPER_KEY) or {}]:
        outputs.update(entry.get("outputs", {}))
    return outputs


def work_tree() -> list[str]:
    """The work tree's outputs that are not what its manifest records (missing or edited
    since the build that wrote it): what a plain ``make`` would build again."""
    lay = layout(None, None)
    manifest = load_manifest(lay)
    if not manifest:
        return [f"{lay.key(lay.manifest)}: missing or not JSON, so no output can be checked"]
    found = []
    for key, recorded in sorted(recorded_outputs(manifest).items()):
        here = file_digest(lay.resolve(key))
        if here == ABSENT:
            found.append(f"{key}: missing (the manifest records sha256 {recorded[:12]})")
        elif here != recorded:
            found.append(f"{key}: sha256 {here[:12]}, the manifest records {recorded[:12]} "
                         "(edited since it was built)")
    return found


def rebuild(jobs: int | None = None) -> list[str]:
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
        env = without_folders(dict(os.environ))
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
        return f"{name}: differs (sha256 {digest(old)[:12]} -> {digest(new)[:12]})"
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return f"{name}: line {number}: {a.strip()[:70]!r} -> {b.strip()[:70]!r}"
    return f"{name}: {len(old_lines)} lines committed, {len(new_lines)} rebuilt"
