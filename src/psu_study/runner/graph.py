"""What each notebook depends on, and whether it must run again.

A notebook's inputs are its cells, the files it read when it last ran (recorded through
``staging.record_read``: data, the claims ledger, disclosure lists, the merged numbers), the
project's files it imports, transitively, and the lock. Nothing else: editing the report's
template reruns no notebook, editing ``themes.py`` reruns exactly the notebooks importing it.
``depfile`` gives make the same list, so make and the runner never disagree.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
from collections.abc import Iterable
from pathlib import Path

from ..notebook_files import cell_text
from ..paths import REPO_ROOT
from ..run_folders import RunFolders
from ..staging import ABSENT, digest, file_digest
from .layout import BuildError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO_ROOT / "requirements.lock"


def read_source(path: Path) -> dict:
    """A notebook as plain JSON: enough to decide whether it must run, without the cost of
    importing nbformat on a build that has nothing to do."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BuildError(f"{path.relative_to(path.parents[1])} is not a notebook (not JSON: "
                         f"{exc})") from None


def cells_fingerprint(nb: dict) -> str:
    """What a notebook computes: its cells' sources and tags, not their outputs."""
    cells = [(c["cell_type"], cell_text(c["source"]), sorted(c.get("metadata", {}).get("tags", [])))
             for c in nb["cells"]]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return digest(json.dumps([cells, kernel]).encode())


def _imported(tree: ast.AST, package: str) -> set[str]:
    """Every module an ``import`` anywhere in ``tree`` may load (also inside functions: a lazy
    import runs when the function does), with relative imports resolved against
    ``package``; for ``from m import n`` both ``m`` and ``m.n`` (``n`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def cell_imports(nb: dict) -> set[str]:
    """The modules a notebook's code cells import."""
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            with contextlib.suppress(SyntaxError):  # IPython syntax (magics): no imports
                names |= _imported(ast.parse(cell_text(cell["source"])), "")
    return names


def _module_file(name: str) -> Path | None:
    """The project file that defines module ``name``, or None if it is not the project's."""
    top, _, rest = name.partition(".")
    if top != PACKAGE_DIR.name:
        return None
    base = PACKAGE_DIR.joinpath(*rest.split(".")) if rest else PACKAGE_DIR
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_files() -> list[Path]:
    """The package's non-Python files."""
    return [p for p in sorted(PACKAGE_DIR.rglob("*"))
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]


@functools.cache
def _source_imports(source: str, package: str) -> frozenset[str]:
    """``_imported`` of a module's source, parsed once per build for every notebook that
    imports it (keyed by the text itself, so an edited module is parsed again)."""
    return frozenset(_imported(ast.parse(source), package))


def module_files(modules: set[str]) -> list[Path]:
    """The project's files that run when ``modules`` (a notebook's ``cell_imports``, say) are
    imported: theirs, those of the modules they import, transitively (their packages'
    ``__init__`` included), and the package data they name. Read from the source (``ast``),
    never from a kernel's ``sys.modules``, which in a forked kernel also holds what the fork
    server preloaded for other notebooks."""
    todo = set(modules)
    seen: set[str] = set()
    files: set[Path] = set()
    data = _package_files()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo.update(".".join(parts[:i]) for i in range(1, len(parts)))  # parent packages
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        source = path.read_text(encoding="utf-8")
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo |= _source_imports(source, package) - seen
        # The package's non-Python files a module names (its style sheet, say): read at
        # run time, they shape its results as its code does.
        files.update(p for p in data if p.name in source)
    return sorted(files)


def code_hashes(modules: Iterable[str], lay: RunFolders) -> dict[str, str]:
    """What results depend on besides the files they read: the project code behind
    ``modules`` (a notebook's ``cell_imports``, or the paper's module), transitively, and the
    pinned environment."""
    files = [*module_files(set(modules)), LOCK_FILE]
    return {lay.key(p): file_digest(p) for p in files if p.exists()}


def after_numbers(nb: dict) -> bool:
    """Whether the notebook reads ``numbers.json`` and so runs after the others."""
    return bool(nb.get("metadata", {}).get("psu_study", {}).get("after_numbers", False))


def inputs_digest(cells: str, code: dict[str, str], parameters: dict[str, str],
                  reads: dict[str, str]) -> str:
    return digest(json.dumps([cells, sorted(code.items()), parameters,
                                    sorted(reads.items())]).encode())


def stale_reason(entry: dict | None, code: dict[str, str], lay: RunFolders,
                 cells: str | None = None) -> str | None:
    """Why an output must be made again (a notebook's, or the paper's), or None when what
    made it still holds: the files it read, its code (``code_hashes``), for a notebook its
    cells and parameters (``cells``: its ``cells_fingerprint``), and its outputs, each as
    ``entry`` records them. These are exactly what the dependency file gives make
    (``write_depfile``)."""
    if not entry:
        return "never built here"
    if entry.get("failed"):
        return f"{entry['failed']} last time"
    recorded_reads = entry.get("reads", {})
    reads = {key: file_digest(lay.resolve(key)) for key in recorded_reads}
    for key, recorded in recorded_reads.items():
        if reads[key] == ABSENT and recorded != ABSENT:
            return f"{key} is gone"
    recorded = {**entry.get("code", {}), **recorded_reads}
    changed = [k for k, v in {**code, **reads}.items() if recorded.get(k) != v]
    changed += [k for k in entry.get("code", {}) if k not in code]
    if changed:
        return "changed: " + ", ".join(changed)
    if cells is not None and (inputs_digest(cells, code, lay.parameters(), reads)
                              != entry.get("inputs_sha256")):
        return "cells or parameters changed"
    for key, expected in entry.get("outputs", {}).items():
        if file_digest(lay.resolve(key)) != expected:
            return f"{key} is missing or was edited"
    return None
