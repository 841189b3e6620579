"""REFI-QDA import and export: a hand-built NVivo-style project, one test per refused file,
XSD validation of the exports and the round trip on the repository's data."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from psu_study import schema
from psu_study.environment import STAGE_ENV
from psu_study.qda import cli, exporter, importer
from psu_study.qda.archive import QdaError
from psu_study.qda.project import PARTICIPANT_IN_NAME
from psu_study.validation import load_study, read_table

REPO = Path(__file__).resolve().parents[1]
XSD_DIR = Path(__file__).resolve().parents[2] / "shared" / "refi-qda"

# P3's transcript as NVivo 12 holds it: emoji (two UTF-16 units each) before coded spans,
# Windows line ends. Saved with a BOM. Offsets below are counted in UTF-16 units, as NVivo 12.
TEXT_A = ("Interviewer: how are you? \U0001F600\r\nP3: I was at breaking point.\r\n"
          "Interviewer: and then \U0001F642?\r\nP3: The PSU helped a lot.\r\nInterviewer: thanks.")
TEXT_B = "Interviewer: go on.\r\nP12: Talking to a stranger was easier."


@pytest.fixture(autouse=True)
def outside_the_runner(monkeypatch):
    """The root conftest stages every output for nbval's kernels; these tests call the
    functions as a user would, so exports land at their targets (under tmp_path)."""
    monkeypatch.delenv(STAGE_ENV, raising=False)


def g(n: int) -> str:
    """A GUID written as NVivo does (braces, upper case); references use the bare form."""
    return f"{{{n:08d}-0000-4000-8000-00000000ABCD}}"


def ref(n: int) -> str:
    return g(n).strip("{}").lower()


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def selection(n: int, text: str, target: str, user: int, code: int, *, named: bool = True,
              coding_user: bool = True, end: int | None = None) -> str:
    start = units(text[:text.index(target)])
    stop = end if end is not None else start + units(target)
    name = f' name="{target[:12]}"' if named else ""
    who = f' creatingUser="{ref(user)}"' if coding_user else ""
    return (f'<PlainTextSelection guid="{g(n)}"{name} startPosition="{start}" '
            f'endPosition="{stop}" creatingUser="{g(user)}"><Coding guid="{g(n + 500)}"{who}>'
            f'<CodeRef targetGUID="{ref(code)}"/></Coding></PlainTextSelection>')


def project_xml(folder: str = "Sources", named: bool = True, code_a: int = 21, user_a: int = 1,
                end_a: int | None = None, doctype: str = "") -> str:
    selections_a = "".join([
        selection(101, TEXT_A, "I was at breaking point.", user_a, code_a, named=named,
                  end=end_a),
        selection(102, TEXT_A, "I was at breaking point.\r\nInterviewer", 2, 21, named=named),
        selection(103, TEXT_A, "The PSU helped a lot.", 1, 31, named=named),
    ])
    selections_b = "".join([
        selection(104, TEXT_B, "to a stranger", 2, 32, named=named, coding_user=False),
        selection(105, TEXT_B, "Talking", 3, 31, named=named),
    ])
    return f"""<?xml version="1.0" encoding="utf-8"?>{doctype}
<Project xmlns="urn:QDA-XML:project:1.0" name="NVivo study" origin="NVivo 12">
 <Users>
  <User guid="{g(1)}" name="EW"/>
  <User guid="{g(2)}" name="Fiona Foster" id="FF"/>
  <User guid="{g(3)}" name="A visiting researcher"/>
 </Users>
 <CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>
  <Code guid="{g(20)}" name="Being on the edge" isCodable="true">
   <Description>Help accepted at breaking point.</Description>
   <Code guid="{g(21)}" name="Breaking point" isCodable="true"/>
  </Code>
  <Code guid="{g(30)}" name="Recovery" isCodable="false">
   <Code guid="{g(33)}" name="Making sense" isCodable="false">
    <Code guid="{g(31)}" name="Talking openly" isCodable="true">
     <Code guid="{g(32)}" name="To a stranger" isCodable="true"/>
    </Code>
   </Code>
  </Code>
 </Codes></CodeBook>
 <Cases><Case guid="{g(40)}" name="PPT 3"><SourceRef targetGUID="{ref(50)}"/></Case></Cases>
 <Sources>
  <TextSource guid="{g(50)}" name="Transcript A" plainTextPath="internal://{ref(50)}.txt">
   {selections_a}
  </TextSource>
  <TextSource guid="{g(51)}" name="Interview with Participant 12" plainTextPath="{folder}/b.txt">
   {selections_b}
   <Coding guid="{g(60)}" creatingUser="{ref(1)}"><CodeRef targetGUID="{ref(30)}"/></Coding>
  </TextSource>
  <TextSource guid="{g(52)}" name="Memo on recruitment" plainTextPath="internal://memo.txt"/>
 </Sources>
</Project>
"""


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def nvivo_entries(qde: str = "project.qde", folder: str = "Sources", **xml) -> dict[str, bytes]:
    return {
        qde: project_xml(folder, **xml).encode("utf-8"),
        f"{folder}/{ref(50)}.txt": b"\xef\xbb\xbf" + TEXT_A.encode("utf-8"),
        f"{folder}/b.txt": TEXT_B.encode("utf-8"),
        f"{folder}/memo.txt": b"Notes, not an interview.",
    }


EXPECTED_CODEBOOK = [
    ("T1", "", "theme", "Being on the edge", 1),
    ("C1.1", "T1", "code", "Breaking point", 1),
    ("T2", "", "theme", "Recovery", 2),
    ("S2.1", "T2", "subtheme", "Making sense", 1),
    ("C2.1.1", "S2.1", "code", "Talking openly", 1),
    ("C2.1.2", "S2.1", "code", "Talking openly > To a stranger", 2),
]
VISITOR = ref(3)
EXPECTED_SEGMENTS = [
    ("P3", "EW", "C1.1", "I was at breaking point."),
    ("P3", "FF", "C1.1", "I was at breaking point.\r\nInterviewer"),
    ("P3", "EW", "C2.1.1", "The PSU helped a lot."),
    ("P12", "FF", "C2.1.2", "to a stranger"),
    ("P12", VISITOR, "C2.1.1", "Talking"),
    ("P12", "EW", "T2", "Interviewer: go on.\r\nP12: Talking to a stranger was easier."),
]


def frame(out: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{table}.csv", dtype=str, keep_default_na=False)


def check_nvivo_import(out: Path, report: importer.ImportReport) -> None:
    # Every span fits the text read either way; the selection names decide.
    assert report.offsets == "utf16"
    assert "selection names match" in report.offsets_reason
    book = frame(out, "codebook")
    assert [tuple(r) for r in book[["code_id", "parent_id", "level", "name"]].to_numpy()] == [
        r[:4] for r in EXPECTED_CODEBOOK]
    assert book["order"].astype(int).tolist() == [r[4] for r in EXPECTED_CODEBOOK]
    assert book.loc[0, "definition"] == "Help accepted at breaking point."
    assert set(book["provenance"]) == {"study"}
    seg = read_table(out, schema.TABLES["segments"])
    assert [tuple(r) for r in seg[["participant_id", "coder", "code_id", "text"]].to_numpy()] \
        == EXPECTED_SEGMENTS
    text_a = (out / "transcripts" / "P3.txt").read_bytes().decode("utf-8")
    assert text_a == TEXT_A  # BOM gone, CRLF kept
    for pid, start, end, text in seg[["participant_id", "start", "end", "text"]].to_numpy():
        source = (out / "transcripts" / f"{pid}.txt").read_bytes().decode("utf-8")
        assert source[start:end] == text
    sources = frame(out, "sources")
    assert dict(zip(sources["source_name"], sources["participant_id"], strict=True)) == {
        "Transcript A": "P3", "Interview with Participant 12": "P12"}
    assert frame(out, "coders")["coder"].tolist() == ["EW", "FF", VISITOR]
    assert any("Memo on recruitment" in w for w in report.warnings)


@pytest.mark.parametrize("qde, folder", [
    ("project.qde", "Sources"), ("Project.qde", "sources"), ("NVivo study.qde", "Sources")])
def test_nvivo_style_project_imports_every_segment_exactly(tmp_path, qde, folder):
    path = write_zip(tmp_path / "NVivo study.qdpx", nvivo_entries(qde, folder))
    out = tmp_path / "out"
    report = importer.import_project(path, out)
    check_nvivo_import(out, report)
    # The contract's own loader accepts the result once participants.csv is supplied.
    (out / "participants.csv").write_text(
        "participant_id,gender,training_stage,provenance\n"
        "P3,female,FY1,study\nP12,female,ST3,study\n", encoding="utf-8")
    study = load_study(out, tables=["segments"])
    assert len(study.segments) == len(EXPECTED_SEGMENTS)


def test_bare_qde_with_sources_folder_beside_it(tmp_path):
    for name, data in nvivo_entries().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "out"
    check_nvivo_import(out, importer.import_project(tmp_path / "project.qde", out))


def test_participant_map_overrides_the_naming_rules(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries())
    mapping = tmp_path / "map.csv"
    mapping.write_text("source_name,participant_id\nInterview with Participant 12,P5\n",
                       encoding="utf-8")
    report = importer.import_project(path, tmp_path / "out", mapping)
    assert report.participants["Interview with Participant 12"] == "P5"
    assert (tmp_path / "out" / "transcripts" / "P5.txt").exists()


@pytest.mark.parametrize("name, expected", [
    ("P3", "P3"), ("PPT 12", "P12"), ("participant_07 interview.docx", "P7"),
    ("Interview-p4", "P4"), ("Help2 then P6", "P6")])
def test_participant_naming_rule(name, expected):
    found = PARTICIPANT_IN_NAME.search(name)
    assert found and f"P{int(found.group(1))}" == expected


# ---------------------------------------------------------------------- refusals

BILLION_LAUGHS = """<!DOCTYPE Project [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>"""


def refused(tmp_path: Path, path: Path, message: str, **kwargs) -> None:
    out = tmp_path / "out"
    with pytest.raises(QdaError, match=message) as caught:
        importer.import_project(path, out, **kwargs)
    assert path.name in str(caught.value)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_refuses_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "p.qdpx"
    path.write_bytes(b"<Project/>")
    refused(tmp_path, path, "not a zip archive")


def test_refuses_a_zip_without_a_qde(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", {"Sources/a.txt": b"text"})
    refused(tmp_path, path, "no .qde project file")


def test_refuses_malformed_xml(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", {"project.qde": b"<Project><Users></Project>"})
    refused(tmp_path, path, "not well-formed XML")


def test_refuses_entity_expansion(tmp_path):
    """docs/security.md, section Security: "XML is parsed by defusedxml: no DTD entities, no
    external references"."""
    entries = nvivo_entries(doctype=BILLION_LAUGHS)
    entries["project.qde"] = entries["project.qde"].replace(b'name="NVivo study"',
                                                            b'name="&lol3;"')
    path = write_zip(tmp_path / "p.qdpx", entries)
    refused(tmp_path, path, "declares XML entities")


def test_refuses_a_coding_of_an_unknown_code(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries(code_a=99))
    refused(tmp_path, path, "which the codebook does not define")


def test_refuses_a_coding_by_an_unknown_user(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries(user_a=98))
    refused(tmp_path, path, "not among the project's Users")


def test_refuses_positions_outside_the_text(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries(end_a=10_000))
    refused(tmp_path, path, r"positions \d+-10000 lie outside its text")


@pytest.mark.parametrize("entry", ["../evil.txt", "/etc/evil.txt", "sources/../../evil.txt",
                                   "C:\\evil.txt"])
def test_refuses_zip_entries_that_escape_the_folder(tmp_path, entry):
    """docs/security.md, section Security: "a `.qdpx` entry with `..`, an absolute path or a drive
    letter is refused"."""
    entries = {**nvivo_entries(), entry: b"x"}
    path = write_zip(tmp_path / "p.qdpx", entries)
    refused(tmp_path, path, "outside the project folder")


def test_refuses_an_oversized_project(tmp_path):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries())
    refused(tmp_path, path, "over the .* MiB limit", max_bytes=2000)


def test_refuses_a_coded_source_nobody_can_place(tmp_path):
    entries = nvivo_entries()
    entries["project.qde"] = entries["project.qde"].replace(b"Participant 12", b"Dr Smith")
    refused(tmp_path, write_zip(tmp_path / "p.qdpx", entries), "give a --participants map")


def test_cli_reports_and_fails_cleanly(tmp_path, capsys):
    path = write_zip(tmp_path / "p.qdpx", nvivo_entries())
    assert cli.main([str(path), "--out-dir", str(tmp_path / "out")]) == 0
    assert "offsets: utf16" in capsys.readouterr().out
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(b"nope")
    assert cli.main([str(bad), "--out-dir", str(tmp_path / "out2")]) == 2
    assert "bad.qdpx: not a zip archive" in capsys.readouterr().err


# ------------------------------------------------------------ export and round trip

@pytest.fixture(scope="module")
def study():
    return load_study(REPO / "data")


@pytest.fixture(scope="module")
def schemas():
    if not (XSD_DIR / "Project.xsd").is_file():
        pytest.skip(f"REFI-QDA XSDs not found at {XSD_DIR} (the shared folder beside the repo)")
    import xmlschema

    return {name: xmlschema.XMLSchema(XSD_DIR / f"{name}.xsd") for name in ("Project", "Codebook")}


def test_exports_validate_against_the_refi_qda_schemas(tmp_path, study, schemas):
    """README, section What it computes: "`tables/codebook.qdc`, `tables/coding.qdpx` (REFI-QDA
    exports)"."""
    project = exporter.export_project(study, tmp_path / "study.qdpx")
    codebook = exporter.export_codebook(study.codebook, tmp_path / "codebook.qdc")
    with zipfile.ZipFile(project) as archive:
        xml = archive.read("project.qde")
        assert sum(n.startswith("sources/") for n in archive.namelist()) == len(
            study.transcripts)
    schemas["Project"].validate(io.BytesIO(xml))
    schemas["Codebook"].validate(str(codebook))


def test_exports_are_byte_identical_across_runs(tmp_path, study):
    first = exporter.export_project(study, tmp_path / "a.qdpx").read_bytes()
    assert exporter.export_project(study, tmp_path / "b.qdpx").read_bytes() == first
    book = exporter.export_codebook(study.codebook, tmp_path / "a.qdc").read_bytes()
    assert exporter.export_codebook(study.codebook, tmp_path / "b.qdc").read_bytes() == book


def test_round_trip_gives_back_the_repository_coding(tmp_path, study):
    path = exporter.export_project(study, tmp_path / "study.qdpx")
    report = importer.import_project(path, tmp_path / "out")
    assert report.offsets == "codepoint"
    assert report.coders == ("EW", "FF")
    back = read_table(tmp_path / "out", schema.TABLES["codebook"])
    columns = ["code_id", "parent_id", "level", "name", "order", "definition"]
    pd.testing.assert_frame_equal(back[columns], study.codebook[columns])
    segments = read_table(tmp_path / "out", schema.TABLES["segments"])
    columns = ["segment_id", "participant_id", "coder", "code_id", "text", "start", "end"]
    pd.testing.assert_frame_equal(segments[columns], study.segments[columns])
    for pid, text in study.transcripts.items():
        assert (tmp_path / "out" / "transcripts" / f"{pid}.txt").read_text(
            encoding="utf-8") == text
