"""One folder object for a run (issue 21, "One definition per idea": one folder object for a
run, used by the runner, the notebooks, the report and the paper, and one spelling of folder
options on every command line). Expected folders are written out by hand from the layout the
docs give: the repository's ``figures/``, ``tables/``, ``notebooks/``, ``paper/paper.pdf``,
``build/failed`` and ``build/stage``; under an OUT_DIR the same names, with ``failed`` and
``.stage`` at its top."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from psu_study.environment import FOLDER_ENV
from psu_study.run_folders import FoldersError, RunFolders
from psu_study.runner.layout import BuildError, layout

REPO = Path(__file__).resolve().parents[1]


def test_the_repositorys_run_derives_every_folder_in_the_repository():
    run = RunFolders.of()
    assert (run.data, run.figures, run.tables, run.root) == (
        REPO / "data", REPO / "figures", REPO / "tables", REPO)
    assert run.default
    assert run.notebooks == REPO / "notebooks"
    assert run.paper_pdf == REPO / "paper" / "paper.pdf"
    assert run.paper_html == REPO / "paper" / "paper.html"
    assert run.report == REPO / "report"
    assert run.manifest == REPO / "tables" / "manifest.json"
    assert (run.failed, run.stage) == (REPO / "build" / "failed", REPO / "build" / "stage")
    assert run.parameters() == {} and run.environment() == {}


def test_another_run_puts_every_output_under_its_out_dir(tmp_path):
    data, out = tmp_path / "study", tmp_path / "out"
    run = RunFolders.of(data, out)
    assert (run.data, run.figures, run.tables) == (data, out / "figures", out / "tables")
    assert not run.default
    assert run.notebooks == out / "notebooks"
    assert run.paper_pdf == out / "paper" / "paper.pdf"
    assert run.report == out / "report"
    assert (run.failed, run.stage) == (out / "failed", out / ".stage")
    # The manifest records folders by role, never this machine's paths ...
    assert run.parameters() == {"data_dir": "<data_dir>", "figures_dir": "<out_dir>/figures",
                                "tables_dir": "<out_dir>/tables"}
    # ... and the kernels get the paths through the variables the notebooks fall back on.
    assert run.environment() == {"PSU_STUDY_DATA_DIR": str(data),
                                 "PSU_STUDY_FIGURES_DIR": str(out / "figures"),
                                 "PSU_STUDY_TABLES_DIR": str(out / "tables")}


def test_records_name_files_by_the_role_of_their_folder(tmp_path):
    run = RunFolders.of(tmp_path / "study", tmp_path / "out")
    cases = {
        tmp_path / "study" / "codebook.csv": "data/codebook.csv",
        tmp_path / "out" / "figures" / "a.png": "figures/a.png",
        tmp_path / "out" / "tables" / "numbers.json": "tables/numbers.json",
        tmp_path / "out" / "notebooks" / "01_x.ipynb": "notebooks/01_x.ipynb",
        tmp_path / "out" / "paper" / "paper.pdf": "paper/paper.pdf",
        REPO / "claims" / "ledger.yaml": "repo/claims/ledger.yaml",
    }
    for path, key in cases.items():
        assert run.key(path) == key
        assert run.resolve(key) == path
    with pytest.raises(FoldersError, match="outside the run's data and output folders"):
        run.key(tmp_path / "elsewhere.txt")
    assert run.find_key(tmp_path / "elsewhere.txt") is None


def test_a_notebooks_folders_come_from_its_parameters_then_the_environment(tmp_path,
                                                                         monkeypatch):
    for name in FOLDER_ENV.values():
        monkeypatch.delenv(name, raising=False)
    assert RunFolders.from_parameters() == RunFolders.of()
    monkeypatch.setenv("PSU_STUDY_TABLES_DIR", str(tmp_path / "out" / "tables"))
    monkeypatch.setenv("PSU_STUDY_FIGURES_DIR", str(tmp_path / "out" / "figures"))
    run = RunFolders.from_parameters(data_dir=tmp_path / "study")
    # The runner's environment gives a notebook the same run the runner has.
    assert run == RunFolders.of(tmp_path / "study", tmp_path / "out")


def test_the_runner_refuses_other_data_without_an_out_dir_outside_the_repository(tmp_path):
    with pytest.raises(BuildError, match="needs OUT_DIR"):
        layout(tmp_path, None)
    with pytest.raises(BuildError, match="inside the repository"):
        layout(tmp_path, REPO / "out")
    assert layout(tmp_path, tmp_path / "out") == RunFolders.of(tmp_path, tmp_path / "out")


COMMANDS = {
    "psu_study.runner.cli": [],
    "psu_study.report": [],
    "psu_study.manuscript": [],
    "psu_study.editions": ["check", "paper.pdf"],
}
"""The commands that read or write a run's outputs, with what each needs besides folders."""


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_every_command_spells_a_runs_folders_alike(module, capsys):
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as shown:
        main([*COMMANDS[module][:1], "--help"])
    assert shown.value.code == 0
    usage = capsys.readouterr().out
    assert "--data-dir" in usage and "--out-dir" in usage, usage
    for old in ("--tables-dir", "--figures-dir", "--notebooks-dir", "--paper", "--out "):
        with pytest.raises(SystemExit) as refused:
            main([*COMMANDS[module], old.strip(), "x"])
        assert refused.value.code == 2, (module, old)
        assert "unrecognized arguments" in capsys.readouterr().err


IMPORTERS = {"psu_study.qda.cli": ["project.qdpx"], "psu_study.synthetic": []}
"""The commands that write a data folder, with what each needs besides it."""


@pytest.mark.parametrize("module", sorted(IMPORTERS))
def test_the_importers_write_the_data_folder_named_by_out_dir(module, capsys):
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert "--out-dir" in usage and "--out " not in usage, usage
    with pytest.raises(SystemExit) as refused:  # the old spelling, not taken as a prefix
        main([*IMPORTERS[module], "--out", "x"])
    assert refused.value.code == 2
    error = capsys.readouterr().err  # --out is neither taken for --out-dir nor known
    assert "unrecognized arguments: --out" in error or "required: --out-dir" in error, error
