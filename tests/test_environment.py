"""environment.yml (for conda users), pyproject.toml and requirements.lock agree."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + [d for ds in project["optional-dependencies"].values()
                                      for d in ds]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


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
