"""The build's record (``tables/manifest.json``): every output with its sha256, the notebook
that wrote it, what that notebook read and imported, and the environment."""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import TYPE_CHECKING

from .. import numbers, staging
from ..run_folders import RunFolders
from .graph import cell_imports, cells_fingerprint, code_hashes, inputs_digest
from .layout import BuildError
from .paper import KEY as PAPER_KEY

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .result import Result

KEY_PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "scipy", "statsmodels",
                "papermill", "nbclient", "ipykernel", "krippendorff")
ABOUT = ("Every output of the build: its sha256, the notebook that wrote it, the data it "
         "read and the project code it imports (with sha256), its parameters, and the "
         "environment.")


def notebook_bytes(nb: NotebookNode) -> bytes:
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def commit(result: Result, lay: RunFolders, entry: dict | None, source: dict) -> dict:
    """Move a succeeded notebook's outputs into place and return its manifest entry."""
    allowed = (lay.figures, lay.tables)
    outputs: dict[str, str] = {}
    for staged, target in result.moves:
        if not any(target.resolve().is_relative_to(folder) for folder in allowed):
            raise BuildError(f"{result.name} wrote {target}, outside {lay.figures} and "
                             f"{lay.tables}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        outputs[lay.key(target)] = staging.file_digest(target)
    for key in set((entry or {}).get("outputs", {})) - set(outputs):
        if not key.startswith("notebooks/"):
            lay.resolve(key).unlink(missing_ok=True)  # no longer made: not left stale
    target = lay.notebooks / f"{result.name}.ipynb"
    data = notebook_bytes(result.nb)
    staging.write_atomic(target, data)
    outputs[lay.key(target)] = staging.digest(data)
    code = code_hashes(cell_imports(source), lay)
    return {
        "notebook": f"notebooks/{result.name}.ipynb",
        "parameters": lay.parameters(),
        "inputs_sha256": inputs_digest(cells_fingerprint(source), code, lay.parameters(),
                                       result.reads),
        "reads": dict(sorted(result.reads.items())),
        "code": code,
        "outputs": dict(sorted(outputs.items())),
    }


@functools.cache
def environment() -> dict[str, object]:
    """Python's and the key packages' versions: looked up once a build, not per commit."""
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    return {"python": sys.version.split()[0], "packages": packages}


def write_numbers(lay: RunFolders, names: list[str]) -> dict[str, str]:
    """Merge the notebooks' numbers into ``numbers.json`` and ``numbers.tex``."""
    return {lay.key(target): staging.digest(data)
            for target, data in numbers.write_numbers(lay.tables, names).items()}


def load_manifest(lay: RunFolders) -> dict:
    """The last build's record; none (every notebook runs, and the record is written again)
    when it is missing or was edited into something that is not JSON."""
    if not lay.manifest.exists():
        return {}
    try:
        return json.loads(lay.manifest.read_text(encoding="utf-8"))
    except ValueError as exc:
        print(f"  {lay.key(lay.manifest)} is not JSON ({exc}): every notebook runs again",
              flush=True)
        return {}


def write_manifest(lay: RunFolders, entries: dict[str, dict], names: list[str],
                   paper: dict | None = None) -> dict:
    """Rewrite the manifest when its bytes change (also when nothing ran: a notebook was
    removed); otherwise only touch it. ``paper`` is the manuscript's entry, if it is built."""
    manifest = {
        "about": ABOUT,
        "environment": environment(),
        "notebooks": dict(sorted((k, v) for k, v in entries.items() if k in names)),
        "combined": write_numbers(lay, sorted(names)),
        **({PAPER_KEY: paper} if paper else {}),
    }
    data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if not staging.write_if_changed(lay.manifest, data):
        os.utime(lay.manifest)
    return manifest
