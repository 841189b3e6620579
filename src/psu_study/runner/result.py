"""One notebook's run as ``notebook`` returns it and the build loop (``build``) hands it to
the record (``manifest``): its own module, so none of those imports another for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode


@dataclass
class Result:
    name: str
    seconds: float
    nb: NotebookNode
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    reads: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    started: bool = False
    """Whether its cells began to run (an interrupted one that never did keeps nothing)."""
