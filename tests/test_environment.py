"""environment.yml (for conda users), pyproject.toml and requirements.lock agree, and the
lock is installed only with every package's hash checked."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from .conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + [d for ds in project["optional-dependencies"].values()
                                      for d in ds]


def _entries() -> list[tuple[str, str, list[str]]]:
    """(name, version, hashes) for each package in the lock, as uv pip compile writes it."""
    entries: list[tuple[str, str, list[str]]] = []
    for line in (REPO / "requirements.lock").read_text().splitlines():
        found = PIN.match(line)
        if found:
            entries.append((_name(found[1]), found[2], []))
        elif line.strip().startswith("--hash=") and entries:
            entries[-1][2].append(line.strip().removesuffix("\\").strip())
    return entries


def _lock() -> dict[str, str]:
    return {name: version for name, version, _ in _entries()}


def _conda_pip() -> list[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"]
    return [p for p in pip if not p.startswith("-e")]


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert {_name(p) for p in _conda_pip()} == {_name(p) for p in _pyproject()}


def test_environment_yml_pins_the_lock_files_versions():
    lock = _lock()
    for requirement in _conda_pip():
        name, version = requirement.split("==")
        locked = lock[_name(name)]
        assert locked == version, f"{name}: environment.yml {version}, lock {locked}"


def test_every_dependency_is_pinned_in_the_lock():
    lock = _lock()
    assert all(_name(p) in lock for p in _pyproject())
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in lock.values())


def test_every_locked_package_carries_hashes():
    entries = _entries()
    assert len(entries) > 100
    missing = [name for name, _, hashes in entries
               if not hashes or not all(h.startswith("--hash=sha256:") for h in hashes)]
    assert missing == []


def test_the_install_refuses_a_package_whose_hash_differs(tmp_path: Path):
    """The Makefile's installer, with the lock's own entry for one small package, offline
    (from the cache the environment was installed from): its real hashes install it, one
    changed hash is refused.

    README, section Two commands: "refusing any package whose hash differs from the lock's"."""
    uv = Path(sys.prefix) / "bin" / "uv"
    lock = (REPO / "requirements.lock").read_text()
    entry = re.search(r"^six==.*?(?=^\S)", lock, flags=re.MULTILINE | re.DOTALL)[0]
    changed = re.sub(r"sha256:[0-9a-f]{8}", "sha256:00000000", entry)
    results = {}
    for name, text in (("locked", entry), ("changed", changed)):
        (tmp_path / f"{name}.txt").write_text(text)
        results[name] = subprocess.run(
            [str(uv), "pip", "install", "--offline", "--require-hashes", "--no-deps",
             "--target", str(tmp_path / name), "-r", str(tmp_path / f"{name}.txt")],
            capture_output=True, text=True, timeout=120)
    assert results["locked"].returncode == 0, results["locked"].stderr
    assert results["changed"].returncode != 0
    assert "Hash mismatch for `six==1.17.0`" in results["changed"].stderr
    assert not (tmp_path / "changed" / "six.py").exists()

