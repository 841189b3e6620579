"""The manuscript on a study it was not written for: the hand-written fixture study
(tests/fixtures/second_study), built once end to end with the runner, then typeset, and read
as a reader reads it (pypdf). Its text must hold that study's numbers, worked out by hand
below (the fixture's data, as tests/test_second_study.py summarises them), and say in a
sentence what the data did not allow to be computed, with no table in its place.

Expected values come from the fixture's CSV files by hand (arithmetic in the comments),
never from the package's output. The words of quantity follow data/README.md's convention
for N = 6: some 2-3, several 3, many 3-5, most 4-5; of the words that hold, the narrowest.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pypdf
import pytest

from psu_study import manuscript
from psu_study.run_folders import RunFolders

from .conftest import STUDY


def text_of(pdf: Path) -> str:
    reader = pypdf.PdfReader(pdf)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def out(second_study_build) -> Path:
    """The one end-to-end build of this study, as `make DATA_DIR=... OUT_DIR=...` runs it:
    the notebooks, then the paper (conftest's ``second_study_build``, shared with
    tests/test_second_study.py)."""
    out, log = second_study_build
    assert "typeset paper/paper.pdf" in log, log
    return out


@pytest.fixture(scope="module")
def text(out) -> str:
    return text_of(out / "paper" / "paper.pdf")


def test_the_paper_is_written_under_out_dir(out):
    """README, section Running on your own data: "writes everything they produce under `OUT_DIR`
    (the paper too"."""
    assert (out / "paper" / "paper.pdf").read_bytes().startswith(b"%PDF")
    assert not (out / "paper.pdf").exists()


def test_recruitment_and_participants_are_this_studys(text):
    # recruitment.csv: R1-R9 contacted, R1-R8 interested, R1-R7 consented, R1-R6 interviewed;
    # 8/9 = 88.89% -> 88.9%; 6/9 = 66.67% -> 66.7%.
    assert "Of the 9 trainees contacted, 8 expressed interest, a response rate of 88.9%" in text
    assert "7 consented and 6 were interviewed, 66.7% of those contacted" in text
    # contacted_on 2021-01-04 to 2021-03-01: 28 + 28 + 1 = 57 days, both ends counted.
    assert "between 4 January 2021 and 1 March 2021 (a window of 57 days)" in text
    # participants.csv: P11 P13 P14 P16 female = 4 of 6, "most" (4-5 of 6; "many" 3-5 is
    # wider); psu_users.csv: 120 of 200 = 60%.
    assert "Most (4 of 6) participants were female" in text
    assert "against 60% (120/200) of the PSU’s users" in text
    # P(X >= 4), X ~ Bin(6, 0.6) = .31104 + .186624 + .046656 = .54432 -> 0.544: one-sided,
    # so the sentence names it (the convention is two-sided).
    assert "one-sided p = 0.544" in text
    # FY2 CT1 ST3 ST3 ST5 FY1: five stages, FY1 to ST5.
    assert "5 training stages, from FY1 to ST5" in text


def test_men_in_the_sample_change_the_limitation(text):
    # Two men (P12, P15): the article's "cannot be carried over to male trainees" is not true.
    assert "male trainees" not in text
    assert "Most (4 of 6) of them were women" in text


def test_video_and_face_to_face_interviews_are_named(text):
    # interviews.csv modes: telephone P11 P13 P16 = 3, face-to-face P14 = 1, video P12 P15 = 2
    # (in the contract's order telephone, face-to-face, video).
    modes = "3 by telephone, 1 face to face and 2 by video"
    assert f"6 interviews ({modes}) took place between 20 January 2021 and 2 March 2021" in text
    assert f"semi-structured interview ({modes})" in text
    # minutes 30 45 60 50 40 75: min 30, max 75, mean 300 / 6 = 50, median (45 + 50) / 2.
    assert "They lasted 30 to 75 minutes (mean 50, median 47.5)" in text
    assert "telephone interview" not in text


def test_coders_and_themes_come_from_the_data(text):
    # coders.csv with segments.csv: AB coded P11-P16 (6), CD P11 P12 (2), EF P13 P14 (2).
    assert "AB (lead analyst; coded every transcript) coded 6 of 6 transcripts" in text
    assert "CD (second coder) coded 2 of 6 transcripts" in text
    assert "EF (third coder) coded 2 of 6 transcripts" in text
    # GH is in coders.csv with no segment: said, never a missing number (the paper failed
    # on "numbers.json has no value for 'n_transcripts_coded_GH'").
    assert "GH (fourth coder; coded nothing) coded none of the 6 transcripts" in text
    # Three of the four coded: the abstract counts those who coded.
    assert "coded by 3 researchers" in text
    assert "counted on the coding of AB" in text
    # codebook.csv: themes A B Z, one sub-theme (A1) under A; 16 segments (s01-s16).
    assert "The analysis found 3 themes, 1 of them with 1 sub-theme, over 16 coded segments" in text
    assert ("The analysis found 3 themes: Asking for help, Returning to work and Leaving "
            "medicine") in text
    # Prevalence on AB's coding (hand figures of tests/test_second_study.py): A 5 of 6 (most),
    # A1 3 (several), A1a 3 (several), A2 2 (some), B 3 (several), B1 1 (one), Z and Z1 0.
    for shown in ("Asking for help Coded for most (5 of 6) participants",
                  "Some (2 of 6): Waited too long",
                  "Telling someone Coded for several (3 of 6) participants",
                  "Several (3 of 6): Told a colleague",
                  "Returning to work Coded for several (3 of 6) participants",
                  "One (1 of 6): Phased return",
                  "Leaving medicine Coded for none (0 of 6) participants",
                  "None (0 of 6): Thought of leaving"):
        assert shown in text, shown
    # Nothing of the article's own findings is claimed for this study.
    assert "never happen to me" not in text and "cycle of shame" not in text


def test_agreement_narrows_with_a_note_and_no_character_figures(text):
    """README, section Running on your own data: "a study with one coder or without `transcripts/`
    is computed as far as it goes with a note saying what was left out"."""
    # No transcripts/ folder: no character-level agreement, a sentence says why.
    assert ("Agreement on each character was not computed: the data hold no transcripts/ "
            "folder") in text
    assert "of characters" not in text
    # Participant unit, AB vs CD (the main pair: two shared, first in coders.csv order):
    # pooled 4 of 6 decisions agree = 66.67% -> 66.7%; themes A and Z are coded the same for
    # both shared participants (kappa undefined): 2 of the 3 themes.
    assert "AB and CD agreed on 66.7% of decisions, but for 2 of the 3 themes" in text
    # AB vs EF: 5 of 6 = 83.33% -> 83.3%.
    assert "AB and EF agreeing on 83.3%" in text
    # Alpha across all three coders: 74/143 = 0.5175 -> 0.52, on P11-P14 (4 transcripts).
    assert "on the 4 transcripts two or more of them coded, Krippendorff’s alpha on the same " \
           "decisions is 0.52" in text


def test_no_quotation_table_without_published_quotations(text):
    # segments.csv: every segment's provenance is "study", none "published".
    assert "no segment of these data is marked as a published quotation" in text
    assert "Illustrative quotations" not in text


def test_the_studys_own_ledger_is_the_appendix(text):
    # claims.yaml: four claims, all hold (tests/test_second_study.py).
    assert "Of the 4 statements of the study’s claims ledger, recomputed from these data, 4 " \
           "hold" in text


def test_two_builds_of_this_studys_paper_give_the_same_bytes(out):
    run = RunFolders.of(STUDY, out)
    again = manuscript.typeset(run).pdf
    assert hashlib.sha256(again).digest() == hashlib.sha256(run.paper_pdf.read_bytes()).digest()


def _copy(out: Path, target: Path) -> RunFolders:
    shutil.copytree(out / "tables", target / "tables")
    shutil.copytree(out / "figures", target / "figures")
    return RunFolders.of(target / "data", target)


def test_one_coder_gives_a_sentence_and_no_agreement_table_or_figure(out, tmp_path):
    # The fixture with AB's segments only (s01-s10), and the outputs such data give: no
    # agreement table or figure, no pair compared (as tests/test_second_study.py checks for
    # the agreement notebook).
    run = _copy(out, tmp_path)
    shutil.copytree(STUDY, run.data)
    segments = run.data / "segments.csv"
    segments.write_text("".join(line for line in segments.read_text().splitlines(keepends=True)
                                if ",CD," not in line and ",EF," not in line))
    for path in [*run.tables.glob("agreement*"), *run.figures.glob("agreement*")]:
        path.unlink()
    numbers = json.loads((run.tables / "numbers.json").read_text())
    numbers = {k: v for k, v in numbers.items() if not k.startswith("agreement")}
    numbers["n_coder_pairs_compared"] = 0
    (run.tables / "numbers.json").write_text(json.dumps(numbers))
    manuscript.build(run)
    text = text_of(run.paper_pdf)
    assert ("Agreement between coders was not computed: only AB coded the transcripts, so "
            "there is no second coding to compare.") in text
    assert "Krippendorff’s alpha on the same" not in text
    assert "Agreement between coders, theme by theme" not in text  # the figure's caption
    derived = json.loads((run.tables / manuscript.DERIVED).read_text())
    assert not [t for t in derived["tables"] if t.startswith("agreement")]


def test_a_table_the_data_allow_but_the_outputs_lack_is_an_error(out, tmp_path):
    run = _copy(out, tmp_path)
    run = RunFolders(STUDY, run.figures, run.tables, run.root)
    (run.tables / "agreement_participant.csv").unlink()
    with pytest.raises(manuscript.ManuscriptError, match="agreement_participant.csv is missing"):
        manuscript.build(run)
    assert not run.paper_pdf.exists()


def test_the_manuscripts_rules_hold_on_this_study(out, text):
    # No mark against a numeral, nothing under 7 pt; another study's declarations are not
    # the article's, so without its own statements.yml each is said to be not stated.
    from .test_paper_rules import font_sizes, glued_marks

    assert glued_marks(text) == []
    assert min(size for _, size, _ in font_sizes(out / "paper" / "paper.pdf")) >= 7 - 1e-6
    assert "The study was funded by the Deanery" not in text
    declarations = text[text.index("Ethics approval."):text.rindex("References")]
    assert declarations.lower().count("not stated in the source article") >= 6

