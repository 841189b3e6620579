"""Where one build reads and writes; the names its records give files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import (
    BUILD_DIR,
    DATA_DIR,
    FIGURES_DIR,
    NOTEBOOKS_DIR,
    REPO_ROOT,
    TABLES_DIR,
    display_path,
    inside_repository,
    is_repository_data,
)
from ..run_folders import ENV, record_folders, record_key, resolve_record_key


class BuildError(RuntimeError):
    """The build was refused or a notebook failed; the message says which and why."""


@dataclass(frozen=True)
class Layout:
    """Where one build reads and writes; keys in the manifest are relative to ``root``."""

    data: Path
    figures: Path
    tables: Path
    notebooks_out: Path
    failed: Path
    stage: Path
    root: Path
    default: bool

    @property
    def manifest(self) -> Path:
        return self.tables / "manifest.json"

    def parameters(self) -> dict[str, str]:
        """The folders this run gives the notebooks, by role, as the manifest records them:
        nothing for the default run; for any other, never a path of this machine (the
        kernels get the paths themselves through ``environment``)."""
        if self.default:
            return {}
        return {"data_dir": "<data_dir>", "figures_dir": "<out_dir>/figures",
                "tables_dir": "<out_dir>/tables"}

    def environment(self) -> dict[str, str]:
        """What each kernel's environment adds: the folders of another run, through the
        variables a notebook's parameters fall back on, so no executed notebook records
        them (nothing is injected into its cells); nothing for the default run."""
        if self.default:
            return {}
        folders = {"data_dir": self.data, "figures_dir": self.figures,
                   "tables_dir": self.tables}
        return {ENV[name]: str(folder) for name, folder in folders.items()}

    @property
    def paper_pdf(self) -> Path:
        """The manuscript this build typesets last: ``paper/paper.pdf`` under its root."""
        return self.root / "paper" / "paper.pdf"

    @property
    def folders(self) -> dict[str, Path]:
        return record_folders(self.data, self.figures, self.tables, self.notebooks_out,
                              self.paper_pdf.parent)

    def key(self, path: Path) -> str:
        """A stable name for ``path`` in the manifest (never a machine-specific prefix)."""
        found = record_key(path, self.folders)
        if found is None:
            raise BuildError(f"{path} is outside the build's data and output folders")
        return found

    def resolve(self, key: str) -> Path:
        return resolve_record_key(key, self.folders)


def layout(data_dir: Path | None, out_dir: Path | None) -> Layout:
    """The default run writes into the repository; any other data must go to ``out_dir``,
    outside the work tree, so confidential results can never be committed by accident."""
    data = (data_dir or DATA_DIR).resolve()
    if out_dir is None:
        if not is_repository_data(data):
            raise BuildError(f"data from {display_path(data)} needs OUT_DIR: results of other "
                             "data are never written into the repository (make DATA_DIR=... "
                             "OUT_DIR=...)")
        return Layout(data, FIGURES_DIR, TABLES_DIR, NOTEBOOKS_DIR, BUILD_DIR / "failed",
                      BUILD_DIR / "stage", REPO_ROOT, default=True)
    out = out_dir.resolve()
    if inside_repository(out):
        raise BuildError(f"OUT_DIR {display_path(out)} is inside the repository; choose a "
                         "folder outside it so nothing derived from other data can be "
                         "committed")
    return Layout(data, out / "figures", out / "tables", out / "notebooks", out / "failed",
                  out / ".stage", out, default=False)
