"""Shared fixtures: the repository, its data, the article, and a loaded study."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from psu_study.validation import Study, load_study

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
ARTICLE = REPO.parent / "shared" / "paper" / "000_8a5c687e5a0c0f93.txt"


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
