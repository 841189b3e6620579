"""The analysis on studies unlike the repository's, by small frames built by hand: who counts
for prevalence, what agreement can be computed, exploration of a theme nobody coded, and the
refusals that say what is wrong (a number computed from nothing is an error, never a zero)."""

from __future__ import annotations

import pandas as pd
import pytest

from psu_study import agreement, claims, demographics, explore, ledger_entries, themes
from psu_study.data_folder import DataDirError, check_data_dir
from psu_study.validation import DataError, load_study

from .conftest import DATA

CODEBOOK = pd.DataFrame(
    [("A", None, "theme", "Theme A", 1), ("A1", "A", "code", "Code A1", 1),
     ("A1x", "A1", "code", "Code under a code", 1), ("B", None, "theme", "Theme B", 2)],
    columns=["code_id", "parent_id", "level", "name", "order"],
)
PARTICIPANTS = pd.DataFrame({"participant_id": ["P21", "P22", "P23"]})


def coders(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["coder", "role"])


def segments(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["participant_id", "coder", "code_id"])
    return frame.assign(segment_id=[f"s{i}" for i in range(len(frame))], text="x",
                        start=None, end=None, provenance="study")


# XY codes all three transcripts; QR only P21.
CODED = segments([("P21", "XY", "A1x"), ("P22", "XY", "A"), ("P23", "XY", "B"),
                  ("P21", "QR", "A1")])


# --- who counts for prevalence ---------------------------------------------------------------

def test_the_coder_of_every_transcript_is_found():
    assert themes.prevalence_coder(CODED, PARTICIPANTS, coders(("QR", "x"), ("XY", "y"))) == "XY"


def test_two_complete_coders_need_a_declaration():
    """The coder whose coding counts for prevalence is found as data/README.md says, and can be
    declared."""
    both = pd.concat([CODED, segments([("P22", "QR", "A"), ("P23", "QR", "B")])])
    listed = coders(("XY", "coder"), ("QR", "coder"))
    with pytest.raises(themes.CodingError, match="XY and QR each coded every transcript: "
                                                 "declare whose coding counts"):
        themes.prevalence_coder(both, PARTICIPANTS, listed)
    declared = coders(("XY", "coder"), ("QR", "coder; counts for Prevalence"))
    assert themes.prevalence_coder(both, PARTICIPANTS, declared) == "QR"


def test_a_declared_coder_who_missed_transcripts_is_refused():
    with pytest.raises(themes.CodingError, match=r"declares QR .* did not code every "
                                                 r"transcript \(XY coded 3 of 3, QR coded 1"):
        themes.prevalence_coder(CODED, PARTICIPANTS, coders(("XY", "a"), ("QR", "prevalence")))


def test_nobody_coding_everything_is_refused():
    partial = CODED[CODED["participant_id"] != "P23"]
    with pytest.raises(themes.CodingError, match="no coder coded every one of the 3"):
        themes.prevalence_coder(partial, PARTICIPANTS, coders(("XY", "a"), ("QR", "b")))


def test_a_coder_with_no_segments_gives_no_counts():
    with pytest.raises(themes.CodingError, match="'ZZ' has no segments"):
        themes.prevalence(CODED, CODEBOOK, PARTICIPANTS, "ZZ")


def test_a_listed_coder_who_coded_nothing_has_a_count_of_none():
    """README, section Running on your own data: "a coder who coded nothing is reported as
    such"."""
    # XY coded P21-P23, QR P21, ZZ is listed and coded nothing: every listed coder gets a
    # count (0 is a count: 0 of 3 transcripts), and n_coders counts the two who coded.
    listed = coders(("XY", "a"), ("QR", "b"), ("ZZ", "c"))
    table = themes.prevalence(CODED, CODEBOOK, PARTICIPANTS, "XY")
    values = themes.summary(table, CODED, PARTICIPANTS, "XY", listed)
    assert values["n_coders"] == 2
    assert [values[f"n_transcripts_coded_{c}"] for c in ("XY", "QR", "ZZ")] == [3, 1, 0]
    assert values["pct_transcripts_coded_ZZ"] == 0.0
    result = agreement.compare(CODED, CODEBOOK, listed, None, n_boot=10)
    assert result.pairs == [("XY", "QR")]
    assert "ZZ (listed in coders.csv) coded no transcript: left out of every comparison." \
        in result.scope()


def test_a_prevalence_of_zero_for_every_theme_is_refused():
    # Segments whose codes sit in no theme's lineage: here, codes missing from the codebook.
    stray = segments([("P21", "XY", "nowhere")])
    with pytest.raises(themes.CodingError, match="count for no theme"):
        themes.prevalence(stray, CODEBOOK, PARTICIPANTS, "XY")


def test_nested_codes_and_themes_coded_directly_count_by_hand():
    # XY: P21 at A1x (counts for A1x, A1, A), P22 at A itself, P23 at B itself.
    table = themes.prevalence(CODED, CODEBOOK, PARTICIPANTS, "XY").set_index("code_id")
    assert table["n_participants"].to_dict() == {"A": 2, "A1": 1, "A1x": 1, "B": 1}
    assert table["n_segments"].to_dict() == {"A": 2, "A1": 1, "A1x": 1, "B": 1}
    presence = themes.matrix(CODED, CODEBOOK, PARTICIPANTS, "XY", level="code")
    assert presence.to_dict(orient="index") == {
        "P21": {"A1": 1, "A1x": 1}, "P22": {"A1": 0, "A1x": 0}, "P23": {"A1": 0, "A1x": 0}}


# --- what agreement the data allow -------------------------------------------------------------

def test_one_coder_has_nothing_to_compare():
    """README, section Running on your own data: "a study with one coder ... is computed as far as
    it goes with a note"."""
    alone = CODED[CODED["coder"] == "XY"]
    result = agreement.compare(alone, CODEBOOK, coders(("XY", "a"), ("QR", "b")), None, n_boot=10)
    assert result.pairs == [] and result.tables == {}
    assert "Nothing to compare: only XY coded" in result.scope()
    assert result.numbers() == {"n_coder_pairs_compared": 0}


def test_coders_who_share_no_transcript_have_nothing_to_compare():
    apart = segments([("P21", "XY", "A"), ("P22", "QR", "A")])
    result = agreement.compare(apart, CODEBOOK, coders(("XY", "a"), ("QR", "b")), None, n_boot=10)
    assert "no transcript was coded by two coders" in result.scope()
    assert result.tables == {}


def test_without_transcripts_only_participants_are_compared():
    """README, section Running on your own data: "or without `transcripts/`"."""
    result = agreement.compare(CODED, CODEBOOK, coders(("XY", "a"), ("QR", "b")), None,
                               n_boot=10)
    assert list(result.tables) == ["participant"]
    assert "Character-level agreement is skipped" in result.scope()
    # XY vs QR on P21: A both (A1x; A1), B neither -> 2 units agree of 2.
    pooled = result.numbers()
    assert pooled["agreement_participant_XY_QR_pct"] == 100.0
    assert pooled["agreement_participant_XY_QR_n_transcripts"] == 1
    assert pooled["agreement_main_pair"] == "XY vs QR"  # the only pair
    assert pooled["agreement_participant_pct"] == 100.0


def test_three_coders_are_compared_pairwise_and_all_at_once():
    """README, section Running on your own data: "every pair of coders who share transcripts is
    compared"."""
    # P21 coded by XY, QR and ST; A: XY 1, QR 1, ST 0; B: all 0.
    three = pd.concat([CODED, segments([("P21", "ST", "B"), ("P22", "ST", "A")])])
    listed = coders(("XY", "a"), ("QR", "b"), ("ST", "c"))
    result = agreement.compare(three, CODEBOOK, listed, None, n_boot=10)
    # XY-QR share P21; XY-ST share P21, P22; QR-ST share P21.
    assert result.pairs == [("XY", "QR"), ("XY", "ST"), ("QR", "ST")]
    assert result.main_pair() == "XY vs ST"  # shares two transcripts, the others one
    alpha = result.all_coders["participant"].set_index("theme_id")
    # Units P21 (3 coders), P22 (XY, ST). A: P21 (1, 1, 0), P22 (XY 1, ST 1).
    # B: P21 (0, 0, 1), P22 (0, 0). Alpha on the pooled values by hand: coincidences
    # (nominal, o_ck = sum over units of n_uc * n_uk / (m_u - 1), c != k):
    #   A P21: ones 2, zeros 1, m 3: o_01 = 2 * 1 / 2 = 1; P22: two ones, none.
    #   B P21: ones 1, zeros 2: o_01 = 1; P22: two zeros.
    #   Pooled: o_01 = o_10 = 2; 10 values in all, zeros A 1 + B 2 + 2 = 5, ones
    #   A 2 + 2 + B 1 = 5. D_o = (o_01 + o_10) / n = 4/10;
    #   D_e = 2 * n_0 * n_1 / (n (n - 1)) = 50 / 90. alpha = 1 - (4/10) / (50/90) = 0.28.
    assert alpha.loc["all", "alpha"] == pytest.approx(0.28)
    assert alpha.loc["all", "n_transcripts"] == 2


# --- exploring a theme nobody coded ------------------------------------------------------------

def test_explore_counts_zeros_where_a_theme_has_no_segments():
    # Theme B has no QR segment: every count is a zero (this raised pandas' "Invalid value
    # '0' for dtype 'str'" when an empty group frame was filled).
    table = explore.per_participant(CODED, CODEBOOK, PARTICIPANTS, "B", "QR")
    assert table.to_dict(orient="list") == {"Participant": ["P21", "P22", "P23"],
                                            "Segments": [0, 0, 0], "Quotations": [0, 0, 0]}
    by_theme = explore.per_theme(CODED, CODEBOOK, "P21", "XY")
    assert by_theme["Segments"].tolist() == [1, 0]  # A1x counts for theme A


def test_explore_opens_on_the_first_theme_and_participant_or_refuses_unknown_ones():
    assert explore.starting_point(CODEBOOK, PARTICIPANTS, None, None) == ("A", "P21")
    assert explore.starting_point(CODEBOOK, PARTICIPANTS, "B", "P23") == ("B", "P23")
    with pytest.raises(KeyError, match="theme 'T3' is not"):
        explore.starting_point(CODEBOOK, PARTICIPANTS, "T3", None)
    with pytest.raises(KeyError, match="participant 'P2' is not in participants.csv"):
        explore.starting_point(CODEBOOK, PARTICIPANTS, None, "P2")


# --- the data folder, refused up front ---------------------------------------------------------

def test_check_data_dir(tmp_path):
    assert check_data_dir(DATA) == DATA
    with pytest.raises(DataDirError, match="does not exist"):
        check_data_dir(tmp_path / "nowhere")
    with pytest.raises(DataDirError, match="holds none of the contract's files"):
        check_data_dir(tmp_path)
    (tmp_path / "participants.csv").write_text("participant_id\n", encoding="utf-8")
    assert check_data_dir(tmp_path) == tmp_path  # the loader names what else is missing


def test_codes_nest_under_codes_but_every_chain_must_reach_a_theme(tmp_path):
    header = "code_id,parent_id,level,name,definition,order,provenance\n"
    deep = header + ("A,,theme,Theme,,1,study\nA1,A,code,Code,,1,study\n"
                     "A1x,A1,code,Code under a code,,1,study\n")
    (tmp_path / "codebook.csv").write_text(deep, encoding="utf-8")
    assert load_study(tmp_path, tables=["codebook"]).codebook["code_id"].tolist() == [
        "A", "A1", "A1x"]
    # X and Y are each other's parent: no theme above them (rows 2 and 3 of the file).
    cycle = header + "A,,theme,Theme,,1,study\nX,Y,code,X,,1,study\nY,X,code,Y,,1,study\n"
    (tmp_path / "codebook.csv").write_text(cycle, encoding="utf-8")
    with pytest.raises(DataError, match="never reaches a theme") as refused:
        load_study(tmp_path, tables=["codebook"])
    assert refused.value.row == 2 and refused.value.column == "parent_id"


def test_alpha_across_three_coders_at_the_character_unit():
    # One transcript of 4 characters. Theme A: XY codes 0-2, QR 0-4, ST 2-4, so characters
    # 0 and 1 are (XY 1, QR 1, ST 0) and 2 and 3 (XY 0, QR 1, ST 1): each unit has one 0 and
    # two 1s, m = 3, o_01 = o_10 = 1 * 2 / 2 = 1 per unit, 4 in all each way.
    # A alone: n = 12 values, 4 zeros, 8 ones; D_o = 8/12, D_e = 2 * 4 * 8 / (12 * 11) =
    # 64/132; alpha = 1 - (8/12) / (64/132) = 1 - 1.375 = -0.375.
    # B nobody coded: only zeros, undefined. Pooled: 24 values, 16 zeros, 8 ones, D_o = 8/24,
    # D_e = 2 * 16 * 8 / (24 * 23) = 256/552; alpha = 1 - (1/3) / (256/552) = 1 - 0.71875.
    spans = pd.DataFrame([("P21", "XY", "A", 0, 2), ("P21", "QR", "A1", 0, 4),
                          ("P21", "ST", "A1x", 2, 4)],
                         columns=["participant_id", "coder", "code_id", "start", "end"])
    table = agreement.all_coders_alpha(spans, CODEBOOK, {"P21": "abcd"}, "character")
    alpha = table.set_index("theme_id")["alpha"]
    assert alpha["A"] == pytest.approx(-0.375)
    assert pd.isna(alpha["B"])
    assert alpha["all"] == pytest.approx(0.28125)
    assert table.set_index("theme_id").loc["all", "n_units"] == 8


def test_a_base_rate_without_its_row_is_an_error_not_a_zero():
    # psu_users.csv with no gender/female row: the share of women among users is unknown,
    # not 0 (a 0 would make every tail probability a confident number from nothing).
    users = pd.DataFrame({"characteristic": ["all"], "category": ["all"], "count": [10],
                          "provenance": ["study"]})
    with pytest.raises(DataError, match=r"psu_users\.csv.*'female'"):
        demographics.user_counts(users)


def test_only_a_data_directorys_own_ledger_may_be_empty(monkeypatch, tmp_path):
    article = tmp_path / "ledger.yaml"
    article.write_text("claims: []\n", encoding="utf-8")
    monkeypatch.setattr(claims, "LEDGER_FILE", article)
    with pytest.raises(ledger_entries.LedgerError, match="empty"):
        claims.read_ledger(article)
    own = tmp_path / "data" / claims.DATA_LEDGER_NAME
    own.parent.mkdir()
    own.write_text("claims: []\n", encoding="utf-8")
    assert claims.read_ledger(claims.ledger_path(own.parent)) == []
