"""Matrix coding, co-occurrence, the codebook summary and text search (issue 22), against
counts worked out by hand: on the repository's data (the committed tables notebook 04
wrote), on the hand-written second study, and on planted small cells and transcripts.

The repository's coding, by hand from data/segments.csv (EW, the coder of every transcript;
no EW segment sits at a theme or sub-theme itself, so a participant counts for a node when
one of the participant's codes' ids starts with the node's prefix):
- C1.* (T1), C2.* (T2), C4.* (T4), C4.3.* (S4.3), C5.* (T5), C6.* (T6): all 8 participants.
- C3.* (T3): every participant but P1 (7). C4.1.* (S4.1): every one but P6 (7).
- C4.2.* (S4.2): P2, P3, P5, P6, P8 (5). C7.* (T7): every one but P4 (7).
Training stages (participants.csv): P1 CT3, P2 ST1, P3 FY1, P4 FY2, P5 FY1, P6 FY2, P7 ST4,
P8 CT3, so FY1 = {P3, P5}, FY2 = {P4, P6}, CT3 = {P1, P8}, ST1 = {P2}, ST4 = {P7}; every
participant is female.
Segments per theme (EW's rows whose code starts with the prefix, counted with awk):
C1 48, C2 61, C3 38, C4 44, C4.1.* 12, C4.2.* 11, C4.3.* 18, C5 22, C6 13, C7 16.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psu_study import codebook_summary, matrix, provenance, style, text_search
from psu_study.disclosure import SECONDARY_MARK
from psu_study.figure_check import drawn_texts
from psu_study.notebook_files import NOTEBOOK_GLOB
from psu_study.paths import NOTEBOOKS_DIR, TABLES_DIR
from psu_study.validation import load_study

from .conftest import STUDY

NODES = ["T1", "T2", "T3", "T4", "S4.1", "S4.2", "S4.3", "T5", "T6", "T7"]


def table_rows(name: str) -> list[dict[str, str]]:
    with open(TABLES_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the repository's data: the committed tables ------------------------------------------

# Columns FY1, FY2, CT3, ST1, ST4 (stages held, in training order):
BY_STAGE = {
    "T1": [2, 2, 2, 1, 1],    # everyone: {P3,P5} {P4,P6} {P1,P8} {P2} {P7}
    "T2": [2, 2, 2, 1, 1],    # everyone
    "T3": [2, 2, 1, 1, 1],    # not P1 (CT3): CT3 2 - 1 = 1
    "T4": [2, 2, 2, 1, 1],    # everyone
    "S4.1": [2, 1, 2, 1, 1],  # not P6 (FY2): FY2 2 - 1 = 1
    "S4.2": [2, 1, 1, 1, 0],  # P3 P5 (FY1), P6 (FY2), P8 (CT3), P2 (ST1), nobody in ST4
    "S4.3": [2, 2, 2, 1, 1],  # everyone
    "T5": [2, 2, 2, 1, 1],    # everyone
    "T6": [2, 2, 2, 1, 1],    # everyone
    "T7": [2, 1, 2, 1, 1],    # not P4 (FY2): FY2 2 - 1 = 1
}
# Everyone is female: the female column is each node's prevalence.
BY_GENDER = {"T1": 8, "T2": 8, "T3": 7, "T4": 8, "S4.1": 7, "S4.2": 5, "S4.3": 8, "T5": 8,
             "T6": 8, "T7": 7}
# Both: a node coded for everyone meets any X in |X| participants; otherwise
# T3 & S4.1 = 8 - {P1, P6} = 6; T3 & S4.2 = S4.2 (holds no P1) = 5; T3 & T7 = 8 - {P1, P4}
# = 6; S4.1 & S4.2 = S4.2 - {P6} = 4; S4.1 & T7 = 8 - {P6, P4} = 6; S4.2 & T7 = S4.2 (holds
# no P4) = 5; the diagonal is the prevalence.
EVERYONE = [8, 8, 7, 8, 7, 5, 8, 8, 8, 7]
COOCCURRENCE = {
    "T1": EVERYONE, "T2": EVERYONE, "T4": EVERYONE, "S4.3": EVERYONE, "T5": EVERYONE,
    "T6": EVERYONE,
    #       T1 T2 T3 T4 S4.1 S4.2 S4.3 T5 T6 T7
    "T3": [7, 7, 7, 7, 6, 5, 7, 7, 7, 6],
    "S4.1": [7, 7, 6, 7, 7, 4, 7, 7, 7, 6],
    "S4.2": [5, 5, 5, 5, 4, 5, 5, 5, 5, 5],
    "T7": [7, 7, 6, 7, 6, 5, 7, 7, 7, 7],
}


def test_themes_by_training_stage_holds_the_hand_counts():
    rows = table_rows("themes_by_training_stage")
    assert list(rows[0])[:7] == ["code_id", "name", "FY1", "FY2", "CT3", "ST1", "ST4"]
    got = {r["code_id"]: [int(r[s]) for s in ("FY1", "FY2", "CT3", "ST1", "ST4")] for r in rows}
    assert [r["code_id"] for r in rows] == NODES
    assert got == BY_STAGE
    # Synthetic coding and stages, counts shown: the footnote says both.
    assert "Synthetic data" in rows[0]["footnote"]
    assert "Small-cell rule off" in rows[0]["footnote"]


def test_themes_by_gender_holds_the_hand_counts():
    rows = table_rows("themes_by_gender")
    assert list(rows[0])[:3] == ["code_id", "name", "female"] and "male" not in rows[0]
    assert {r["code_id"]: int(r["female"]) for r in rows} == BY_GENDER


def test_cooccurrence_holds_the_hand_counts():
    rows = table_rows("themes_cooccurrence")
    assert [r["code_id"] for r in rows] == NODES
    assert {r["code_id"]: [int(r[c]) for c in NODES] for r in rows} == COOCCURRENCE


def test_codebook_summary_holds_the_hand_counts():
    rows = {r["Code"]: r for r in table_rows("codebook_summary")}
    # Tree order: each theme, then what sits below it (T4: C4.1, then S4.1 and its codes...)
    order = list(rows)
    assert order[:9] == ["T1", "C1.1", "C1.2", "C1.3", "C1.4", "C1.5", "C1.6", "C1.7", "T2"]
    assert order[order.index("T4"):order.index("T4") + 6] == [
        "T4", "C4.1", "S4.1", "C4.1.1", "C4.1.2", "S4.2"]
    segments = {"T1": 48, "T2": 61, "T3": 38, "T4": 44, "S4.1": 12, "S4.2": 11, "S4.3": 18,
                "T5": 22, "T6": 13, "T7": 16}
    for node, n in BY_GENDER.items():
        assert int(rows[node]["Participants"]) == n, node
        assert int(rows[node]["Segments"]) == segments[node], node
    assert rows["S4.1"]["Level"] == "subtheme" and rows["S4.1"]["Parent"] == "T4"
    assert rows["C4.1.1"]["Parent"] == "S4.1"
    # The first published quotation under T1 (its first codes C1.1 and C1.2 have none) is
    # C1.3's, from the article's Results, theme 1 ("It will never happen to me").
    assert rows["T1"]["Example"] == "you kind of hear about it … but you don’t remember"
    assert rows["T1"]["Example source"] == "published quotation"
    assert rows["C1.1"]["Example source"] == "synthetic placeholder"
    assert "no published quotation" in rows["C1.1"]["Example"]


# --- the second study (tests/fixtures/second_study) -----------------------------------------
#
# AB codes every transcript (see tests/test_second_study.py for the fixture in full):
# A: P11 P12 P13 P15 P16; A1: P11 P13 P15; B: P11 P14 P15; Z: nobody.
# P11 female FY2, P12 male CT1, P13 female ST3, P14 female ST3, P15 male ST5, P16 female FY1.

SECOND_BY_GENDER = [  # code_id, female, male
    ["A", 3, 2],   # female P11 P13 P16, male P12 P15
    ["A1", 2, 1],  # female P11 P13, male P15
    ["B", 2, 1],   # female P11 P14, male P15
    ["Z", 0, 0],
]
SECOND_BY_STAGE = [  # code_id, FY1, FY2, CT1, ST3, ST5 (training order)
    ["A", 1, 1, 1, 1, 1],   # P16 P11 P12 P13 P15
    ["A1", 0, 1, 0, 1, 1],  # P11 P13 P15
    ["B", 0, 1, 0, 1, 1],   # P11 P14 P15
    ["Z", 0, 0, 0, 0, 0],
]
SECOND_COOCCURRENCE = [  # code_id, A, A1, B, Z
    ["A", 5, 3, 2, 0],   # A & A1 = A1 (all in A) = 3; A & B = {P11, P15} = 2
    ["A1", 3, 3, 2, 0],  # A1 & B = {P11, P15} = 2
    ["B", 2, 2, 3, 0],
    ["Z", 0, 0, 0, 0],
]


@pytest.fixture(scope="module")
def second():
    study = load_study(STUDY, tables=["segments"])
    present = matrix.presence(study.segments, study.codebook, study.participants, "AB")
    return study, present


def test_second_study_counts_by_hand_before_the_rule(second):
    study, present = second
    for attribute, expected in (("gender", SECOND_BY_GENDER),
                                ("training_stage", SECOND_BY_STAGE)):
        table = matrix.by_attribute(present, study.participants, study.codebook, attribute)
        assert table.drop(columns="name").to_numpy().tolist() == expected, attribute
    table = matrix.cooccurrence(present, study.codebook)
    assert table.drop(columns="name").to_numpy().tolist() == SECOND_COOCCURRENCE


def test_second_study_is_study_data_so_small_cells_are_held_back(second):
    study, present = second
    assert provenance.small_cell_rule(study.participants, None)
    tables = matrix.attribute_tables(present, study.participants, study.codebook,
                                     enabled=provenance.small_cell_rule(study.participants, None))
    gender, note = tables["gender"]
    # Every count 1-4 is "<5", zeros are shown. Row A: 3 + 2 = 5 with both hidden: the
    # reader knows the sum is 5 and each is 1-4, so (1,4), (2,3), ... all fit: nothing more.
    assert gender.drop(columns="name").to_numpy().tolist() == [
        ["A", "<5", "<5"], ["A1", "<5", "<5"], ["B", "<5", "<5"], ["Z", 0, 0]]
    assert "Small-cell rule: counts below 5 suppressed" in note
    cooc, _ = matrix.withhold_cooccurrence(matrix.cooccurrence(present, study.codebook))
    assert cooc.drop(columns="name").to_numpy().tolist() == [
        ["A", 5, "<5", "<5", 0], ["A1", "<5", "<5", "<5", 0], ["B", "<5", "<5", "<5", 0],
        ["Z", 0, 0, 0, 0]]
    # Switched off on request: the counts as worked out above.
    shown = matrix.attribute_tables(present, study.participants, study.codebook,
                                    enabled=False)
    assert shown["gender"][0].drop(columns="name").to_numpy().tolist() == SECOND_BY_GENDER


def test_second_study_codebook_summary_by_hand(second):
    study, _ = second
    table = codebook_summary.summary(study.segments, study.codebook, study.participants, "AB")
    # Participants / segments on AB's coding: A 5 / 7 (s01 s03 s04 s05 s06 s08 s10);
    # A1 3 / 4 (s01 s05 s06 s08); A1a 3 / 4 (the same); A1a-i 2 / 2 (s01 s08);
    # A2 2 / 2 (s04 s10); B 3 / 3 (s02 s07 s09); B1 1 / 1 (s07); Z and Z1 0 / 0.
    assert table[["Code", "Level", "Parent", "Participants", "Segments"]].to_numpy() \
        .tolist() == [
        ["A", "theme", "", 5, 7], ["A1", "subtheme", "A", 3, 4], ["A1a", "code", "A1", 3, 4],
        ["A1a-i", "code", "A1a", 2, 2], ["A2", "code", "A", 2, 2], ["B", "theme", "", 3, 3],
        ["B1", "code", "B", 1, 1], ["Z", "theme", "", 0, 0], ["Z1", "code", "Z", 0, 0]]
    assert table.loc[3, "Definition"] == "A code under a code: deeper than the article's codebook"
    # The study's own records hold no published quotation: no interview text is shown.
    assert set(table["Example source"]) == {"synthetic placeholder"}
    assert set(table["Example"]) == {codebook_summary.NO_QUOTATION}


def test_a_study_without_an_attribute_column_has_no_table_for_it(second):
    study, present = second
    participants = study.participants.drop(columns="gender")
    tables = matrix.attribute_tables(present, participants, study.codebook)
    assert list(tables) == ["training_stage"]
    none = study.participants[["participant_id", "provenance"]]
    assert matrix.attribute_tables(present, none, study.codebook) == {}


# --- a planted small cell, in real-data mode ---------------------------------------------------

def test_a_planted_small_cell_is_never_shown():
    """Seven participants of the study's own records coded for theme X: six female, one
    male. The male cell (1) is held back; the row's total (7, the prevalence notebook 04
    publishes) would give it away as 7 - 6, so the female cell is held back too ([c])."""
    ids = [f"P{i}" for i in range(1, 8)]
    participants = pd.DataFrame({"participant_id": ids, "gender": ["female"] * 6 + ["male"],
                                 "provenance": "study"})
    codebook = pd.DataFrame({"code_id": ["X"], "parent_id": [None], "level": ["theme"],
                             "name": ["Planted"], "order": [1]})
    present = pd.DataFrame({"X": np.ones(7, dtype=int)}, index=pd.Index(ids))
    table, note = matrix.attribute_tables(
        present, participants, codebook,
        enabled=provenance.small_cell_rule(participants, None))["gender"]
    assert table.to_numpy().tolist() == [["X", "Planted", SECONDARY_MARK, "<5"]]
    assert "[c] marks a count withheld" in note
    # Neither count reaches numbers.json or the figure.
    cooc, _ = matrix.withhold_cooccurrence(matrix.cooccurrence(present, codebook))
    values = matrix.numbers({"gender": table}, cooc, codebook)
    assert values == {"n_attribute_tables": 1}  # the diagonal 7 has no pair key
    fig = matrix.plot_by_attribute(table, "gender")
    drawn = {t.artist.get_text() for t in drawn_texts(fig)[0]}
    assert {"<5", SECONDARY_MARK} <= drawn and not {"1", "6"} & drawn
    assert style.alt_text(fig).endswith("; 2 count(s) withheld under the small-cell rule.")


def test_a_withheld_count_beside_only_zeros_is_said_to_be_derivable():
    """Two participants coded for theme X, both male: the male cell (2) is held back, but
    the female cell is 0 and the row's total (2) is published, so 2 - 0 gives it away; zeros
    are never hidden (the project's rule), so the footnote says so."""
    participants = pd.DataFrame({"participant_id": ["P1", "P2", "P3"],
                                 "gender": ["female", "male", "male"], "provenance": "study"})
    codebook = pd.DataFrame({"code_id": ["X"], "parent_id": [None], "level": ["theme"],
                             "name": ["Planted"], "order": [1]})
    present = pd.DataFrame({"X": [0, 1, 1]}, index=pd.Index(["P1", "P2", "P3"]))
    table, note = matrix.attribute_tables(present, participants, codebook,
                                          enabled=True)["gender"]
    assert table.to_numpy().tolist() == [["X", "Planted", 0, "<5"]]
    assert "In 1 row(s) every other cell is 0" in note


# --- text search ---------------------------------------------------------------------------

# P11's transcript, planted: an emoji outside the Basic Multilingual Plane (U+1F600, one code
# point, two UTF-16 units, four UTF-8 bytes), accented words (composed é; decomposed e +
# U+0301), then AB's and CD's passages. Code points, counted by hand:
#   0 😀 | 1 space | 2-7 Résumé | 8 ':' | 9 space | 10-40 "I told my consultant in the end"
#   (I 10, told 12-15, my 17-18, consultant 20-29) | 41 '.' | 42 newline |
#   43-70 "Going back was the hard part" | 71 '.' | 72 newline | 73-76 "Cafe" | 77 U+0301 |
#   78 space | 79-82 "crème" is c 79 r 80 è 81 m 82 e 83.
P11 = ("\U0001F600 Résumé: I told my consultant in the end.\nGoing back was the hard part.\n"
       "Cafe\u0301 crème")


@pytest.fixture
def with_transcripts(tmp_path: Path) -> Path:
    """The second study with a transcripts/ folder: P11's planted above, everyone else's the
    texts of their segments, one per line; segments' offsets set to match."""
    data = tmp_path / "data"
    shutil.copytree(STUDY, data)
    segments = pd.read_csv(data / "segments.csv", dtype=str)
    texts = {"P11": P11}
    for pid, group in segments.groupby("participant_id"):
        texts.setdefault(pid, "\n".join(dict.fromkeys(group["text"])))
    starts = [texts[p].index(t) for p, t in zip(segments["participant_id"], segments["text"],
                                                strict=True)]
    segments["start"] = starts
    segments["end"] = [s + len(t) for s, t in zip(starts, segments["text"], strict=True)]
    segments.to_csv(data / "segments.csv", index=False)
    (data / "transcripts").mkdir()
    for pid, text in texts.items():
        (data / "transcripts" / f"{pid}.txt").write_bytes(text.encode("utf-8"))
    return data


def test_text_search_finds_a_planted_phrase_at_its_code_point_offsets(with_transcripts):
    study = load_study(with_transcripts, tables=["segments"])
    assert study.transcripts["P11"] == P11  # read as UTF-8, the emoji one code point
    hits = text_search.search(study.segments, study.codebook, study.transcripts,
                              "TOLD MY  Consultant", context=5)
    # 'told my consultant' at 12-30 (told 12, consultant ends at 29 + 1), left of it 7-11
    # ("é: I "), right 30-34 (" in t"); both AB's s01
    # (A1a-i) and CD's s11 (A1a) cover 10-41; codes in tree order, A1a before A1a-i.
    assert hits.to_dict("records") == [{
        "Participant": "P11", "Source": "transcripts/P11.txt", "Start": 12, "End": 30,
        "Left": "é: I ", "Match": "told my consultant", "Right": " in t",
        "Codes": "A1a Told a colleague; A1a-i Told a senior colleague"}]
    # One coder's coding only: AB's code.
    ab = text_search.search(study.segments, study.codebook, study.transcripts, "consultant",
                            coder="AB")
    assert ab[["Start", "End", "Codes"]].to_numpy().tolist() == [
        [20, 30, "A1a-i Told a senior colleague"]]


def test_text_search_ignores_case_and_accents_and_keeps_original_offsets(with_transcripts):
    """README, section Exploring and reading the report: "search the transcripts for a word,
    phrase or regular expression (case and accents ignored) and see each hit in context with the
    codes covering it"."""
    study = load_study(with_transcripts, tables=["segments"])

    def spans(query: str, **kw) -> list[list]:
        hits = text_search.search(study.segments, study.codebook, study.transcripts, query,
                                  **kw)
        return hits[["Participant", "Start", "End", "Match", "Codes"]].to_numpy().tolist()

    # "resume" finds "Résumé" (2-7, end 8), outside every coded passage.
    assert spans("resume") == [["P11", 2, 8, "Résumé", ""]]
    # "café" (composed) finds "Cafe" + U+0301 (73-77, the combining accent included: 78).
    assert spans("café") == [["P11", 73, 78, "Cafe\u0301", ""]]
    # "CREME" finds "crème" at 79-83 (end 84).
    assert spans("CREME") == [["P11", 79, 84, "crème", ""]]
    # A phrase across a line break: "end. going" spans 38-48 ("end" 38-40, '.' 41, newline
    # 42, "Going" 43-47), covered by s01/s11 (10-41) and s02 (B, 43-71).
    assert spans("end. going") == [
        ["P11", 38, 48, "end.\nGoing", "A1a Told a colleague; A1a-i Told a senior colleague; "
                                       "B Returning to work"]]
    # A regular expression, accents and case folded on both sides.
    assert [s[1:4] for s in spans(r"r[eé]sum\w", regex=True)] == [[2, 8, "Résumé"]]
    with pytest.raises(ValueError, match="not a valid regular expression"):
        spans("(unclosed", regex=True)


def test_text_search_without_transcripts_reads_the_segments_text(second):
    study, _ = second
    hits = text_search.search(study.segments, study.codebook, None, "Told")
    # "told" is in s01/s11 (P11, one text, coded A1a-i by AB and A1a by CD), s05 (P13,
    # "I told a friend on the ward", A1a) and s16 (P14, "I told someone", A1 by EF); in
    # each it starts at 2 ("I " before it) and ends at 6.
    assert hits[["Participant", "Source", "Start", "End", "Codes"]].to_numpy().tolist() == [
        ["P11", "s01, s11", 2, 6, "A1a Told a colleague; A1a-i Told a senior colleague"],
        ["P13", "s05", 2, 6, "A1a Told a colleague"],
        ["P14", "s16", 2, 6, "A1 Telling someone"]]


def test_passage_cooccurrence_counts_near_passages(with_transcripts):
    study = load_study(with_transcripts, tables=["segments"])
    # AB's P11 passages: s01 (A1a-i: counts for A1 and A) 10-41 and s02 (B) 43-71, 2 apart.
    # Other participants' AB passages sit on separate lines of their transcripts:
    # P15 s08 (A1a-i) "My registrar listened" 0-21, s09 (B) from 22: 1 apart.
    # P12 s03 (A) and s04 (A2, under A): same node A, not a pair of two nodes.
    within_two = matrix.passage_cooccurrence(study.segments, study.codebook, "AB", 2)
    assert within_two.drop(columns="name").to_numpy().tolist() == [
        ["A", 0, 0, 2, 0],   # A & B: P11 (s01, s02) and P15 (s08, s09)
        ["A1", 0, 0, 2, 0],  # A1 & B: the same two pairs
        ["B", 2, 2, 0, 0],
        ["Z", 0, 0, 0, 0]]
    # With no gap allowed only P15's pair (1 apart) is out too: nothing overlaps.
    touching = matrix.passage_cooccurrence(study.segments, study.codebook, "AB", 0)
    assert touching.drop(columns=["code_id", "name"]).to_numpy().sum() == 0
    # Without transcripts there are no offsets: no passage-level view.
    plain = load_study(STUDY, tables=["segments"])
    assert matrix.passage_cooccurrence(plain.segments, plain.codebook, "AB") is None


def test_notebook_words_do_not_assume_a_participants_sex():
    """Issue 22: a study's participants may be of any sex, so the notebooks' words (their
    markdown and comments) use no gendered pronoun."""
    pronoun = re.compile(r"\b(she|her|hers|herself|he|him|his|himself)\b", re.IGNORECASE)
    found = []
    paths = sorted(NOTEBOOKS_DIR.glob(NOTEBOOK_GLOB))
    assert paths, "no notebook to read"
    for path in paths:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            words = source if cell["cell_type"] == "markdown" else "\n".join(
                line.split("#", 1)[1] for line in source.splitlines() if "#" in line)
            found += [f"{path.stem} {cell.get('id')}: {m[0]}" for m in pronoun.finditer(words)]
    assert found == []


# --- an attribute column a study adds ---------------------------------------------------------

def with_added_column(tmp_path: Path, header: str, values: list[str]) -> Path:
    """A copy of the second study whose participants.csv gains one column (P11..P16)."""
    data = tmp_path / "study"
    shutil.copytree(STUDY, data)
    path = data / "participants.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [f"{lines[0]},{header}"] + [f"{line},{v}"
                                       for line, v in zip(lines[1:], values, strict=True)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data


def test_a_column_a_study_adds_is_an_attribute_with_its_own_table(tmp_path):
    """Issue 22: "for every participant attribute column in participants.csv (... any column a
    study adds)". Specialty by hand, P11..P16: surgery, medicine, surgery, psychiatry,
    medicine, blank; AB's coding as above (A: P11 P12 P13 P15 P16; A1: P11 P13 P15;
    B: P11 P14 P15; Z: nobody). Columns: values alphabetically (the contract lists none),
    then the blank one."""
    data = with_added_column(tmp_path, "specialty",
                             ["surgery", "medicine", "surgery", "psychiatry", "medicine", ""])
    study = load_study(data, tables=["segments"])
    assert list(study.participants.columns)[-1] == "specialty"
    present = matrix.presence(study.segments, study.codebook, study.participants, "AB")
    tables = matrix.attribute_tables(present, study.participants, study.codebook,
                                     enabled=False)
    assert list(tables) == ["gender", "training_stage", "specialty"]
    table, _ = tables["specialty"]
    assert list(table.columns)[2:] == ["medicine", "psychiatry", "surgery",
                                       matrix.NOT_RECORDED]
    assert table.drop(columns="name").to_numpy().tolist() == [
        ["A", 2, 0, 2, 1],   # medicine P12 P15; surgery P11 P13; blank P16
        ["A1", 1, 0, 2, 0],  # medicine P15; surgery P11 P13
        ["B", 1, 1, 1, 0],   # medicine P15; psychiatry P14; surgery P11
        ["Z", 0, 0, 0, 0]]


@pytest.mark.parametrize(("header", "value", "message", "row", "column"), [
    ("Specialty", "surgery", "an added column's name must be", 0, "Specialty"),
    ("specialty", "x" * 101, "expected a value matching", 1, "specialty"),
])
def test_an_added_column_is_checked_like_any_other(tmp_path, header, value, message, row,
                                                   column):
    """The data contract (data/README.md, participants.csv): an added column's name is
    lower-case, its values one line of at most 100 characters; an error names file, row and
    column."""
    data = with_added_column(tmp_path, header, [value] * 6)
    with pytest.raises(ValueError) as caught:
        load_study(data, tables=["participants"])
    error = caught.value
    assert message in str(error)
    assert "participants.csv" in str(error)
    assert (error.row, error.column) == (row, column)


def test_no_other_table_takes_an_added_column(tmp_path):
    data = tmp_path / "study"
    shutil.copytree(STUDY, data)
    path = data / "coders.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",team"] + [x + ",a" for x in lines[1:]]) + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match="unexpected column"):
        load_study(data, tables=["coders"])
