"""The published values in data/ against the article's own text."""

from __future__ import annotations

from psu_study import themes


def test_every_published_quotation_is_verbatim_in_the_article(study, article):
    """docs/development.md, section What the suite holds: "every quotation is checked verbatim
    against the article's text"."""
    published = study.segments[study.segments["provenance"].str.startswith("published")]
    assert len(published) >= 20
    missing = [t for t in published["text"] if t not in article]
    assert not missing, f"not found verbatim in the article: {missing}"


def test_every_attributed_quotation_of_the_results_is_in_the_data(study, article):
    """Each "PPT n" / "participant n" quotation of the Results is a published segment of
    participant n (the quotations are listed here by hand from the article)."""
    by_participant = {
        "P1": ["initiated a whole lot of support"],
        "P2": ["culture of man up", "you are a human", "give up medicine",
               "do things in different ways"],
        "P3": ["instilled in us from the start"],
        "P4": ["a bit different to everyone else", "back at school", "under surveillance"],
        "P5": ["an agenda to it", "totally overwhelmed"],
        "P6": ["you kind of hear about it", "a lot of confidence", "bad about it [sick leave]"],
        "P7": ["someone who can\u2019t cope", "I wasn\u2019t the first trainee"],
        "P8": ["bottle things up", "incredibly therapeutic", "totally open and honest",
               "kept me in my job", "filled it [a form] in", "someone that I could go back to"],
    }
    published = study.segments[study.segments["provenance"].str.startswith("published")]
    for pid, fragments in by_participant.items():
        texts = published.loc[published["participant_id"] == pid, "text"].tolist()
        for fragment in fragments:
            assert fragment in article, f"the test's own fragment {fragment!r} is mistyped"
            assert any(fragment in t for t in texts), f"{pid} lacks quotation {fragment!r}"


def test_table2_tags_each_quotation_with_its_participant(study):
    table = themes.quotations(study.segments, study.codebook, "EW")  # "EW coded all data"
    row = table[table["Quotation"].str.contains("incredibly therapeutic")].iloc[0]
    assert row["Participant"] == "PPT 8"  # Results > Role of PSU: "(PPT 8)"
    assert row["Theme"] == "Role of PSU in the \u2018recovery\u2019 process"
    pivotal = table[table["Quotation"].str.contains("pivotal moment")].iloc[0]
    assert pivotal["Participant"].endswith("\u2020"), "an unnamed participant is marked"
    assert pivotal["Sub-theme"] == "Making sense of their story"
