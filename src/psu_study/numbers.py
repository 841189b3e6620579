"""Headline numbers: merge each notebook's share into ``numbers.json`` and LaTeX macros.

A manuscript then cites ``\\nContacted`` instead of a typed 20, and cannot drift from the data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import staging

_DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]


def macro_name(key: str) -> str:
    """``n_contacted`` -> ``nContacted``; ``n_participants_code_C1_2`` ->
    ``nParticipantsCodeCOneTwo`` (TeX control words take letters only)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key) if w]
    spelled = []
    for i, word in enumerate(words):
        word = re.sub(r"[0-9]", lambda m: _DIGITS[int(m.group())], word)
        spelled.append(word if i == 0 else word[:1].upper() + word[1:])
    return "".join(spelled)


COUNT_PREFIX = "n_"
"""Counts are ``n_*`` (the stable keys' one convention, which the manuscript reads too)."""


def is_arithmetic(key: str, value: object) -> bool:
    """Whether a number is arithmetic on the data (a share, an interval, a test, a mean)
    rather than read from them as they are: a count (an ``n_*`` key) or a value the data
    hold (a date, a label, which numbers.json keeps as text)."""
    return not key.startswith(COUNT_PREFIX) and not isinstance(value, str)


def format_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def latex_escape(text: str) -> str:
    """Text safe inside a LaTeX argument (the characters our numbers and captions use)."""
    for char, escaped in (("\\", r"\textbackslash{}"), ("%", r"\%"), ("_", r"\_"),
                          ("&", r"\&"), ("#", r"\#")):
        text = text.replace(char, escaped)
    return text


def to_latex(numbers: dict[str, object]) -> str:
    """Every number as ``\\newcommand{\\name}{value}``, in key order."""
    lines = ["% Generated from tables/numbers.json by psu_study.numbers; do not edit."]
    seen: dict[str, str] = {}
    for key in sorted(numbers):
        name = macro_name(key)
        if name in seen:
            raise ValueError(f"keys {seen[name]!r} and {key!r} give the same macro \\{name}")
        seen[name] = key
        lines.append(f"\\newcommand{{\\{name}}}{{{latex_escape(format_value(numbers[key]))}}}")
    return "\n".join(lines) + "\n"


FRAGMENTS_DIR = "numbers"
"""Each notebook writes its numbers to ``<tables>/numbers/<notebook>.json``."""


def fragment(tables_dir: Path, name: str) -> Path:
    """Where notebook ``name`` writes its numbers under ``tables_dir``."""
    return Path(tables_dir) / FRAGMENTS_DIR / f"{name}.json"


def fragments(tables_dir: Path, names: list[str]) -> list[Path]:
    """The fragments the notebooks ``names`` have written under ``tables_dir``."""
    return [path for path in (fragment(tables_dir, name) for name in names) if path.exists()]


def write_numbers(tables_dir: Path, names: list[str]) -> dict[Path, bytes]:
    """The one writer of ``numbers.json`` and its LaTeX macros ``numbers.tex``: the fragments
    of the notebooks ``names``, merged (each file written only when its bytes change, so an
    unchanged build touches nothing); returns each file's bytes. The runner calls it after
    each wave; outside the runner, the notebook that reads the others' numbers does
    (``context.open_outputs``)."""
    merged = merge(fragments(tables_dir, names))
    files = {Path(tables_dir) / "numbers.json": dumps(merged).encode("utf-8"),
             Path(tables_dir) / "numbers.tex": to_latex(merged).encode("utf-8")}
    for target, data in files.items():
        staging.write_if_changed(target, data)
    return files


def merge(fragments: list[Path]) -> dict[str, object]:
    """One dict from every notebook's fragment; a key written by two notebooks is an error."""
    merged: dict[str, object] = {}
    owner: dict[str, str] = {}
    for path in sorted(fragments):
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged and merged[key] != value:
                raise ValueError(f"numbers key {key!r} is written by both {owner[key]} and "
                                 f"{path.stem} with different values")
            merged[key] = value
            owner[key] = path.stem
    return dict(sorted(merged.items()))


def dumps(numbers: dict[str, object]) -> str:
    return json.dumps(numbers, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
