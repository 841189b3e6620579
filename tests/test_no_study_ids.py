"""Nothing about the repository's study is fixed in code: no module or notebook code cell
names its coders (EW, FF), its participants (P1..P8) or an id of its codebook.

Exempt, as the issue allows: the repository's data, their generator (``synthetic.py``, and
``article.py``, the article's published facts it generates them from), the article's ledger
and tests of the repository's data (none of which are scanned here).
Docstrings, comments and markdown cells are prose: they may cite the article ("EW coded all
data") or give an example of a format, and are not scanned; every identifier and every other
string literal is.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXEMPT_MODULES = {"synthetic.py", "article.py"}


def _pattern() -> re.Pattern[str]:
    with open(REPO / "data" / "codebook.csv", encoding="utf-8", newline="") as handle:
        ids = [row["code_id"] for row in csv.DictReader(handle)]
    names = ["EW", "FF", *(f"P{i}" for i in range(1, 9)), *ids]
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_.])(?:{alternatives})(?![A-Za-z0-9_]|\.[0-9])")


PATTERN = _pattern()


def _code_text(source: str) -> list[tuple[int, str]]:
    """(line, text) of every token that is code: names and string literals that are not
    docstrings (string expressions standing alone as statements)."""
    prose = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            prose.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(tok.start[0], tok.string) for tok in tokens
            if tok.type in (tokenize.NAME, tokenize.STRING) and tok.start[0] not in prose]


def _hits(label: str, source: str) -> list[str]:
    return [f"{label}:{line}: {PATTERN.search(text).group()} in {text[:60]!r}"
            for line, text in _code_text(source) if PATTERN.search(text)]


def test_the_pattern_finds_what_it_must():
    # The scan must be able to fail: each kind of name is found in code, none in prose.
    code = 'coder = "EW"\nwho = ("P3", "x")\ntheme = f"{x}T4"\nkey = "C4.1.2"\n'
    assert [hit.split(": ")[1] for hit in _hits("example", code)] == [
        "EW in '\"EW\"'", "P3 in '\"P3\"'", "T4 in 'f\"{x}T4\"'", "C4.1.2 in '\"C4.1.2\"'"]
    assert not _hits("example", '"""EW coded all data: see P3 and T4."""\n# FF, P8\nx = 1\n')
    assert not _hits("example", 'x = "P12"\ny = "T10"\nz = "DEW"\n')


def test_no_module_names_the_studys_people_or_themes():
    """README, section Running on your own data: "Nothing about this study is fixed in code:
    coders, participants and themes come from the data"."""
    hits = []
    for path in sorted((REPO / "src" / "psu_study").rglob("*.py")):
        if path.name not in EXEMPT_MODULES:
            hits += _hits(str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
    assert not hits, "\n".join(hits)


def test_no_notebook_code_cell_names_the_studys_people_or_themes():
    hits = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                hits += _hits(f"{path.name} cell {i}", "".join(cell["source"]))
    assert not hits, "\n".join(hits)
