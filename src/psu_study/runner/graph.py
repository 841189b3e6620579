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
import hashlib
import json
from pathlib import Path

from ..notebook_files import cell_text
from ..paths import REPO_ROOT
from ..run_folders import RunFolders
from ..staging import ABSENT, file_digest
from .layout import BuildError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO_ROOT / "requirements.lock"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    return sha256_bytes(json.dumps([cells, kernel]).encode())


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


def project_imports(nb: dict) -> list[Path]:
    """The project's files a notebook runs: the modules its cells import, the modules those
    import, transitively (their packages' ``__init__`` included), and the package data they
    name. Read from the source (``ast``), never from a kernel's ``sys.modules``, which in a
    forked kernel also holds what the fork server preloaded for other notebooks."""
    return module_files(cell_imports(nb))


def module_files(modules: set[str]) -> list[Path]:
    """The project's files behind ``modules``, transitively (see ``project_imports``)."""
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


def code_hashes(nb: dict, lay: RunFolders) -> dict[str, str]:
    """What a notebook's results depend on besides its cells and the data it reads: the
    project code it imports and the pinned environment."""
    files = [*project_imports(nb), LOCK_FILE]
    return {lay.key(p): sha256_file(p) for p in files if p.exists()}


def after_numbers(nb: dict) -> bool:
    """Whether the notebook reads ``numbers.json`` and so runs after the others."""
    return bool(nb.get("metadata", {}).get("psu_study", {}).get("after_numbers", False))


def inputs_digest(cells: str, code: dict[str, str], parameters: dict[str, str],
                  reads: dict[str, str]) -> str:
    return sha256_bytes(json.dumps([cells, sorted(code.items()), parameters,
                                    sorted(reads.items())]).encode())


def stale_reason(nb: dict, entry: dict | None, lay: RunFolders) -> str | None:
    """Why a notebook must run again, or None when its recorded inputs and outputs still
    hold. Its inputs are exactly what the dependency file gives make (``write_depfile``)."""
    if entry is None:
        return "never built here"
    if entry.get("failed"):
        return f"{entry['failed']} last time"
    reads = {}
    for key, recorded in entry.get("reads", {}).items():
        reads[key] = file_digest(lay.resolve(key))
        if reads[key] == ABSENT and recorded != ABSENT:
            return f"{key} is gone"
    code = code_hashes(nb, lay)
    digest = inputs_digest(cells_fingerprint(nb), code, lay.parameters(), reads)
    if digest != entry.get("inputs_sha256"):
        recorded = {**entry.get("code", {}), **entry["reads"]}
        changed = [k for k, v in {**code, **reads}.items() if recorded.get(k) != v]
        changed += [k for k in entry.get("code", {}) if k not in code]
        return ("changed: " + ", ".join(changed)) if changed else "cells or parameters changed"
    for key, expected in entry.get("outputs", {}).items():
        path = lay.resolve(key)
        if not path.exists() or sha256_file(path) != expected:
            return f"{key} is missing or was edited"
    return None
