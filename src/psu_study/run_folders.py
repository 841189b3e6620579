"""One run's folders: where a notebook, the runner, the report and the paper read and write,
the names the build's records (the manifest) give files by the role of their folder, and the
rule that other data's outputs never land in the repository.

Notebook parameters left as ``None`` resolve here, so the same notebooks run on the
repository's data, on another directory named by ``PSU_STUDY_DATA_DIR``, or on whatever a
runner injects.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from .environment import FOLDER_ENV
from .paths import (
    DATA_DIR,
    FIGURES_DIR,
    REPO_ROOT,
    TABLES_DIR,
    display_path,
    inside_repository,
    is_repository_data,
)


class FoldersError(ValueError):
    """A path lies outside a run's folders, so the build's records cannot name it."""


def add_folder_options(parser: argparse.ArgumentParser, data_help: str, out_help: str) -> None:
    """The two folder options, spelt one way on every command line (the runner, the report,
    the paper, the editions' check); ``RunFolders.of(args.data_dir, args.out_dir)`` reads them."""
    parser.add_argument("--data-dir", type=Path, default=None, help=data_help)
    parser.add_argument("--out-dir", type=Path, default=None, help=out_help)


@dataclass(frozen=True)
class RunFolders:
    """One run's folders: the data it reads, where its figures and tables go, and ``root``,
    the folder its other outputs lie under (the repository for the default run, a build's
    OUT_DIR for any other). The notebooks, the paper, failed notebooks and staging are derived
    here once, so the runner, a notebook, the report and the paper agree on each."""

    data: Path
    figures: Path
    tables: Path
    root: Path

    @classmethod
    def of(cls, data_dir: Path | None = None, out_dir: Path | None = None) -> RunFolders:
        """The run on ``data_dir`` (default: the repository's data) with its outputs under
        ``out_dir`` (default: the repository's own folders). Nothing is refused here: each
        tool refuses other data's outputs inside the repository (``outputs_inside``)."""
        root = Path(out_dir).resolve() if out_dir is not None else REPO_ROOT
        return cls(Path(data_dir or DATA_DIR).resolve(), root / "figures", root / "tables", root)

    @classmethod
    def from_parameters(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        figures_dir: str | os.PathLike[str] | None = None,
        tables_dir: str | os.PathLike[str] | None = None,
    ) -> RunFolders:
        """A notebook's folders from its parameters: explicit value, then environment, then
        the repository's; its other outputs lie beside its tables (as a build's do)."""
        tables = _pick(tables_dir, FOLDER_ENV["tables_dir"], TABLES_DIR)
        return cls(_pick(data_dir, FOLDER_ENV["data_dir"], DATA_DIR),
                   _pick(figures_dir, FOLDER_ENV["figures_dir"], FIGURES_DIR), tables,
                   tables.parent)

    def resolved(self) -> RunFolders:
        """The same folders with links and relative parts resolved."""
        return RunFolders(self.data.resolve(), self.figures.resolve(), self.tables.resolve(),
                          self.root.resolve())

    @property
    def default(self) -> bool:
        """Whether this is the repository's own run: its outputs are the committed ones."""
        return self.root.resolve() == REPO_ROOT.resolve()

    @property
    def notebooks(self) -> Path:
        """The executed notebooks: ``notebooks/`` beside the sources, or under OUT_DIR."""
        return self.root / "notebooks"

    @property
    def paper(self) -> Path:
        return self.root / "paper"

    @property
    def paper_pdf(self) -> Path:
        """The manuscript typeset from this run's outputs: ``paper/paper.pdf`` under its root."""
        return self.paper / "paper.pdf"

    @property
    def paper_html(self) -> Path:
        """The manuscript's HTML edition, beside the PDF."""
        return self.paper / "paper.html"

    @property
    def report(self) -> Path:
        """The static report of this run's outputs: ``report/`` under its root."""
        return self.root / "report"

    @property
    def manifest(self) -> Path:
        return self.tables / "manifest.json"

    @property
    def failed(self) -> Path:
        """Where a failed notebook is kept for reading (never among the outputs)."""
        return self.root / ("build/failed" if self.default else "failed")

    @property
    def stage(self) -> Path:
        """Where outputs are staged before they replace the previous ones all at once."""
        return self.root / ("build/stage" if self.default else ".stage")

    @property
    def by_role(self) -> dict[str, Path]:
        """The folders behind the first part of a file's name in the build's records (the
        manifest): ``figures/x.png`` lies in ``figures``, ``repo/claims/ledger.yaml`` in the
        repository, wherever a run put them ("repo" last: the others may lie inside it)."""
        return {"data": self.data, "figures": self.figures, "tables": self.tables,
                "notebooks": self.notebooks, "paper": self.paper, "repo": REPO_ROOT}

    def find_key(self, path: Path) -> str | None:
        """``path``'s name in the records (never a machine-specific prefix), or None."""
        path = path.resolve()
        for role, folder in self.by_role.items():
            if path.is_relative_to(folder.resolve()):
                return f"{role}/{path.relative_to(folder.resolve()).as_posix()}"
        return None

    def key(self, path: Path) -> str:
        """``path``'s name in the records; a path outside every folder is an error."""
        found = self.find_key(path)
        if found is None:
            raise FoldersError(f"{path} is outside the run's data and output folders")
        return found

    def resolve(self, key: str) -> Path:
        """The file a record's name stands for, in this run's folders."""
        role, _, rest = key.partition("/")
        return self.by_role[role] / rest

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
        return {FOLDER_ENV[name]: str(folder) for name, folder in folders.items()}


def _given(value: str | os.PathLike[str] | None) -> bool:
    return value is not None and str(value) != ""


def _pick(value: str | os.PathLike[str] | None, env: str, default: Path) -> Path:
    if _given(value):
        return Path(value).expanduser().resolve()
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser().resolve()
    return default


class OutputDirError(ValueError):
    """Other data would write its outputs into the repository, where they could be
    committed."""


def outputs_inside(data: Path, outputs: dict[str, Path]) -> list[str]:
    """The names of ``outputs`` that would put results of ``data`` into the work tree: none
    for the repository's own data, else those whose folder lies inside the repository."""
    if is_repository_data(data):
        return []
    return [name for name, folder in outputs.items() if inside_repository(folder)]


def check_output_dirs(dirs: RunFolders, data_dir: str | os.PathLike[str] | None = None) -> None:
    """Refuse, before anything is written, other data whose figures or tables would land in
    the work tree: every route (the runner, papermill, nbval, JupyterLab) passes here.
    ``data_dir`` is the notebook's parameter, to say where the data folder was named."""
    inside = outputs_inside(dirs.data, {"figures_dir": dirs.figures, "tables_dir": dirs.tables})
    if not inside:
        return
    named = "parameter data_dir" if _given(data_dir) else FOLDER_ENV["data_dir"]
    raise OutputDirError(
        f"data from {display_path(dirs.data)} ({named}) is not the repository's data/, and "
        f"{' and '.join(inside)} would write its outputs inside the repository: set "
        f"{' and '.join(inside)} (papermill -p, or "
        f"{' and '.join(FOLDER_ENV[name] for name in inside)}) to folders outside it, or "
        "build with make DATA_DIR=... OUT_DIR=...")
