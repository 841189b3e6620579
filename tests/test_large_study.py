"""A study larger than the article's, with names as long as qualitative work gives them,
built end to end to the paper: 60 participants, 10 themes of 125 characters each with two
sub-themes (30 themes and sub-themes), 4 coders. Every figure must pass the print check
(figure_check) laid out as a journal would set it, where this study's names and size once
stopped the build ("y tick label ... overlaps y tick label ..."). Some names begin like a
spreadsheet formula: the CSV tables neutralise them, the paper shows them as written.

The data are made here, by the rules below, not by the package; every expected value is
worked out by hand from those rules (arithmetic in the comments).

The rules. Participants P1..P60; P<k> is female when k is odd (30 women). Themes T1..T10,
each with sub-themes T<j>a and T<j>b. The lead coder C1 codes every transcript: P<k> at
T<j>a when j divides k, and at T<j>b when k <= j. C2 codes P1..P20 as C1 does; C3 codes
P21..P40 at T<j>a only (no k > 10 is coded at any T<j>b, so as C1 does); C4 codes P41..P60 at
T<j>a when j divides k, and every one of them at theme T10 itself.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pypdf
import pytest

from psu_study.environment import DETERMINISTIC_ENV, PREFIX

from .conftest import REPO

pytestmark = pytest.mark.slow

N = 60
FILLER = ("and what the trainees who took part said about it in their interviews, in their "
          "own words, when they were asked how it had been for them at that time")


def sentence(lead: str) -> str:
    """A theme named in a full sentence: ``lead``, then the filler, 125 characters."""
    text = f"{lead} {FILLER}"[:125]
    assert len(text) == 125 and not text.endswith(" ")
    return text


THEMES = {j: sentence(lead) for j, lead in enumerate([
    "Never thinking it could happen to them", "=1+1 keeps coming back when the pressure builds",
    "Being on the edge of leaving medicine", "Hiding the struggle from colleagues",
    "The first call to the support unit", "Meeting a case manager who listened",
    "Counselling and coaching that helped", "Returning to work step by step",
    "Telling others about the help they had", "Breaking the cycle of shame"], start=1)}
SUBTHEMES = {(j, part): name for j in THEMES for part, name in (
    ("a", f"How it showed itself, in part {j}"), ("b", f"What changed afterwards, in part {j}"))}
# Sub-theme names that begin like formulas (OWASP's leading characters).
SUBTHEMES[(3, "a")] = "@SUM(A1) was what the spreadsheet said"
SUBTHEMES[(3, "b")] = "+x more hours every week"
SUBTHEMES[(4, "a")] = "-x fewer hours of sleep"
SUBTHEMES[(4, "b")] = "\tindented by a tab"
CODERS = ["C1", "C2", "C3", "C4"]


def _rows(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_study(folder: Path) -> Path:
    """The study's data directory, made by the rules of the module's docstring."""
    folder.mkdir(parents=True)
    ks = range(1, N + 1)
    _rows(folder / "participants.csv", ["participant_id", "gender", "training_stage",
                                        "provenance"],
          [[f"P{k}", "female" if k % 2 else "male", ["FY1", "CT2", "ST4", "ST6"][k % 4],
            "study"] for k in ks])
    _rows(folder / "recruitment.csv", ["trainee_id", "stage_reached", "participant_id",
                                       "contacted_on", "provenance"],
          [[f"R{k}", "interviewed", f"P{k}", "2022-01-03", "study"] for k in ks]
          + [["R61", "contacted", "", "2022-01-04", "study"]])
    _rows(folder / "interviews.csv", ["participant_id", "interview_date", "mode",
                                      "duration_min", "provenance"],
          [[f"P{k}", (date(2022, 2, 1) + timedelta(days=k - 1)).isoformat(),
            ["telephone", "video", "face-to-face"][k % 3], 30 + k, "study"] for k in ks])
    _rows(folder / "psu_users.csv", ["characteristic", "category", "count", "provenance"],
          [["all", "all", 600, "study"], ["gender", "female", 360, "study"],
           ["gender", "male", 240, "study"]])
    _rows(folder / "coders.csv", ["coder", "role", "provenance"],
          [["C1", "lead analyst", "study"], ["C2", "second coder", "study"],
           ["C3", "third coder", "study"], ["C4", "fourth coder", "study"]])
    codebook = []
    for j, name in THEMES.items():
        codebook.append([f"T{j}", "", "theme", name, "", j, "study"])
        for order, part in enumerate("ab", start=1):
            codebook.append([f"T{j}{part}", f"T{j}", "subtheme", SUBTHEMES[(j, part)], "",
                             order, "study"])
    _rows(folder / "codebook.csv", ["code_id", "parent_id", "level", "name", "definition",
                                    "order", "provenance"], codebook)
    coded: list[tuple[int, str, str]] = []
    for k in ks:
        for j in THEMES:
            if k % j == 0:
                coded.append((k, "C1", f"T{j}a"))
                if k <= 20:
                    coded.append((k, "C2", f"T{j}a"))
                elif k <= 40:
                    coded.append((k, "C3", f"T{j}a"))
                else:
                    coded.append((k, "C4", f"T{j}a"))
            if k <= j:
                coded.append((k, "C1", f"T{j}b"))
                coded.append((k, "C2", f"T{j}b"))  # k <= j <= 10: always within P1..P20
        if k > 40:
            coded.append((k, "C4", "T10"))
    # Two of C1's segments stand as quotations (provenance "published", which is what puts a
    # segment in Table 2; these are made up, as every value here is), under names that begin
    # like formulas: the paper matches Table 2's rows to their theme by name.
    quoted = {(2, "C1", "T2a"): "It kept coming back", (3, "C1", "T3a"): "The sums were wrong"}
    _rows(folder / "segments.csv", ["segment_id", "participant_id", "coder", "code_id", "text",
                                    "start", "end", "source", "provenance"],
          [[f"s{i}", f"P{k}", coder, code, quoted.get((k, coder, code), "a coded passage"), "",
            "", "", "published" if (k, coder, code) in quoted else "study"]
           for i, (k, coder, code) in enumerate(coded, start=1)])
    (folder / "claims.yaml").write_text("claims: []\n", encoding="utf-8")
    return folder


# --- the hand figures ---------------------------------------------------------------------
#
# C1's coding. T<j>a: the multiples of j up to 60, floor(60 / j) of them:
#   60 30 20 15 12 10 8 7 6 6 for j = 1..10. T<j>b: P1..Pj, j of them.
# T<j>: the union; of P1..Pj only Pj is a multiple of j, so floor(60 / j) + j - 1:
#   60 31 22 18 16 15 14 14 14 15. Segments under T<j>: floor(60 / j) + j (Pj has both):
#   61 32 23 19 17 16 15 15 15 16.
# Percentages, n / 60 * 100 = 5n / 3, rounded: 60 -> 100, 31 -> 51.67 -> 52, 22 -> 36.67 ->
#   37, 18 -> 30, 16 -> 26.67 -> 27, 15 -> 25, 14 -> 23.33 -> 23; sub-themes a: 30 -> 50,
#   20 -> 33, 12 -> 20, 10 -> 17, 8 -> 13, 7 -> 12, 6 -> 10; b (j of 60): 1 -> 2, 2 -> 3,
#   3 -> 5, 4 -> 7, 5 -> 8, 6 -> 10, 7 -> 12, 8 -> 13, 9 -> 15, 10 -> 17.
THEME_COUNTS = {1: (60, 100, 61), 2: (31, 52, 32), 3: (22, 37, 23), 4: (18, 30, 19),
                5: (16, 27, 17), 6: (15, 25, 16), 7: (14, 23, 15), 8: (14, 23, 15),
                9: (14, 23, 15), 10: (15, 25, 16)}
SUB_A = {1: (60, 100), 2: (30, 50), 3: (20, 33), 4: (15, 25), 5: (12, 20), 6: (10, 17),
         7: (8, 13), 8: (7, 12), 9: (6, 10), 10: (6, 10)}
SUB_B = {1: (1, 2), 2: (2, 3), 3: (3, 5), 4: (4, 7), 5: (5, 8), 6: (6, 10), 7: (7, 12),
         8: (8, 13), 9: (9, 15), 10: (10, 17)}
# Segments per coder: C1 174 (the T<j>a counts above) + 55 (1 + ... + 10) = 229.
# C2, P1..P20: multiples of j up to 20, 20 10 6 5 4 3 2 2 2 2 = 56, and all 55 T<j>b: 111.
# C3, P21..P40: floor(40 / j) - floor(20 / j): 20 10 7 5 4 3 3 3 2 2 = 59.
# C4, P41..P60: floor(60 / j) - floor(40 / j): 20 10 7 5 4 4 3 2 2 2 = 59, + 20 at T10: 79.
# In all 229 + 111 + 59 + 79 = 478.
NUMBERS = {
    "n_participants": 60, "n_participants_female": 30, "n_interviews": 60,
    "n_contacted": 61, "n_interviewed": 60,
    "n_themes": 10, "n_subthemes": 20, "n_codes": 0, "n_themes_with_subthemes": 10,
    "n_segments": 478, "n_coders": 4, "prevalence_coder": "C1",
    "n_transcripts_coded_C1": 60, "n_transcripts_coded_C2": 20,
    "n_transcripts_coded_C3": 20, "n_transcripts_coded_C4": 20,
    # C1 shares P1..P20 with C2, P21..P40 with C3, P41..P60 with C4; C2, C3 and C4 share
    # none: three pairs.
    "n_coder_pairs_compared": 3,
}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The runner on this study, as `make DATA_DIR=... OUT_DIR=...` runs it, to the paper."""
    root = tmp_path_factory.mktemp("large_study")
    data = write_study(root / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(DETERMINISTIC_ENV)
    run = subprocess.run([sys.executable, "-m", "psu_study.runner", "--data-dir", str(data),
                          "--out-dir", str(root / "out")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "typeset paper/paper.pdf" in run.stdout, run.stdout
    return root / "out"


def test_the_numbers_are_the_hand_figures(out):
    numbers = json.loads((out / "tables" / "numbers.json").read_text(encoding="utf-8"))
    assert {k: numbers.get(k) for k in NUMBERS} == NUMBERS
    for j, (n, _, _) in THEME_COUNTS.items():
        assert numbers[f"n_participants_theme_T{j}"] == n, j
        assert numbers[f"n_participants_subtheme_T{j}a"] == SUB_A[j][0], j
        assert numbers[f"n_participants_subtheme_T{j}b"] == SUB_B[j][0], j


def test_every_figure_was_written_at_print_width(out):
    # Every figure passed figure_check when saved (the build would have stopped); each is
    # one of the two print widths, 85 or 175 mm, at 300 dpi: 1003.9 or 2066.9 pixels wide.
    from PIL import Image
    names = sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert {"themes_heatmap", "thematic_map", "agreement"} <= set(names), names
    for name in names:
        with Image.open(out / "figures" / f"{name}.png") as image:
            assert min(abs(image.width - mm * 300 / 25.4) for mm in (85, 175)) < 1.5, name


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_prevalence_table_quotes_formula_like_names_in_its_csv(out):
    rows = read_csv(out / "tables" / "themes_prevalence.csv")
    expected = []
    for j, (n, pct, segments) in THEME_COUNTS.items():
        # A segment counts for its sub-theme and the theme: the sub-themes' segments are
        # their participants (one segment each).
        expected.append([THEMES[j], str(n), str(pct), str(segments)])
        expected.append(["    " + SUBTHEMES[(j, "a")], *map(str, SUB_A[j]), str(SUB_A[j][0])])
        expected.append(["    " + SUBTHEMES[(j, "b")], *map(str, SUB_B[j]), str(SUB_B[j][0])])
    # OWASP's quote before a name that begins like a formula; the sub-themes' names are
    # indented by four spaces, so only a theme's own name can begin with one.
    expected[3][0] = "'" + expected[3][0]  # T2: "=1+1 keeps ..."
    assert expected[3][0].startswith("'=1+1 keeps coming back")
    got = [[r["Theme"], r["Participants"], r["Participants (%)"], r["Coded segments"]]
           for r in rows]
    assert got == expected
    markdown = (out / "tables" / "themes_prevalence.md").read_text(encoding="utf-8")
    assert "| =1+1 keeps coming back" in markdown and "'=1+1" not in markdown


def test_the_agreement_table_quotes_them_too(out):
    rows = read_csv(out / "tables" / "agreement_participant.csv")
    names = {r["theme"] for r in rows}
    assert "'" + THEMES[2] in names and THEMES[2] not in names
    assert {r["coders"] for r in rows} == {"C1 vs C2", "C1 vs C3", "C1 vs C4"}


def text_of(pdf: Path) -> str:
    reader = pypdf.PdfReader(pdf)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_table_2_quotes_them_in_its_csv(out):
    rows = read_csv(out / "tables" / "table2_quotations.csv")
    assert [(r["Theme"], r["Sub-theme"], r["Participant"]) for r in rows] == [
        ("'" + THEMES[2], SUBTHEMES[(2, "a")], "PPT 2"),
        (THEMES[3], "'" + SUBTHEMES[(3, "a")], "PPT 3")]


def test_the_paper_shows_every_name_as_written(out):
    text = text_of(out / "paper" / "paper.pdf")
    # Each quotation under its sub-theme, found by the names read back from Table 2's CSV
    # (a quoted name would match no theme, and the sentence would be missing).
    assert "In the participants’ words: “It kept coming back” (PPT 2)." in text
    assert "In the participants’ words: “The sums were wrong” (PPT 3)." in text
    assert "=1+1 keeps coming back when the pressure builds" in text
    assert "'=1+1" not in text
    for name in ("@SUM(A1) was what the spreadsheet said", "+x more hours every week",
                 "-x fewer hours of sleep"):
        assert name in text, name
    # C1's count for T1 (60 of 60) and T2 (31 of 60) by the convention's words.
    assert "Never thinking it could happen to them" in text
    assert "(31 of 60)" in text and "(60 of 60)" in text
