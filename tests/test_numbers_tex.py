"""tables/numbers.tex: one macro per key of tables/numbers.json, with the same value.

The .tex is parsed here on its own terms (no call to the writer), so a bug in the writer
cannot produce the expected value it is checked against.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from psu_study.numbers import macro_name

from .conftest import REPO

NUMBERS_JSON = REPO / "tables" / "numbers.json"
NUMBERS_TEX = REPO / "tables" / "numbers.tex"
MACRO = re.compile(r"^\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}$")
DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
UNESCAPE = ((r"\textbackslash{}", "\\"), (r"\%", "%"), (r"\_", "_"), (r"\&", "&"), (r"\#", "#"))


def expected_name(key: str) -> str:
    """The documented naming: words split at non-alphanumerics, digits spelled out, the first
    word as written and the others capitalised (``n_participants_code_C1_2`` ->
    ``nParticipantsCodeCOneTwo``)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", key) if w]
    spelled = ["".join(DIGITS[int(ch)] if ch.isdigit() else ch for ch in w) for w in words]
    return spelled[0] + "".join(w[0].upper() + w[1:] for w in spelled[1:])


def parse_tex(text: str) -> dict[str, str]:
    macros: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("%"):
            continue
        match = MACRO.match(line)
        assert match, f"numbers.tex line {number} is not a \\newcommand: {line!r}"
        name, value = match.groups()
        assert name not in macros, f"\\{name} is defined twice"
        for escaped, plain in UNESCAPE:
            value = value.replace(escaped, plain)
        macros[name] = value
    return macros


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, object], dict[str, str]]:
    numbers = json.loads(NUMBERS_JSON.read_text(encoding="utf-8"))
    return numbers, parse_tex(NUMBERS_TEX.read_text(encoding="utf-8"))


def test_one_macro_per_key(both):
    numbers, macros = both
    names = {expected_name(k): k for k in numbers}
    assert len(names) == len(numbers), "two keys map to one macro name"
    assert set(macros) == set(names), (
        f"keys without a macro: {sorted(names[n] for n in set(names) - set(macros))}; "
        f"macros without a key: {sorted(set(macros) - set(names))}")


def test_every_macro_has_its_keys_value(both):
    numbers, macros = both
    for key, value in numbers.items():
        tex = macros[expected_name(key)]
        if isinstance(value, bool):
            assert tex == ("true" if value else "false"), key
        elif isinstance(value, int):
            assert tex == str(value), f"{key}: json {value}, tex {tex}"
        elif isinstance(value, float):
            assert math.isclose(float(tex), value, rel_tol=5e-6), f"{key}: json {value}, tex {tex}"
        else:
            assert tex == str(value), f"{key}: json {value!r}, tex {tex!r}"


def test_the_writers_naming_rule_on_worked_examples():
    """``numbers.macro_name`` itself (the parser above uses its own copy of the rule), on
    names worked out by hand from the documented rule."""
    assert macro_name("n_contacted") == "nContacted"
    assert macro_name("n_participants_code_C1_2") == "nParticipantsCodeCOneTwo"
    assert macro_name("pct_transcripts_coded_FF") == "pctTranscriptsCodedFF"
    assert macro_name("kappa_2x") == "kappaTwox"
