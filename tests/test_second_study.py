"""A second, independent study (tests/fixtures/second_study, written by hand) built end to end
with the runner and with plain papermill, checked against figures worked out by hand below.

The repository's data were generated to satisfy the article's numbers, so tests of those
numbers mostly test the generator; this study was not made to fit the code. Every expected
value here is computed by hand from the fixture's CSV files (arithmetic in the comments),
never by calling the package.

The fixture, in short (see its CSV files):
- recruitment: 9 trainees contacted (R1-R9); R1-R8 expressed interest, R1-R7 consented,
  R1-R6 interviewed as P11-P16; R7 consented and was not interviewed.
- participants: P11 female FY2, P12 male CT1, P13 female ST3, P14 female ST3, P15 male ST5,
  P16 female FY1. PSU users: 200, of them 120 women.
- interviews (minutes): P11 30 telephone, P12 45 video, P13 60 telephone, P14 50
  face-to-face, P15 40 video, P16 75 telephone.
- codebook: theme A > sub-theme A1 > code A1a > code A1a-i; A > code A2; theme B > code B1;
  theme Z > code Z1 (nobody coded Z).
- segments (participant coder code): AB, the coder of every transcript:
  s01 P11 A1a-i, s02 P11 B, s03 P12 A, s04 P12 A2, s05 P13 A1a, s06 P13 A1a, s07 P14 B1,
  s08 P15 A1a-i, s09 P15 B, s10 P16 A2; CD: s11 P11 A1a, s12 P12 A, s13 P12 B1;
  EF: s14 P13 A2, s15 P14 B, s16 P14 A1. GH is in coders.csv and has no segment (a QDA
  user who coded nothing). No transcripts/ folder.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from psu_study.environment import DETERMINISTIC_ENV, STAGE_ENV
from psu_study.notebook_files import notebook_paths

from .conftest import REPO, STUDY

NOTEBOOKS = notebook_paths(REPO / "notebooks")

# --- the hand figures -----------------------------------------------------------------------

# Prevalence on AB's coding (a participant counts once per node; a segment counts for its
# code and every node above it):
# A: P11 (s01 via A1a-i > A1a > A1 > A), P12 (s03 at A itself, s04 A2), P13 (s05, s06),
#    P15 (s08), P16 (s10) = 5 of 6 = 83.33% -> 83; segments s01 s03 s04 s05 s06 s08 s10 = 7.
# A1: P11, P13, P15 = 3 of 6 = 50%; segments s01 s05 s06 s08 = 4.
# A1a: P11 (through A1a-i), P13, P15 = 3; A1a-i: P11, P15 = 2; A2: P12, P16 = 2.
# B: P11 (s02 at B itself), P14 (s07 B1), P15 (s09) = 3 of 6 = 50%; 3 segments. B1: P14 = 1.
# Z, Z1: nobody = 0 (a theme nobody coded is a zero row, not an error: A and B are not 0).
PREVALENCE_ROWS = [
    # Theme (sub-themes indented by four spaces), Participants, Participants (%), segments
    ["Asking for help", "5", "83", "7"],
    ["    Telling someone", "3", "50", "4"],
    ["Returning to work", "3", "50", "3"],
    ["Leaving medicine", "0", "0", "0"],
]

# Agreement, participant unit (cells: both / only the first coder / only the second /
# neither). AB vs CD share P11 and P12:
#   A: P11 both (s01; s11), P12 both (s03; s12) -> both coded every unit: kappa undefined,
#      agreement 100%.
#   B: P11 AB only (s02), P12 CD only (s13 B1) -> 0% agreement; p_o = 0, each coder 1/2,
#      p_e = 1/4 + 1/4 = 1/2, kappa = (0 - 1/2) / (1/2) = -1; alpha: 4 values, 2 zeros and 2
#      ones, 2 disagreeing units: 1 - 3 * 2 / (2 * 2) = -0.5.
#   Z: neither, twice -> undefined, 100%.
#   Pooled: 6 units, n11 = 2 (A), n10 = 1, n01 = 1 (B), n00 = 2 (Z): agreement 4/6 = 66.67%;
#      p_e = 1/2 * 1/2 + 1/2 * 1/2 = 1/2, kappa = (2/3 - 1/2) / (1/2) = 1/3;
#      alpha: 12 values, zeros 2*2 + 2 = 6, ones 2*2 + 2 = 6, 2 disagreeing:
#      1 - 11 * 2 / (6 * 6) = 14/36 = 0.3889.
# AB vs EF share P13 and P14:
#   A: P13 both (s05; s14 A2), P14 EF only (s16 A1) -> 50%; AB 1/2, EF 2/2, p_e = 1/2,
#      p_o = 1/2, kappa = 0 (EF coded every unit); alpha 1 - 3 * 1 / (1 * 3) = 0.
#   B: P13 neither, P14 both (s07 B1; s15) -> 100%; p_e = 1/2, kappa = 1, alpha = 1.
#   Z: neither, twice -> undefined.
#   Pooled: n11 = 2, n01 = 1, n10 = 0, n00 = 3: agreement 5/6 = 83.33%; AB 2/6, EF 3/6,
#      p_e = 1/3 * 1/2 + 2/3 * 1/2 = 1/2, kappa = (5/6 - 1/2) / (1/2) = 2/3; alpha: zeros
#      2*3 + 1 = 7, ones 2*2 + 1 = 5, 1 disagreeing: 1 - 11 * 1 / 35 = 24/35 = 0.6857.
# CD and EF share no transcript: not compared.
PAIRWISE = {
    # (coders, theme_id): (n_units, percent agreement, kappa, alpha); None = undefined
    ("AB vs CD", "A"): (2, 100.0, None, None),
    ("AB vs CD", "B"): (2, 0.0, -1.0, -0.5),
    ("AB vs CD", "Z"): (2, 100.0, None, None),
    ("AB vs CD", "all"): (6, 400 / 6, 1 / 3, 14 / 36),
    ("AB vs EF", "A"): (2, 50.0, 0.0, 0.0),
    ("AB vs EF", "B"): (2, 100.0, 1.0, 1.0),
    ("AB vs EF", "Z"): (2, 100.0, None, None),
    ("AB vs EF", "all"): (6, 500 / 6, 2 / 3, 24 / 35),
}
# Krippendorff's alpha across all three coders, participant unit: the units are the
# transcripts two or more coders coded, P11-P14 (two coders each; the others are missing).
#   A: P11 (1, 1), P12 (1, 1), P13 (1, 1), P14 (AB 0, EF 1): 8 values, 1 zero, 7 ones,
#      1 disagreeing unit: 1 - 7 * 1 / (1 * 7) = 0.
#   B: P11 (1, 0), P12 (0, 1), P13 (0, 0), P14 (1, 1): zeros 4, ones 4, 2 disagreeing:
#      1 - 7 * 2 / (4 * 4) = 0.125.
#   Z: only zeros: undefined.
#   Pooled, 12 units: zeros 1 + 4 + 8 = 13, ones 7 + 4 + 0 = 11, 3 disagreeing:
#      1 - 23 * 3 / (13 * 11) = 1 - 69/143 = 74/143 = 0.5175.
ALL_CODERS = {"A": 0.0, "B": 0.125, "Z": None, "all": 74 / 143}

NUMBERS = {
    # recruitment: reached at least each stage, R1-R9 / R1-R8 / R1-R7 / R1-R6
    "n_contacted": 9, "n_interested": 8, "n_consented": 7, "n_interviewed": 6,
    "pct_responded": 100 * 8 / 9,       # 88.89
    "pct_interviewed": 100 * 6 / 9,     # 66.67
    # 2021-01-04 to 2021-03-01: 27 days to 31 Jan, + 28 in Feb, + 1 = 56, both ends: 57
    "recruitment_period_days": 57,
    "recruitment_first_contact": "2021-01-04", "recruitment_last_contact": "2021-03-01",
    # participants: 4 women of 6 (two men), against 120 of 200 users (60%)
    "n_participants": 6, "n_participants_female": 4, "pct_participants_female": 400 / 6,
    "n_psu_users": 200, "n_psu_users_female": 120, "pct_psu_users_female": 60.0,
    # P(X >= 4), X ~ Bin(6, 0.6): 15 * .6^4 * .4^2 + 6 * .6^5 * .4 + .6^6
    #   = .31104 + .186624 + .046656 = .54432
    "p_sample_female_at_least_observed": 0.54432,
    # stages FY2, CT1, ST3, ST3, ST5, FY1: five distinct, FY1 to ST5, two in Foundation
    "n_training_stages": 5, "stage_earliest": "FY1", "stage_latest": "ST5",
    "n_participants_foundation": 2,
    # interviews: 30 45 60 50 40 75; sum 300, mean 50, median (45 + 50) / 2 = 47.5;
    # deviations -20 -5 10 0 -10 25, squares sum 1250, / 5 = 250, sd = sqrt(250) = 15.811
    "n_interviews": 6, "duration_min_minutes": 30, "duration_max_minutes": 75,
    "duration_mean_minutes": 50.0, "duration_median_minutes": 47.5,
    "duration_sd_minutes": 250 ** 0.5, "duration_total_minutes": 300,
    "n_interviews_telephone": 3, "n_interviews_video": 2, "n_interviews_face_to_face": 1,
    "interview_first_date": "2021-01-20", "interview_last_date": "2021-03-02",
    # themes (see above); 3 themes, 1 sub-theme, 5 codes (A1a A1a-i A2 B1 Z1), 16 segments
    "n_themes": 3, "n_subthemes": 1, "n_codes": 5, "n_segments": 16,
    "n_themes_with_subthemes": 1,
    "n_participants_theme_A": 5, "n_participants_subtheme_A1": 3,
    "n_participants_code_A1a": 3, "n_participants_code_A1a_i": 2,
    "n_participants_code_A2": 2, "n_participants_theme_B": 3, "n_participants_code_B1": 1,
    "n_participants_theme_Z": 0, "n_participants_code_Z1": 0,
    # Four coders listed, three of whom coded: GH coded none of the 6 transcripts, a count
    # (0 of 6, 0%), not a number from nothing.
    "prevalence_coder": "AB", "n_coders": 3,
    "n_transcripts_coded_AB": 6, "n_transcripts_coded_CD": 2, "n_transcripts_coded_EF": 2,
    "n_transcripts_coded_GH": 0,
    "pct_transcripts_coded_AB": 100.0, "pct_transcripts_coded_CD": 100 * 2 / 6,
    "pct_transcripts_coded_EF": 100 * 2 / 6, "pct_transcripts_coded_GH": 0,
    # agreement (see above)
    "n_coder_pairs_compared": 2,
    "agreement_participant_AB_CD_pct": 400 / 6, "agreement_participant_AB_CD_kappa": 1 / 3,
    "agreement_participant_AB_CD_alpha": 14 / 36,
    "agreement_participant_AB_CD_n_transcripts": 2,
    "agreement_participant_AB_EF_pct": 500 / 6, "agreement_participant_AB_EF_kappa": 2 / 3,
    "agreement_participant_AB_EF_alpha": 24 / 35,
    "agreement_participant_AB_EF_n_transcripts": 2,
    # The main pair shares the most transcripts: AB-CD and AB-EF share two each, so the
    # first in coders.csv order, AB-CD, whose figures are also the unprefixed keys.
    "agreement_main_pair": "AB vs CD",
    "agreement_participant_pct": 400 / 6, "agreement_participant_kappa": 1 / 3,
    "agreement_participant_alpha": 14 / 36, "agreement_participant_n_transcripts": 2,
    "agreement_participant_all_coders_alpha": 74 / 143,
    "agreement_participant_all_coders_n_transcripts": 4,
}

# The fixture's own ledger (claims.yaml), by hand: n_interviewed 6 holds ("6", 5.5 to 6.5);
# "most" of 6 is 4 to 5 (more than 3, fewer than 6) and A has 5; "several" of 6 is 3 to 3
# and B has 3; "none" is 0 and Z has 0. Four claims, all hold.
CLAIMS = {"fixture.interviewed": ("6", "holds"), "fixture.most_asked": ("5 of 6", "holds"),
          "fixture.several_returned": ("3 of 6", "holds"),
          "fixture.none_left": ("0 of 6", "holds")}


# --- the two builds, once each ----------------------------------------------------------------

def _environment() -> dict[str, str]:
    """This process's environment without the stage folder conftest sets for nbval: these
    runs write their outputs in place, under the temporary folders they are given."""
    env = {k: v for k, v in os.environ.items() if k != STAGE_ENV}
    env.update(DETERMINISTIC_ENV)
    return env


def test_a_build_from_nothing_runs_every_notebook_and_the_paper(second_study_build):
    _, log = second_study_build
    done = sorted(line.split()[1] for line in log.splitlines()
                  if line.strip().startswith("done "))
    assert done == sorted(p.stem for p in NOTEBOOKS), log
    assert "typeset paper/paper.pdf" in log, log


@pytest.fixture(scope="module")
def runner_build(second_study_build) -> Path:
    """The runner, as `make DATA_DIR=... OUT_DIR=...` calls it: the session's one such build
    (conftest's ``second_study_build``, which tests/test_paper_any_study.py reads too)."""
    return second_study_build[0]


PAPERMILL_IN_ORDER = """
import sys
from pathlib import Path

import papermill

out, data = map(Path, sys.argv[1:3])
for notebook in map(Path, sys.argv[3:]):
    print(notebook.name, flush=True)  # the last name printed is the one that failed
    papermill.execute_notebook(
        notebook, out / "notebooks" / notebook.name, cwd=notebook.parent, progress_bar=False,
        parameters={"data_dir": str(data), "figures_dir": str(out / "figures"),
                    "tables_dir": str(out / "tables")})
"""
"""What `papermill NOTEBOOK OUT -p data_dir ... --cwd notebooks` does for each notebook in
turn, from one Python process, so papermill's own start (over a second) is paid once; each
notebook still gets a fresh kernel from papermill."""


@pytest.fixture(scope="module")
def papermill_build(tmp_path_factory) -> Path:
    """Plain papermill, every notebook in numbered order, no runner."""
    out = tmp_path_factory.mktemp("second_papermill")
    (out / "notebooks").mkdir()
    result = subprocess.run(
        [sys.executable, "-c", PAPERMILL_IN_ORDER, str(out), str(STUDY), *map(str, NOTEBOOKS)],
        capture_output=True, text=True, cwd=REPO, env=_environment(), timeout=900)
    failed = result.stdout.split()[-1:]
    assert result.returncode == 0, f"{failed}: {result.stderr[-3000:]}"
    assert result.stdout.split() == [n.name for n in NOTEBOOKS], result.stdout
    return out


@pytest.fixture(scope="module", params=["runner", "papermill"])
def out(request, runner_build) -> Path:
    """Each check runs on both builds: they must agree with the hand figures alike. (Asking
    for ``runner_build`` here lets collection start the shared build in the background.)"""
    return request.getfixturevalue(f"{request.param}_build")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def close(value: str | float | int | None, expected: float | None) -> bool:
    if expected is None:
        return value in ("", None)
    return abs(float(value) - expected) <= 1e-3  # tables round to 3 decimals


# --- the checks, on both builds ----------------------------------------------------------------

def test_numbers_json_holds_the_hand_figures(out):
    numbers = json.loads((out / "tables" / "numbers.json").read_text(encoding="utf-8"))
    for key, expected in NUMBERS.items():
        assert key in numbers, key
        if isinstance(expected, float):
            # numbers.json keeps six significant digits
            assert numbers[key] == pytest.approx(expected, rel=1e-5), key
        else:
            assert numbers[key] == expected, key
    # No character-level figure: there are no transcripts to count characters in.
    assert not [k for k in numbers if k.startswith("agreement_character")]
    # CD and EF share no transcript: no key for them.
    assert not [k for k in numbers if "CD_EF" in k]


def test_prevalence_table_holds_the_hand_figures(out):
    table = rows(out / "tables" / "themes_prevalence.csv")
    got = [[r["Theme"], r["Participants"], r["Participants (%)"], r["Coded segments"]]
           for r in table]
    assert got == PREVALENCE_ROWS


def test_agreement_table_holds_the_hand_figures(out):
    table = {(r["coders"], r["theme_id"]): r
             for r in rows(out / "tables" / "agreement_participant.csv")}
    assert set(table) == set(PAIRWISE)
    for key, (n_units, pct, kappa, alpha) in PAIRWISE.items():
        row = table[key]
        assert int(row["n_units"]) == n_units, key
        assert int(row["n_transcripts"]) == 2, key
        assert close(row["percent_agreement"], pct), key
        assert close(row["kappa"], kappa), key
        assert close(row["alpha"], alpha), key
    everyone = {r["theme_id"]: r
                for r in rows(out / "tables" / "agreement_participant_all_coders.csv")}
    assert set(everyone) == set(ALL_CODERS)
    for theme_id, alpha in ALL_CODERS.items():
        assert close(everyone[theme_id]["alpha"], alpha), theme_id
        assert int(everyone[theme_id]["n_transcripts"]) == 4


def test_what_the_data_lack_is_skipped_with_a_note(out):
    assert not (out / "tables" / "agreement_character.csv").exists()
    executed = (out / "notebooks" / "05_agreement.ipynb").read_text(encoding="utf-8")
    assert "Character-level agreement is skipped" in executed
    assert "no transcripts/ folder" in executed


@pytest.mark.slow
def test_a_listed_coder_who_coded_nothing_is_reported_so(out):
    """README, section Running on your own data: "a coder who coded nothing is reported as
    such"."""
    # GH: in coders.csv, no segment. The themes notebook counts GH's transcripts (0), the
    # agreement notebook says GH is left out of every comparison; no pair names GH.
    themes_nb = (out / "notebooks" / "04_themes.ipynb").read_text(encoding="utf-8")
    assert "'n_transcripts_coded_GH': 0" in themes_nb
    executed = (out / "notebooks" / "05_agreement.ipynb").read_text(encoding="utf-8")
    assert "GH (listed in coders.csv) coded no transcript: left out of every comparison." \
        in executed
    assert not [r for r in rows(out / "tables" / "agreement_participant.csv")
                if "GH" in r["coders"]]


def test_the_studys_own_ledger_is_checked(out):
    report = {r["id"]: (r["recomputed"], r["status"]) for r in rows(out / "tables" / "claims.csv")}
    assert report == CLAIMS


def test_explore_opens_on_the_studys_first_theme_and_participant(out):
    executed = (out / "notebooks" / "07_explore.ipynb").read_text(encoding="utf-8")
    # The codebook's first theme is A, the first participant P11, the prevalence coder AB.
    assert re.search(r"theme A +Asking for help; participant P11; coder AB", executed)


def test_plain_papermill_writes_the_bytes_the_runner_writes(runner_build, papermill_build):
    """The runner forks its kernels from a warm process; papermill starts each notebook's
    kernel afresh. Every figure and table both wrote is the same bytes; what only the
    runner writes is its own record and the paper's (the manifest, the paper's derived
    data).

    README, section Running on your own data: "notebook by notebook in numbered order";
    README, section Running on your own data: "`tests/fixtures/second_study/` is a small study
    written by hand and built both ways in the tests"."""
    def files(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes()
                for folder in ("figures", "tables") for p in (out / folder).rglob("*")
                if p.is_file()}

    runner, plain = files(runner_build), files(papermill_build)
    assert set(plain) <= set(runner), sorted(set(plain) - set(runner))
    assert sorted(set(runner) - set(plain)) == ["tables/manifest.json", "tables/manuscript.json",
                                                "tables/paper_reads.json"]
    assert [name for name in sorted(plain) if plain[name] != runner[name]] == []
    assert len(plain) > 20


# --- refusals and the legitimate narrow cases, without a build --------------------------------

@pytest.mark.slow  # the runner, twice, in subprocesses
def test_a_missing_or_empty_data_dir_is_refused_once_up_front(tmp_path):
    """A data folder that does not exist, or holds none of the contract's files, is refused up
    front."""
    missing = tmp_path / "nowhere"
    result = subprocess.run(
        [sys.executable, "-m", "psu_study.runner", "--data-dir", str(missing), "--out-dir",
         str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO,
        env=_environment(), timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("does not exist") == 1, result.stderr
    assert "nowhere" in result.stderr
    assert "start" not in result.stdout  # no kernel was started
    (tmp_path / "empty").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "psu_study.runner", "--data-dir", str(tmp_path / "empty"),
         "--out-dir", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO,
        env=_environment(), timeout=120)
    assert result.returncode == 1
    assert "holds none of the contract's files" in result.stderr




# --- notebook 04's query tables, on both builds (issue 22) ---------------------------------------
#
# Participants on AB's coding (above): A P11 P12 P13 P15 P16; A1 P11 P13 P15; B P11 P14 P15;
# Z nobody. By gender: A female 3 (P11 P13 P16) male 2 (P12 P15); A1 2 / 1; B 2 / 1 (P11
# P14 / P15); Z 0 / 0. By stage (FY1 FY2 CT1 ST3 ST5): A 1 1 1 1 1; A1 0 1 0 1 1; B 0 1 0 1 1.
# Both: A&A1 3, A&B 2 (P11 P15), A1&B 2; diagonal 5 3 3 0. The fixture is the study's own
# records (provenance "study"), so every count from 1 to 4 is shown as "<5"; zeros and the 5
# are shown. No row needs a second cell hidden: row A's two hidden cells add up to 5, which
# fits 1 + 4 and 2 + 3 alike; every other row has two or three hidden cells or none.

@pytest.mark.slow
def test_queries_tables_hold_the_hand_figures_with_small_cells_held_back(out):
    def cells(name: str, columns: list[str]) -> list[list[str]]:
        return [[r[c] for c in columns] for r in rows(out / "tables" / f"{name}.csv")]

    assert cells("themes_by_gender", ["code_id", "female", "male"]) == [
        ["A", "<5", "<5"], ["A1", "<5", "<5"], ["B", "<5", "<5"], ["Z", "0", "0"]]
    assert cells("themes_by_training_stage", ["code_id", "FY1", "FY2", "CT1", "ST3", "ST5"]) \
        == [["A", "<5", "<5", "<5", "<5", "<5"], ["A1", "0", "<5", "0", "<5", "<5"],
            ["B", "0", "<5", "0", "<5", "<5"], ["Z", "0", "0", "0", "0", "0"]]
    assert cells("themes_cooccurrence", ["code_id", "A", "A1", "B", "Z"]) == [
        ["A", "5", "<5", "<5", "0"], ["A1", "<5", "<5", "<5", "0"],
        ["B", "<5", "<5", "<5", "0"], ["Z", "0", "0", "0", "0"]]
    footnote = rows(out / "tables" / "themes_by_gender.csv")[0]["footnote"]
    assert "counts below 5 suppressed" in footnote
    # A held-back count reaches no other output: numbers.json keeps the zeros only.
    numbers = json.loads((out / "tables" / "numbers.json").read_text(encoding="utf-8"))
    queries = {k: v for k, v in numbers.items()
               if re.search(r"_(gender|training_stage)_|^n_participants_both_", k)}
    assert set(queries.values()) == {0}, queries
    assert numbers["n_participants_theme_Z_gender_female"] == 0
    assert "n_participants_theme_A_gender_female" not in numbers
    assert (out / "figures" / "themes_by_training_stage.png").exists()
    # The codebook in tree order (participants / segments as in PREVALENCE_ROWS and the
    # comment above it), no interview text: placeholders only.
    assert cells("codebook_summary", ["Code", "Parent", "Participants", "Segments",
                                      "Example source"]) == [
        ["A", "", "5", "7", "synthetic placeholder"],
        ["A1", "A", "3", "4", "synthetic placeholder"],
        ["A1a", "A1", "3", "4", "synthetic placeholder"],
        ["A1a-i", "A1a", "2", "2", "synthetic placeholder"],
        ["A2", "A", "2", "2", "synthetic placeholder"],
        ["B", "", "3", "3", "synthetic placeholder"],
        ["B1", "B", "1", "1", "synthetic placeholder"],
        ["Z", "", "0", "0", "synthetic placeholder"],
        ["Z1", "Z", "0", "0", "synthetic placeholder"]]
