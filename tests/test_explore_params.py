"""The exploration widgets open on the notebook's own theme and participant parameters."""

from __future__ import annotations

from psu_study import explore


def test_explorer_opens_on_the_given_theme_and_participant(study):
    """README, section Exploring and reading the report: "pick a theme or a participant and see the
    coded segments and the article's quotations"."""
    tabs = explore.explorer(study, theme="T3", participant="P2")
    node, person, _ = tabs.children[0].children[0].children
    assert (node.value, person.value) == ("T3", "P2")


def test_unknown_picks_fall_back_to_all(study):
    tabs = explore.explorer(study, theme="T99", participant="P99")
    node, person, _ = tabs.children[0].children[0].children
    assert (node.value, person.value) == (None, None)
