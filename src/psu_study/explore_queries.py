"""The analyst's queries in notebook 07: themes by an attribute, where a word occurs (keyword
in context) and which coded passages lie near each other, static and as widgets.

Each view is a ``Table`` from the pure functions of ``matrix`` and ``text_search``, so the
notebook's static output is the same on every run; the widgets (``query_tab``) redraw the
same tables when an analyst changes the attribute or the search term.
"""

from __future__ import annotations

import pandas as pd

from . import matrix, provenance, text_search
from .outputs import Table
from .validation import Study

PASSAGE_WINDOW = 100
"""Characters between two coded passages that still count them as together (NVivo's NEAR);
0 counts overlapping or touching passages only."""


def starting_attribute(participants: pd.DataFrame, attribute: str | None) -> str | None:
    """The attribute asked for, checked against participants.csv, or else its first (None
    when a study records no attribute)."""
    known = matrix.attributes(participants)
    if attribute is not None and attribute not in known:
        raise KeyError(f"attribute {attribute!r} is not a column of participants.csv; known: "
                       f"{', '.join(known) or 'none'}")
    return attribute or (known[0] if known else None)


def attribute_table(study: Study, coder: str, attribute: str | None,
                    small_cell_rule: bool | None = None) -> Table:
    """Participants of each value of ``attribute`` coded for each theme and sub-theme, with
    small cells held back on a study's own records (as notebook 04 writes it)."""
    if attribute is None:
        return Table(pd.DataFrame(), "participants.csv records no attribute")
    present = matrix.presence(study.segments, study.codebook, study.participants, coder)
    table, note = matrix.withhold_by_attribute(
        matrix.by_attribute(present, study.participants, study.codebook, attribute),
        enabled=provenance.small_cell_rule(study.participants, small_cell_rule))
    return Table(table, f"{matrix.caption(attribute)}. {note}")


def keyword_table(study: Study, query: str, *, regex: bool = False,
                  coder: str | None = None) -> Table:
    """Every hit of ``query`` in context, with the codes covering it."""
    hits = text_search.search(study.segments, study.codebook, study.transcripts, query,
                              regex=regex, coder=coder)
    where = "the transcripts" if study.transcripts is not None else "the coded segments' text"
    return Table(hits, f"{len(hits)} hit(s) of {query!r} in {where} (case and accents "
                       "ignored)")


def passages_table(study: Study, coder: str, window: int = PASSAGE_WINDOW) -> Table:
    """Pairs of coded passages of two themes or sub-themes lying together, or why there is
    no such view (segments without offsets: no transcripts)."""
    table = matrix.passage_cooccurrence(study.segments, study.codebook, coder, window)
    if table is None:
        return Table(pd.DataFrame(), "No passage-level view: the segments have no offsets "
                                     "into transcripts (no transcripts/ folder)")
    return Table(table, f"Pairs of {coder}'s coded passages of two themes or sub-themes "
                        f"overlapping or at most {window} characters apart")


def query_tab(study: Study, coder: str, attribute: str | None, search: str):
    # -> ipywidgets.Widget
    """An attribute picker above its matrix table, and a search box (with a regular
    expression switch) above its keyword-in-context table."""
    import ipywidgets as w
    from IPython.display import display

    options = matrix.attributes(study.participants)
    pick = w.Dropdown(options=options, value=attribute, description="Attribute")
    term = w.Text(value=search, description="Search", continuous_update=False,
                  placeholder="a word, a phrase or a regular expression")
    as_regex = w.Checkbox(value=False, description="regular expression")
    matrix_out, search_out = w.Output(), w.Output()

    def show_matrix(_: object = None) -> None:
        with matrix_out:
            matrix_out.clear_output(wait=True)
            display(attribute_table(study, coder, pick.value))

    def show_search(_: object = None) -> None:
        with search_out:
            search_out.clear_output(wait=True)
            if not term.value.strip():
                print("Type a word, a phrase or a regular expression and press Enter.")
                return
            try:
                display(keyword_table(study, term.value, regex=as_regex.value))
            except ValueError as error:  # a half-typed regular expression
                print(error)

    pick.observe(show_matrix, names="value")
    for control in (term, as_regex):
        control.observe(show_search, names="value")
    show_matrix()
    show_search()
    return w.VBox([pick, matrix_out, w.HBox([term, as_regex]), search_out])
