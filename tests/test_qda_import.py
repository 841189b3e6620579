"""REFI-QDA import of real exports' quirks, then a build from the imported project.

Each fixture's text is typed here and its positions counted by hand, the way the named tool
counts them (the arithmetic is in the comments); the expected span is the phrase the fixture
codes, so a test fails if any span lands a character off.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tracemalloc
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from psu_study import manuscript_statements, schema
from psu_study.environment import STAGE_ENV
from psu_study.notebook_files import notebook_paths
from psu_study.qda import cli, exporter, importer
from psu_study.qda.archive import QdaError
from psu_study.qda.offsets import _detect_offsets, _Span
from psu_study.qda.project import _Source
from psu_study.validation import load_study, read_table

from .test_paper import text_of
from .test_paper_rules import font_sizes, glued_marks

REPO = Path(__file__).resolve().parents[1]
XSD_DIR = Path(__file__).resolve().parents[2] / "shared" / "refi-qda"
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def outside_the_runner(monkeypatch):
    """Imports land where they are told (the root conftest stages outputs for nbval)."""
    monkeypatch.delenv(STAGE_ENV, raising=False)


def g(n: int) -> str:
    return f"{n:08d}-0000-4000-8000-000000000001"


@dataclass
class Src:
    """One TextSource: its file's bytes and its selections (start, end, name or None)."""

    n: int
    data: bytes
    selections: list[tuple[int, int, str | None]]
    name: str | None = None
    file: str = ""
    cases: list[str] = field(default_factory=list)


def project_xml(sources: list[Src], idle_users: tuple[str, ...] = ()) -> bytes:
    """A Project.xsd 1.0 project: one coder (AB), one theme with one code; ``idle_users``
    are more Users who made no coding (an NVivo team member who coded nothing)."""
    root = ET.Element("Project", {"xmlns": exporter.PROJECT_NS, "name": "Hand-built",
                                  "origin": "tests"})
    users = ET.SubElement(root, "Users")
    for k, name in enumerate(("AB", *idle_users)):
        ET.SubElement(users, "User", {"guid": g(1 + k * 900), "name": name})
    codes = ET.SubElement(ET.SubElement(root, "CodeBook"), "Codes")
    theme = ET.SubElement(codes, "Code", {"guid": g(20), "name": "On the edge",
                                          "isCodable": "true"})
    ET.SubElement(theme, "Code", {"guid": g(21), "name": "Breaking point", "isCodable": "true"})
    with_cases = [s for s in sources if s.cases]
    if with_cases:
        cases = ET.SubElement(root, "Cases")
        for s in with_cases:
            for case in s.cases:
                ET.SubElement(ET.SubElement(cases, "Case", {"guid": g(700 + s.n), "name": case}),
                              "SourceRef", {"targetGUID": g(s.n)})
    holder = ET.SubElement(root, "Sources")
    for s in sources:
        attrs = {"guid": g(s.n), "plainTextPath": f"internal://{s.file or f'{s.n}.txt'}"}
        if s.name is not None:
            attrs["name"] = s.name
        source = ET.SubElement(holder, "TextSource", attrs)
        for k, (start, end, name) in enumerate(s.selections):
            sel = {"guid": g(1000 * s.n + k), "startPosition": str(start),
                   "endPosition": str(end), "creatingUser": g(1)}
            if name is not None:
                sel["name"] = name
            element = ET.SubElement(source, "PlainTextSelection", sel)
            coding = ET.SubElement(element, "Coding", {"guid": g(1000 * s.n + 500 + k),
                                                       "creatingUser": g(1)})
            ET.SubElement(coding, "CodeRef", {"targetGUID": g(21)})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def qdpx(path: Path, sources: list[Src], idle_users: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project_xml(sources, idle_users))
        for s in sources:
            archive.writestr(f"sources/{s.file or f'{s.n}.txt'}", s.data)
    return path


def imported(out: Path) -> list[tuple[str, int, int, str]]:
    """(participant, start, end, text) of each segment, after checking each span's text
    is exactly the transcript's characters start..end."""
    seg = read_table(out, schema.TABLES["segments"])
    rows = [tuple(r) for r in seg[["participant_id", "start", "end", "text"]].to_numpy()]
    for pid, start, end, text in rows:
        assert (out / "transcripts" / f"{pid}.txt").read_bytes().decode("utf-8")[start:end] \
            == text
    return rows


# ---------------------------------------------------------------- BOM counted as a character

# Saved with a BOM, LF line ends, nothing outside the BMP. Code points, BOM not counted:
#   "Q: Why then?\n"                 0-12; "Why then?" is 3..12 (W at 3, "?" at 11)
#   "A: I was at breaking point.\n"  13-40; "I" at 16, "I was" 16..21; "breaking" 25-32,
#                                    " " 33, "point" 34-38, "." 39: "breaking point" 25..39
#   "Q: And now?\n"                  41-52
#   "A: The PSU helped.\n"           53-71; "PSU" 60-62, " " 63, "helped" 64-69: 60..70
TEXT_BOM = "Q: Why then?\nA: I was at breaking point.\nQ: And now?\nA: The PSU helped.\n"
WORDS_BOM = ["Why then?", "I was", "breaking point", "PSU helped"]
CODE_POINTS_BOM = [(3, 12), (16, 21), (25, 39), (60, 70)]
# A tool that counts the BOM as a character puts every position one further: +1 each.
COUNTED_BOM = [(4, 13), (17, 22), (26, 40), (61, 71)]


# ------------------------------------------------- characters outside the BMP (UTF-16 units)

# No BOM, LF. Code points:
#   "Q: Hello 😀\n"   "Hello" 3..8, the emoji at 9, LF 10
#   "A: Talking to a stranger 🙂 was easier.\n"  starts 11: "Talking" 14-20, " to a stranger"
#       ends at 34 ("r"), so "Talking to a stranger" is 14..35; " " 35, 🙂 36, " " 37,
#       "was easier." 38..49 (the "." at 48), LF 49
#   "Q: Why?\n"       50-57
#   "A: No judgement.\n"  starts 58: "No judgement" 61..73 ("." at 73), LF 74; length 75
TEXT_EMOJI = ("Q: Hello \U0001F600\nA: Talking to a stranger \U0001F642 was easier.\n"
              "Q: Why?\nA: No judgement.\n")
WORDS_EMOJI = ["Hello", "Talking to a stranger", "was easier.", "No judgement"]
CODE_POINTS_EMOJI = [(3, 8), (14, 35), (38, 49), (61, 73)]
# UTF-16 units: one more per emoji before the position (emoji at code points 9 and 36):
# 3, 8 (none before); 14+1, 35+1; 38+2, 49+2; 61+2, 73+2.
UTF16_EMOJI = [(3, 8), (15, 36), (40, 51), (63, 75)]


# --------------------------------------------------------------------- CRLF as one or two

# Stored with CRLF. Code points as stored:
#   "Q: Hi.\r\n"                 "Hi" 3..5, CR 6, LF 7
#   "A: I felt a failure.\r\n"   starts 8: "felt" 13-16, "a" 18, "failure" 20-26: 13..27
#   "Q: Then?\r\n"               starts 30: "Then" 33..37
#   "A: I went back to work.\r\n"  starts 40: "went" 45-48 ... "work" 58-61: 45..62
TEXT_CRLF = "Q: Hi.\r\nA: I felt a failure.\r\nQ: Then?\r\nA: I went back to work.\r\n"
WORDS_CRLF = ["Hi", "felt a failure", "Then", "went back to work"]
CODE_POINTS_CRLF = [(3, 5), (13, 27), (33, 37), (45, 62)]
# Counting each CRLF as one character: minus the CRLFs before: 0; 1; 2; 3.
CRLF_AS_ONE = [(3, 5), (12, 26), (31, 35), (42, 59)]


# ------------------------------- NVivo 12 for Windows: BOM, emoji, CRLF, empty selection names

# Code points (BOM removed, CRLF kept):
#   "Interviewer: How are you? 😀\r\n"  "Interviewer" 0-10, ":" 11, "How are you?" 13..25
#       (the "?" at 24), " " 25, 😀 26, CR 27, LF 28
#   "P3: I was at breaking point.\r\n"  starts 29: "I" 33, "breaking" 42-49, "point" 51-55,
#       "." 56, CR 57, LF 58: "breaking point" 42..56
#   "Interviewer: And then?\r\n"        starts 59: "Interviewer" 59-69, "And then?" 72..81
#   "P3: The PSU helped a lot 🙂.\r\n"  starts 83: "The" 87, "lot" 104-106:
#       "The PSU helped a lot" 87..107; 🙂 at 108
#   and "I was at breaking point.\r\nInterviewer", across a line end: 33..70
TEXT_NVIVO = ("Interviewer: How are you? \U0001F600\r\nP3: I was at breaking point.\r\n"
              "Interviewer: And then?\r\nP3: The PSU helped a lot \U0001F642.\r\n")
WORDS_NVIVO = ["How are you?", "breaking point", "I was at breaking point.\r\nInterviewer",
               "And then?", "The PSU helped a lot"]
CODE_POINTS_NVIVO = [(13, 25), (42, 56), (33, 70), (72, 81), (87, 107)]
# NVivo: +1 for the BOM, +1 per emoji before (at 26 and 108), CRLF as two:
# 13+1, 25+1; 42+2, 56+2; 33+2, 70+2; 72+2, 81+2; 87+2, 107+2.
NVIVO = [(14, 26), (44, 58), (35, 72), (74, 83), (89, 109)]

# (file bytes, positions as the tool wrote them, the reading to detect, the code points and
# phrases they must give). Each quirk both ways: the standard's count is not displaced.
QUIRKS = {
    "bom not counted": (BOM + TEXT_BOM.encode(), CODE_POINTS_BOM, "codepoint",
                        CODE_POINTS_BOM, WORDS_BOM),
    "bom counted": (BOM + TEXT_BOM.encode(), COUNTED_BOM, "codepoint+bom",
                    CODE_POINTS_BOM, WORDS_BOM),
    "emoji in code points": (TEXT_EMOJI.encode(), CODE_POINTS_EMOJI, "codepoint",
                             CODE_POINTS_EMOJI, WORDS_EMOJI),
    "emoji in utf-16 units": (TEXT_EMOJI.encode(), UTF16_EMOJI, "utf16", CODE_POINTS_EMOJI,
                              WORDS_EMOJI),
    "crlf as two": (TEXT_CRLF.encode(), CODE_POINTS_CRLF, "codepoint", CODE_POINTS_CRLF,
                    WORDS_CRLF),
    "crlf as one": (TEXT_CRLF.encode(), CRLF_AS_ONE, "codepoint+crlf1", CODE_POINTS_CRLF,
                    WORDS_CRLF),
    "nvivo 12 windows, empty names": (BOM + TEXT_NVIVO.encode(), NVIVO, "utf16+bom",
                                      CODE_POINTS_NVIVO, WORDS_NVIVO),
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
def test_each_quirk_imports_every_span_on_its_phrase(tmp_path, quirk):
    data, positions, reading, points, words = QUIRKS[quirk]
    name = "" if "empty names" in quirk else None
    path = qdpx(tmp_path / "p.qdpx", [Src(1, data, [(s, e, name) for s, e in positions],
                                          name="Interview with PPT 2")])
    report = importer.import_project(path, tmp_path / "out")
    assert report.offsets == reading
    assert imported(tmp_path / "out") == [
        ("P2", s, e, w) for (s, e), w in zip(points, words, strict=True)]
    # Every fixture span starts and ends on a word or line boundary, two ends each.
    assert f"{2 * len(words)} of {2 * len(words)} span ends" in report.offsets_reason
    # The transcript is the file less its BOM, CRLF kept: code points index it.
    assert (tmp_path / "out" / "transcripts" / "P2.txt").read_bytes() == data.removeprefix(
        BOM)


def nvivo_sources() -> list[Src]:
    return [Src(1, BOM + TEXT_NVIVO.encode("utf-8"), [(s, e, "") for s, e in NVIVO],
                name="Transcript A", cases=["PPT 3"])]


def test_nvivo_export_found_by_its_case_with_the_reading_in_the_summary(tmp_path):
    """README, section A team with NVivo: "The importer reads the offset convention from the text
    ... and prints which reading won and by what margin"."""
    path = qdpx(tmp_path / "NVivo.qdpx", nvivo_sources())
    report = importer.import_project(path, tmp_path / "out")
    assert report.participants == {"Transcript A": "P3"}
    assert "offsets: utf16+bom (UTF-16 code units, BOM counted, CRLF as two" in report.summary()
    # The margin: the runner-up and its score are named.
    assert "next best" in report.offsets_reason


def test_a_forced_reading_is_used_as_asked(tmp_path):
    path = qdpx(tmp_path / "p.qdpx", [Src(1, TEXT_EMOJI.encode("utf-8"),
                                          [(s, e, None) for s, e in UTF16_EMOJI], name="P2")])
    out = tmp_path / "out"
    assert cli.main([str(path), "--out-dir", str(out), "--offsets", "codepoint"]) == 0
    # UTF-16 positions read as code points: "Talking to a stranger" at 15..36 cuts one
    # character later than its code points 14..35.
    seg = read_table(out, schema.TABLES["segments"])
    assert seg["text"].tolist()[1] == "alking to a stranger "


# ----------------------------------------------------------------- refusal and one selection

def test_refuses_positions_that_fit_no_reading(tmp_path, capsys):
    # "A: breaking point\n" (b at 3): "reak" is 4..8 and "eaki" 5..9, mid-word at both ends
    # however counted (no BOM, emoji or CRLF, so every reading agrees).
    text = b"A: breaking point\n"
    path = qdpx(tmp_path / "p.qdpx", [Src(1, text, [(4, 8, None), (5, 9, None)], name="P1")])
    with pytest.raises(QdaError, match="no reading of the selection positions fits"):
        importer.import_project(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert cli.main([str(path), "--out-dir", str(tmp_path / "out")]) == 2
    assert "--offsets" in capsys.readouterr().err


def test_a_project_with_one_coded_selection_imports(tmp_path):
    # Issue 12: one selection crashed the offset conversion. "Fine" is 10..14 in
    # "Q: Hi.\nA: Fine.\n" (Q0 :1 " "2 H3 i4 .5 LF6 A7 :8 " "9 F10 i11 n12 e13).
    path = qdpx(tmp_path / "p.qdpx", [Src(1, b"Q: Hi.\nA: Fine.\n", [(10, 14, "Fine")],
                                          name="P1")])
    report = importer.import_project(path, tmp_path / "out")
    assert report.offsets == "codepoint"
    assert imported(tmp_path / "out") == [("P1", 10, 14, "Fine")]


# ------------------------------------------------------- source names and participant mapping

def test_sources_without_names_are_known_by_their_file_name(tmp_path):
    sources = [Src(1, b"A: Fine.\n", [(3, 7, None)], file="P4.txt"),
               Src(2, b"A: Good.\n", [(3, 7, None)], file="interview_p5.txt")]
    report = importer.import_project(qdpx(tmp_path / "p.qdpx", sources), tmp_path / "out")
    assert report.participants == {"P4.txt": "P4", "interview_p5.txt": "P5"}
    table = pd.read_csv(tmp_path / "out" / "sources.csv", dtype=str)
    assert table["source_name"].tolist() == ["P4.txt", "interview_p5.txt"]
    assert imported(tmp_path / "out") == [("P4", 3, 7, "Fine"), ("P5", 3, 7, "Good")]


def anonymous_sources() -> list[Src]:
    return [Src(1, b"A: Fine.\n", [(3, 7, None)], name="Interview Smith.docx"),
            Src(2, b"A: Good.\n", [(3, 7, None)], name="Interview Jones.docx"),
            Src(3, b"Notes only.\n", [], name="Memo")]


def test_names_without_numbers_are_numbered_and_the_map_is_given_back(tmp_path, capsys):
    """README, section A team with NVivo: "When no source or case name holds a participant number,
    the coded sources are numbered `P1..Pn` in document order"."""
    path = qdpx(tmp_path / "p.qdpx", anonymous_sources())
    out = tmp_path / "out"
    assert cli.main([str(path), "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    # The two coded sources in document order; the uncoded memo is left out.
    assert "'Interview Smith.docx' -> P1" in printed
    assert "'Interview Jones.docx' -> P2" in printed
    assert "numbered the 2 coded sources P1..P2" in printed and "Memo" in printed
    table = pd.read_csv(out / "sources.csv", dtype=str)
    assert table["participant_id"].tolist() == ["P1", "P2"]
    # The user corrects the map in place (Jones was the first interview) and imports again
    # over the same folder with it, as the README shows.
    table["participant_id"] = ["P2", "P1"]
    table.to_csv(out / "sources.csv", index=False)
    assert cli.main([str(path), "--out-dir", str(out), "--overwrite", "--participants",
                     str(out / "sources.csv")]) == 0
    assert "'Interview Smith.docx' -> P2" in capsys.readouterr().out
    assert imported(out) == [("P2", 3, 7, "Fine"), ("P1", 3, 7, "Good")]
    assert pd.read_csv(out / "sources.csv", dtype=str)["participant_id"].tolist() == [
        "P2", "P1"]


def test_auto_map_ignores_the_numbers_in_names(tmp_path):
    """README, section A team with NVivo: "`--auto-map` does so whatever the names say"."""
    sources = [Src(1, b"A: Fine.\n", [(3, 7, None)], name="P7"),
               Src(2, b"A: Good.\n", [(3, 7, None)], name="P9")]
    report = importer.import_project(qdpx(tmp_path / "p.qdpx", sources), tmp_path / "out",
                                auto_map=True)
    assert report.participants == {"P7": "P1", "P9": "P2"}


def test_sources_only_some_names_place_are_refused_without_a_map(tmp_path):
    sources = [Src(1, b"A: Fine.\n", [(3, 7, None)], name="P7"),
               Src(2, b"A: Good.\n", [(3, 7, None)], name="Dr Jones")]
    with pytest.raises(QdaError, match="'Dr Jones'.*--auto-map"):
        importer.import_project(qdpx(tmp_path / "p.qdpx", sources), tmp_path / "out")


# ------------------------------------------------------------------ memory and the schema

def test_utf16_mapping_memory_does_not_grow_with_the_text():
    # Issue 12: a 100 MB source with one emoji took 2.3 GB (an int64 per character). Here
    # 5 million characters with one emoji at the end; the text itself is made before
    # tracing. An int64 per character would be 40 MB; the limit is 1 MiB.
    text = "word " * 1_000_000 + "\U0001F600 end."
    source = _Source("g", "big", text, ET.Element("TextSource"))
    span = _Span(0, ET.Element("PlainTextSelection", name=""), 5, 9)
    tracemalloc.start()
    try:
        reading, _, points = _detect_offsets("big.qdpx", [source], [span])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert points.tolist() == [[5, 9]] and reading == "codepoint"
    assert peak < 2**20, f"{peak / 2**20:.1f} MiB"


@pytest.fixture(scope="module")
def project_schema():
    """The REFI-QDA project schema, built once for every project checked against it."""
    if not (XSD_DIR / "Project.xsd").is_file():
        pytest.skip(f"REFI-QDA XSDs not found at {XSD_DIR} (the shared folder beside the repo)")
    import xmlschema

    return xmlschema.XMLSchema(XSD_DIR / "Project.xsd")


@pytest.mark.parametrize("sources", [
    nvivo_sources(), anonymous_sources(),
    [Src(1, b"A: Fine.\n", [(3, 7, None)], file="P4.txt")]], ids=["nvivo", "named", "unnamed"])
def test_an_import_exported_again_follows_the_schema_and_imports_the_same(
        tmp_path, project_schema, sources):
    """The hand-built projects the tests import are REFI-QDA as Project.xsd 1.0 defines it
    (so the quirks tested are a real export's, not a malformed file's); the exporter writes
    what one of them imported as a project that follows the schema too, and importing that
    gives back the same segments, character for character."""
    project_schema.validate(io.BytesIO(project_xml(sources)))
    first = tmp_path / "first"
    importer.import_project(qdpx(tmp_path / "hand-built.qdpx", sources), first)
    pids = pd.read_csv(first / "sources.csv", dtype=str)["participant_id"]
    (first / "participants.csv").write_text(
        "participant_id,gender,training_stage,provenance\n"
        + "".join(f"{pid},female,FY1,study\n" for pid in pids), encoding="utf-8")
    again = exporter.export_project(load_study(first, tables=["segments"]),
                                    tmp_path / "again.qdpx")
    with zipfile.ZipFile(again) as archive:
        project_schema.validate(io.BytesIO(archive.read("project.qde")))
    importer.import_project(again, tmp_path / "second")
    assert imported(tmp_path / "second") == imported(first) != []


# ------------------------------------------------------------------ import, then build

CONTRACT_FILES = {
    "participants.csv": "participant_id,gender,training_stage,provenance\n"
                        "P1,female,FY1,study\nP2,male,ST3,study\nP3,female,CT2,study\n",
    "recruitment.csv": "trainee_id,stage_reached,participant_id,contacted_on,provenance\n"
                       "T1,interviewed,P1,2020-01-06,study\nT2,interviewed,P2,2020-01-08,study\n"
                       "T3,interviewed,P3,2020-01-09,study\nT4,contacted,,2020-01-10,study\n",
    "interviews.csv": "participant_id,interview_date,mode,duration_min,provenance\n"
                      "P1,2020-02-03,video,40,study\nP2,2020-02-05,telephone,55,study\n"
                      "P3,2020-02-07,video,61,study\n",
    "psu_users.csv": "characteristic,category,count,provenance\n"
                     "all,all,120,study\ngender,female,70,study\ngender,not female,50,study\n",
}


@pytest.mark.slow  # a build of the imported project
def test_an_imported_project_plus_the_four_contract_files_builds(tmp_path):
    """README, section A team with NVivo: "import it, ... add the four files a QDA project cannot
    hold, and build"."""
    # Three transcripts, each coded by AB, one named only by its file; CD is a User of the
    # project who coded nothing (the paper failed on 'n_transcripts_coded_CD').
    sources = [Src(1, b"A: I was at breaking point.\n", [(12, 26, None)], name="PPT 1"),
               Src(2, BOM + TEXT_NVIVO.encode("utf-8"), [(s, e, "") for s, e in NVIVO],
                   name="Participant 2"),
               Src(3, b"A: They helped.\n", [(8, 14, None)], file="P3.txt")]
    data = tmp_path / "study"
    importer.import_project(qdpx(tmp_path / "study.qdpx", sources, idle_users=("CD",)), data)
    for name, text in CONTRACT_FILES.items():
        (data / name).write_text(text, encoding="utf-8")
    (data / "claims.yaml").write_text("claims: []\n", encoding="utf-8")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != STAGE_ENV}
    run = subprocess.run([sys.executable, "-m", "psu_study.runner", "--data-dir", str(data),
                          "--out-dir", str(out)], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Every notebook executed, numbers.json and figures written under OUT_DIR.
    assert sorted(p.name for p in notebook_paths(out / "notebooks")) == sorted(
        p.name for p in notebook_paths(REPO / "notebooks"))
    assert (out / "tables" / "numbers.json").is_file()
    assert any((out / "figures").iterdir())
    # One coder: a study with nothing to compare. The agreement notebook runs, says so, and
    # writes no agreement table or figure; its numbers say no pair was compared.
    assert (out / "paper" / "paper.pdf").read_bytes().startswith(b"%PDF")
    # Both users are coders; CD, who coded nothing, is said to have, and left out.
    assert (data / "coders.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "AB,REFI-QDA user,study", "CD,REFI-QDA user,study"]
    agreement_nb = (out / "notebooks" / "05_agreement.ipynb").read_text(encoding="utf-8")
    assert "CD (listed in coders.csv) coded no transcript" in agreement_nb
    assert "Nothing to compare: only AB coded" in agreement_nb
    numbers = json.loads((out / "tables" / "numbers.json").read_text())
    assert (numbers["n_coders"], numbers["n_transcripts_coded_CD"]) == (1, 0)
    assert not list((out / "tables").glob("agreement*"))
    assert not list((out / "figures").glob("agreement*"))
    fragment = json.loads((out / "tables" / "numbers" / "05_agreement.json").read_text())
    assert fragment == {"n_coder_pairs_compared": 0}
    # The paper, the build's last step, follows the manuscript's rules on these data too: no
    # mark against a numeral, nothing under 7 pt, and the declarations this project's data
    # do not give (no statements.yml) said to be not stated, with a warning for each.
    paper = out / "paper" / "paper.pdf"
    text = text_of(paper)
    assert glued_marks(text) == []
    assert min(size for _, size, _ in font_sizes(paper)) >= 7 - 1e-6
    items = manuscript_statements.STATEMENT_ITEMS
    assert text.lower().count("not stated in the source article") >= len(items)
    assert "warning: paper: funding: not stated" in run.stderr + run.stdout
