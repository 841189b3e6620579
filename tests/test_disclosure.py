"""Disclosure control: every identifier kind is caught, near-misses are not, errors never
carry the value, and the small-cell rule hides what subtraction would reveal.

All identifiers here are fictitious: Ofcom's drama numbers, the NHS's published example
number and numbers whose check digits are worked below.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from psu_study.disclosure import (
    DisclosureError,
    load_list,
    rule_description,
    scan_frame,
    scan_notebook,
    scan_text,
    suppress_small_cells,
)

# NHS numbers: weights 10, 9, ..., 2 on the first nine digits; check = 11 - (sum mod 11),
# 11 becomes 0 and 10 means no valid number.
# 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9. Valid.
# 401 023 2137: 40+0+8+0+12+15+8+3+6 = 92; 92 mod 11 = 4; 11-4 = 7. Valid.
# 100 000 3000: 1*10 + 3*4 = 22; 22 mod 11 = 0; 11 becomes 0. Valid.
# 943 476 5918: as the first, whose check digit is 9, not 8. Invalid.
# 123 456 7890: 10+18+24+28+30+30+28+24+18 = 210; 210 mod 11 = 1; 11-1 = 10. Invalid for any
# last digit.
VALID_NHS = ["943 476 5919", "9434765919", "401-023-2137", "100 000 3000"]
INVALID_NHS = ["943 476 5918", "9434765918", "123 456 7890", "1234567891"]

FOUND = {
    "email": ["jane.doe@nhs.net", "j.smith+psu@hee.nhs.uk"],
    "phone": ["0161 496 0000", "020 7946 0018", "07700 900123", "+44 7700 900123",
              "+44 (0)20 7946 0018", "01632 960001", "0113-496-0000"],
    "nhs_number": VALID_NHS,
    "gmc_number": ["GMC 1234567", "GMC no. 1234567", "GMC number: 7654321",
                   "gmc ref 1234567", "General Medical Council reference 2345678"],
    "postcode": ["LS2 9JT", "SW1A 1AA", "M1 1AE", "B33 8TH", "DN55 1PT", "EC1A1BB", "W1A 0AX"],
    "date_of_birth": ["born on 12/03/1990", "DOB: 1990-03-12", "D.O.B. 12.03.90",
                      "date of birth 12th March 1990", "born March 12, 1990",
                      "her birthday is 3 Jan 1991"],
}

NEAR_MISSES = [
    *INVALID_NHS,
    "ref 1234567",  # seven digits, no GMC context
    "GMC 123456",  # six digits
    "GMC 12345678",  # eight digits
    "GMC registration was discussed.\n1234567",  # GMC on another line
    "0161 496",  # too short for a phone number
    "ST4 3rd year and FY1 2nd rotation",  # training stages, not postcodes
    "interviewed on 12/03/2014",  # a date, no birth context
    "born in 1990",  # a year alone is not a date of birth
    "@PSU_support",
    "user@localhost",
    "P1 2014-04-20 42 minutes",
]


def kinds(text: str, **kwargs: object) -> list[str]:
    return [f.kind for f in scan_text(text, **kwargs)]


@pytest.mark.parametrize(
    ("kind", "value"), [(k, v) for k, values in FOUND.items() for v in values]
)
def test_each_identifier_kind_is_found(kind: str, value: str) -> None:
    text = f"Participant said: {value}. Then we moved on."
    assert kind in kinds(text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_found(text: str) -> None:
    assert scan_text(text) == []


def test_findings_locate_and_mask_the_value() -> None:
    text = "Call 0161 496 0000 or write to jane.doe@nhs.net."
    phone, email = scan_text(text)
    assert text[phone.start:phone.end] == "0161 496 0000"
    assert text[email.start:email.end] == "jane.doe@nhs.net"
    assert (phone.masked, email.masked) == ("01…", "ja…")


def test_gmc_finding_is_the_number_not_the_word() -> None:
    (hit,) = scan_text("Her GMC no. 1234567 was checked")
    assert "Her GMC no. 1234567 was checked"[hit.start:hit.end] == "1234567"


def test_names_are_whole_words_and_case_insensitive() -> None:
    names = ["Jane Smith", "Okafor"]
    assert kinds("JANE  SMITH phoned", names=names) == ["name"]
    assert kinds("Dr okafor's rota", names=names) == ["name"]
    assert kinds("Okaforsson and Jane Smithers", names=names) == []
    assert kinds("Jane Smith", names=()) == []


def test_allow_list_suppresses_exactly_the_approved_value() -> None:
    text = "PSU switchboard 0161 496 0000; her mobile 07700 900123"
    found = scan_text(text, allow=["0161  496 0000"])
    assert [text[f.start:f.end] for f in found] == ["07700 900123"]
    assert scan_text("Ask Dr Okafor", names=["Okafor"], allow=["okafor"]) == []


@pytest.mark.parametrize(("kind", "value"), [(k, v[0]) for k, v in FOUND.items()])
def test_error_names_file_row_column_kind_but_not_the_value(kind: str, value: str) -> None:
    frame = pd.DataFrame({"pid": ["P1", "P2", "P3"], "text": ["fine", "fine", f"x {value}"]})
    with pytest.raises(DisclosureError) as caught:
        scan_frame(frame, "tables/quotes.csv")
    error = caught.value
    assert (error.file, error.row, error.column, error.kind) == (
        "tables/quotes.csv", 3, "text", kind)
    message = str(error)
    assert "tables/quotes.csv, row 3, column 'text'" in message
    secret = scan_text(value)[0]
    whole = f"x {value}"[secret.start + 2:secret.end + 2]
    assert whole not in message
    assert whole[:3] not in message


def test_name_error_does_not_echo_the_name() -> None:
    frame = pd.DataFrame({"quote": ["Dr Okafor was kind"]})
    with pytest.raises(DisclosureError) as caught:
        scan_frame(frame, "quotes.csv", names=["Okafor"])
    assert "Okafor" not in str(caught.value)
    assert "personal name" in str(caught.value)


def test_scan_frame_reports_the_first_hit_in_reading_order() -> None:
    frame = pd.DataFrame({
        "a": ["", "", "", "", "jane.doe@nhs.net"],
        "b": ["", "LS2 9JT", "", "", ""],
    })
    with pytest.raises(DisclosureError) as caught:
        scan_frame(frame, "t.csv")
    assert (caught.value.row, caught.value.column, caught.value.kind) == (2, "b", "postcode")


def test_scan_frame_checks_numbers_headers_and_allows() -> None:
    with pytest.raises(DisclosureError, match="row 2, column 'id'.*NHS number"):
        scan_frame(pd.DataFrame({"id": [1, 9434765919]}), "t.csv")
    with pytest.raises(DisclosureError, match="row 0, column"):
        scan_frame(pd.DataFrame({"jane.doe@nhs.net": [1]}), "t.csv")
    scan_frame(pd.DataFrame({"id": [1, None, 9434765919]}), "t.csv", allow=["9434765919"])


def test_repository_data_carry_no_identifiers() -> None:
    """The synthetic data, transcripts and published quotations hold none of the kinds."""
    data = Path(__file__).resolve().parents[1] / "data"
    for path in sorted(data.glob("*.csv")):
        scan_frame(pd.read_csv(path, dtype=str, keep_default_na=False), path.name)
    for path in sorted((data / "transcripts").glob("*.txt")):
        assert scan_text(path.read_text(encoding="utf-8")) == [], path.name


def notebook(planted: dict) -> nbformat.NotebookNode:
    """Three code cells; the planted output goes in cell 2 (0-based) as its second output."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Participants"),
        nbformat.v4.new_code_cell("print('n = 8')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="n = 8\n")]),
        nbformat.v4.new_code_cell("table", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="Table 1\n"), planted]),
    ]
    return nb


@pytest.mark.parametrize(("planted", "part"), [
    (nbformat.v4.new_output("stream", name="stdout", text="id 943 476 5919\n"), "stdout"),
    (nbformat.v4.new_output("execute_result", data={"text/plain": "943 476 5919"},
                            execution_count=1), "text/plain"),
    (nbformat.v4.new_output("display_data", data={"text/html": "<td>943 476 5919</td>"}),
     "text/html"),
    (nbformat.v4.new_output("display_data", data={"text/markdown": "| 943 476 5919 |"}),
     "text/markdown"),
    (nbformat.v4.new_output("display_data", data={"text/latex": r"\text{943 476 5919}"}),
     "text/latex"),
    (nbformat.v4.new_output("error", ename="KeyError", evalue="'9434765919'",
                            traceback=["KeyError: '9434765919'"]), "error"),
])
def test_notebook_scan_names_cell_and_output(planted: dict, part: str) -> None:
    nb = notebook(planted)
    with pytest.raises(DisclosureError) as caught:
        scan_notebook(nb, "notebooks/02_participants.ipynb")
    error = caught.value
    assert (error.cell, error.output, error.kind) == (2, f"1 ({part})", "nhs_number")
    assert str(error).startswith(f"notebooks/02_participants.ipynb, cell 2, output 1 ({part})")
    assert "5919" not in str(error)


def test_notebook_scan_skips_images_and_passes_clean_outputs() -> None:
    image = nbformat.v4.new_output("display_data", data={
        "image/png": "OTQzNDc2NTkxOQ==", "text/plain": "<Figure size 640x480>"})
    scan_notebook(notebook(image), "nb.ipynb")
    planted = nbformat.v4.new_output("stream", name="stdout", text="Dr Okafor\n")
    scan_notebook(notebook(planted), "nb.ipynb")
    with pytest.raises(DisclosureError, match="cell 2"):
        scan_notebook(notebook(planted), "nb.ipynb", names=["Okafor"])
    scan_notebook(notebook(planted), "nb.ipynb", names=["Okafor"], allow=["Okafor"])


def test_load_list_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(
        "# numbers approved for publication\n\n0161 496 0000  # PSU switchboard, public\n"
        "  Okafor \n#Smith\n", encoding="utf-8")
    assert load_list(path) == ("0161 496 0000", "Okafor")


# Small-cell suppression. Worked by hand with the default threshold 5: a primary cell (1-4)
# shows "<5", a secondary cell (5 or more, hidden to protect a primary) shows "[c]".


def test_all_small_but_not_derivable_needs_no_secondary() -> None:
    # Table 1: N = 8 published. Five hidden cells, each 1-4, summing to 8: many solutions.
    table = pd.DataFrame({"n": [2, 2, 2, 1, 1]}, index=["FY1", "FY2", "CT3", "ST1", "ST4"])
    out, report = suppress_small_cells(table, ["n"])
    assert out["n"].tolist() == ["<5"] * 5
    assert report.secondary == [] and len(report.primary) == 5


def test_one_small_cell_beside_a_published_total_hides_the_next_smallest() -> None:
    # N = 15 is published: male = 15 - 12 - 0 would reveal 3, so 12 goes too. Zero stays.
    table = pd.DataFrame({"n": [12, 3, 0]}, index=["female", "male", "other"])
    out, report = suppress_small_cells(table, ["n"])
    assert out["n"].tolist() == ["[c]", "<5", 0]
    assert report.primary == [("male", "n")] and report.secondary == [("female", "n")]


def test_two_small_cells_whose_sum_pins_them_down() -> None:
    # Total 12 shown; 1 and 1 hidden sum to 2, and two cells of at least 1 summing to 2 are
    # both 1: hide 10 too. Then 1 + 1 + 10 = 12 with 10 -> anything >= 5: not derivable.
    table = pd.DataFrame({"n": [10, 1, 1, 12]}, index=["a", "b", "c", "Total"])
    out, report = suppress_small_cells(table, ["n"], total_row="Total")
    assert out["n"].tolist() == ["[c]", "<5", "<5", 12]
    # Likewise 4 + 4 = 8 is the largest two cells of at most 4 can sum to: hide 9.
    table = pd.DataFrame({"n": [4, 4, 9, 17]}, index=["a", "b", "c", "Total"])
    out, _ = suppress_small_cells(table, ["n"], total_row="Total")
    assert out["n"].tolist() == ["<5", "<5", "[c]", 17]


def test_cross_table_with_row_and_column_totals() -> None:
    # FY male = 2 is small. Row FY (total 8): 8 - 2 = 6 would show, so hide FY female (6).
    # Column male (total 19): hide the smallest other, CT male (8). Row CT (total 15) now has
    # one hidden cell: hide CT female (7). Now every group has two or more hidden cells whose
    # sums (8, 15, 13, 10) are off the ends of their ranges, so nothing is derivable.
    table = pd.DataFrame(
        {"female": [6, 7, 9, 22], "male": [2, 8, 9, 19], "Total": [8, 15, 18, 41]},
        index=["FY", "CT", "ST", "Total"],
    )
    out, report = suppress_small_cells(
        table, ["female", "male"], total_row="Total", total_column="Total"
    )
    assert out.loc["FY"].tolist() == ["[c]", "<5", 8]
    assert out.loc["CT"].tolist() == ["[c]", "[c]", 15]
    assert out.loc["ST"].tolist() == [9, 9, 18]
    assert out.loc["Total"].tolist() == [22, 19, 41]
    assert report.primary == [("FY", "male")]
    assert sorted(report.secondary) == [("CT", "female"), ("CT", "male"), ("FY", "female")]


def test_a_total_is_hidden_when_nothing_else_can_be() -> None:
    # 4 + 4 = 8 pins both cells, and the only other cell is a structural zero: hide the total.
    table = pd.DataFrame({"n": [4, 4, 0, 8]}, index=["a", "b", "c", "Total"])
    out, report = suppress_small_cells(table, ["n"], total_row="Total")
    assert out["n"].tolist() == ["<5", "<5", 0, "[c]"]
    assert report.secondary == [("Total", "n")]


def test_unprotectable_group_is_reported() -> None:
    # N = 3 published elsewhere and every participant in one category: nothing can hide it.
    table = pd.DataFrame({"n": [3, 0]}, index=["female", "male"])
    _, report = suppress_small_cells(table, ["n"])
    assert report.unprotected == ["'female'/n"]


def test_without_known_totals_only_small_cells_go() -> None:
    table = pd.DataFrame({"n": [12, 3]}, index=["female", "male"])
    out, _ = suppress_small_cells(table, ["n"], column_totals_known=False)
    assert out["n"].tolist() == [12, "<5"]


def test_threshold_and_label_columns() -> None:
    table = pd.DataFrame({"stage": ["FY1", "CT3", "ST4"], "n": [9, 12, 30]})
    out, report = suppress_small_cells(table, ["n"], threshold=10)
    assert out["stage"].tolist() == ["FY1", "CT3", "ST4"]
    assert out["n"].tolist() == ["<10", "[c]", 30]
    assert report.rule.startswith("Small-cell rule: counts below 10 suppressed")


def test_disabled_passes_counts_through() -> None:
    table = pd.DataFrame({"n": [12, 3, 0]})
    out, report = suppress_small_cells(table, ["n"], enabled=False)
    pd.testing.assert_frame_equal(out, table)
    assert report.primary == [] and report.rule == "Small-cell rule off: published counts"


def test_rule_description() -> None:
    assert rule_description(5, True).startswith("Small-cell rule: counts below 5 suppressed")
    assert rule_description(5, False) == "Small-cell rule off: published counts"


@pytest.mark.parametrize("bad", [[1, -1], [1.5, 2], ["a", 2], [None, 2]])
def test_counts_must_be_whole_non_negative_numbers(bad: list) -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        suppress_small_cells(pd.DataFrame({"n": bad}), ["n"])
