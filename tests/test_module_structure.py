"""The package's shape, read from its source with ``ast`` (nothing imported, no kernel):
modules a reader can hold, no import circle, and notebook 05 kept off the code it does not
run (issue 21, "Modules a reader can hold")."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from psu_study.runner.graph import cell_imports, module_files, read_source

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "psu_study"
MAX_LINES = 600
"""Issue 21's bound: no module over 600 lines."""


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its source: at the top, in a
    function, or under ``TYPE_CHECKING`` (a circle a type checker must untangle is still a
    circle a reader must)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found & known - {name}


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Each module's imports of the package, read once for every test here (read them,
    never change them)."""
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (its modules, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (circle := visit(target)):
                return circle
        state[name] = "done"
        path.pop()
        return None

    for name in sorted(graph):
        if name not in state and (circle := visit(name)):
            return circle
    return None


def test_no_module_is_over_600_lines():
    long = {str(path.relative_to(REPO)): n for path in modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_two_modules_import_each_other_however_indirectly():
    circle = find_circle(import_graph())
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_finder_finds_a_hand_made_circle():
    """The check above can fail: a circle three modules long, a self-contained tail."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_circle(graph) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_imports_are_read_as_python_resolves_them():
    """Relative imports, ``from package import module``, and ``TYPE_CHECKING`` imports: the
    edges that made the runner's build loop and runner.manifest a circle."""
    graph = import_graph()
    assert {"psu_study.runner.result", "psu_study.runner.manifest",
            "psu_study.staging"} <= graph["psu_study.runner.build"]
    assert "psu_study.runner.result" in graph["psu_study.runner.manifest"]
    assert graph["psu_study.qda.__main__"] == {"psu_study.qda.cli"}


def test_notebook_05_runs_the_exporter_and_not_the_importer_or_the_explorer():
    """What the runner records as notebook 05's code (an edit to any of it reruns 05): the
    QDA exporter, never the importer, and none of the analysts' exploration helpers."""
    files = {str(p.relative_to(PACKAGE)) for p in
             module_files(cell_imports(read_source(REPO / "notebooks" / "05_agreement.ipynb")))}
    assert {"qda/__init__.py", "qda/exporter.py", "agreement.py", "outputs.py"} <= files
    assert not files & {"qda/importer.py", "qda/archive.py", "qda/project.py",
                        "qda/offsets.py", "qda/cli.py", "explore.py"}
