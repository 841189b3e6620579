"""Exploration for analysts (notebook 07): a theme's or a participant's segments and quotations,
and how surprising an all-female sample is as the base rate and sample size vary.

Everything here is a pure function returning a frame, a number or a figure, so the notebook's
static output is deterministic (the build runner and nbval compare it byte for byte). The
ipywidgets explorer is built here too, but the notebook only shows it when an analyst asks
for it (``interactive = True``): widget outputs carry random model ids.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import style
from .demographics import ALPHA, base_rate, female_tail_one_sided
from .outputs import InlineFigure, Note, Table
from .schema import participant_number
from .themes import STRUCTURE_LEVELS, ancestors, codes_under, prevalence_coder
from .validation import Study

REFERENCE_RATES = (0.5, 0.6, 0.7, 0.8, 0.9)
"""Base rates drawn for comparison beside the study's own (the PSU users' share of women)."""


# --- themes and participants -------------------------------------------------------------


def node_choices(codebook: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, code_id) for every theme and sub-theme, in the article's order."""
    nodes = codebook[codebook["level"].isin(STRUCTURE_LEVELS)]
    themes = nodes[nodes["level"] == "theme"].sort_values("order")
    choices = []
    for theme_id, name in zip(themes["code_id"], themes["name"], strict=True):
        choices.append((f"{theme_id}  {name}", theme_id))
        subs = nodes[nodes["parent_id"] == theme_id].sort_values("order")
        for sub_id, sub_name in zip(subs["code_id"], subs["name"], strict=True):
            choices.append((f"    {sub_id}  {sub_name}", sub_id))
    return choices


def starting_point(codebook: pd.DataFrame, participants: pd.DataFrame, theme: str | None,
                   participant: str | None) -> tuple[str, str]:
    """The theme and participant to open on: those asked for, checked against the data, or
    else the codebook's first theme and the first participant."""
    nodes = [code_id for _, code_id in node_choices(codebook)]
    people = participants["participant_id"].tolist()
    if theme is not None and theme not in nodes:
        raise KeyError(f"theme {theme!r} is not a theme or sub-theme code_id of codebook.csv; "
                       f"known: {', '.join(nodes)}")
    if participant is not None and participant not in people:
        raise KeyError(f"participant {participant!r} is not in participants.csv; known: "
                       f"{', '.join(people)}")
    if not nodes or not people:
        raise ValueError("nothing to explore: the codebook has no theme or there is no "
                         "participant")
    return theme or nodes[0], participant or people[0]


def _labelled(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str) -> pd.DataFrame:
    rows = segments[segments["coder"] == coder]
    up = ancestors(codebook)
    names = codebook.set_index("code_id")["name"]
    return rows.assign(
        theme_id=rows["code_id"].map(up["theme_id"]).to_numpy(),
        code_name=rows["code_id"].map(names).to_numpy(),
        theme_name=rows["code_id"].map(up["theme_id"]).map(names).to_numpy(),
        published=rows["provenance"].str.startswith("published").to_numpy(),
    )


def segments_for(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str,
                 node_id: str | None = None,
                 participant_id: str | None = None) -> pd.DataFrame:
    """The coded segments of ``coder`` under a theme, sub-theme or code and/or of one
    participant.

    Either filter may be None (all). Rows are in theme order, then participant, then position
    in the transcript; ``Source`` says whether the text is a published quotation.
    """
    rows = _labelled(segments, codebook, coder)
    if node_id is not None:
        if node_id not in set(codebook["code_id"]):
            raise KeyError(f"{node_id!r} is not a code_id of the codebook")
        rows = rows[rows["code_id"].isin(codes_under(codebook, node_id))]
    if participant_id is not None:
        rows = rows[rows["participant_id"] == participant_id]
    order = pd.Series(range(len(codebook)), index=codebook["code_id"])
    number = rows["participant_id"].map(participant_number)
    rows = rows.assign(_order=rows["code_id"].map(order).to_numpy(), _n=number.to_numpy(),
                       _start=pd.to_numeric(rows["start"], errors="coerce").to_numpy())
    rows = rows.sort_values(["_order", "_n", "_start", "segment_id"], kind="stable")
    source = np.where(rows["published"], "published quotation", "synthetic")
    return pd.DataFrame({
        "Segment": rows["segment_id"].to_numpy(),
        "Participant": rows["participant_id"].to_numpy(),
        "Theme": rows["theme_name"].to_numpy(),
        "Code": (rows["code_id"] + " " + rows["code_name"]).to_numpy(),
        "Text": rows["text"].to_numpy(),
        "Source": source,
    })


def quotations_for(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str,
                   node_id: str | None = None,
                   participant_id: str | None = None) -> pd.DataFrame:
    """Only the published quotations among ``segments_for``: the article's own words."""
    rows = segments_for(segments, codebook, coder, node_id, participant_id)
    return rows[rows["Source"] == "published quotation"].drop(columns="Source") \
        .reset_index(drop=True)


def _counts(rows: pd.DataFrame, by: str, index: pd.Series) -> pd.DataFrame:
    """Segments and published quotations per value of ``by``, zeros where there are none.

    Counted with value_counts (integers even when no row matches), never by filling an empty
    group frame, whose text-typed columns refuse a 0.
    """
    quoted = rows["Source"] == "published quotation"
    return pd.DataFrame({
        by: index.to_numpy(),
        "Segments": rows[by].value_counts().reindex(index, fill_value=0).astype(int).to_numpy(),
        "Quotations": rows.loc[quoted, by].value_counts().reindex(index, fill_value=0)
        .astype(int).to_numpy(),
    })


def per_participant(segments: pd.DataFrame, codebook: pd.DataFrame, participants: pd.DataFrame,
                    node_id: str, coder: str) -> pd.DataFrame:
    """For one theme: every participant, her segments and published quotations under it."""
    rows = segments_for(segments, codebook, coder, node_id)
    return _counts(rows, "Participant", participants["participant_id"])


def per_theme(segments: pd.DataFrame, codebook: pd.DataFrame, participant_id: str,
              coder: str) -> pd.DataFrame:
    """For one participant: every theme, her segments and published quotations under it."""
    rows = segments_for(segments, codebook, coder, None, participant_id)
    themes = codebook[codebook["level"] == "theme"].sort_values("order")
    return _counts(rows, "Theme", themes["name"])


# --- how surprising is an all-female sample ------------------------------------------------
# The base rate and the tail are demographics' (notebook 02's): one definition, one-sided here.


def smallest_surprising_n(rate: float, alpha: float = ALPHA) -> int | None:
    """The smallest sample that, all female, would have probability below ``alpha``
    (None when it never would: a base rate of 1)."""
    if rate >= 1:
        return None
    if rate <= 0:
        return 1
    return max(1, math.floor(math.log(alpha) / math.log(rate)) + 1)


def tail_table(rates: list[float] | tuple[float, ...], sizes: list[int] | range) -> pd.DataFrame:
    """P(all n female) for each base rate (columns, as %) and sample size (rows)."""
    data = {f"{100 * r:.1f}%": [female_tail_one_sided(n, r) for n in sizes] for r in rates}
    return pd.DataFrame(data, index=pd.Index(list(sizes), name="n")).reset_index()


def tail_summary(n: int, rate: float, k: int | None = None, alpha: float = ALPHA) -> dict:
    """The numbers an analyst reads off for one base rate and sample size; the tail is the
    one-sided one (``female_tail_one_sided``), not the paper's two-sided p."""
    k = n if k is None else k
    p = female_tail_one_sided(n, rate, k)
    return {
        "n": n,
        "k_female": k,
        "base_rate_pct": round(100 * rate, 1),
        "p_at_least_k_female": float(f"{p:.4g}"),
        "one_in": round(1 / p) if p > 0 else None,
        "surprising_at_alpha": p < alpha,
        "smallest_n_surprising_if_all_female": smallest_surprising_n(rate, alpha),
    }


def plot_tail(rate: float, n: int, max_n: int = 20,
              reference_rates: tuple[float, ...] = REFERENCE_RATES,
              alpha: float = ALPHA) -> Figure:
    """P(all n female) against n: the study's base rate in bold, reference rates faint, the
    observed sample marked and the alpha line drawn."""
    fig = style.figure(style.SINGLE_COLUMN_IN, 2.8)
    ax = fig.subplots()
    sizes = np.arange(1, max(max_n, n) + 1)
    tail = female_tail_one_sided
    for ref in reference_rates:
        ax.plot(sizes, [tail(int(s), ref) for s in sizes], color="0.7", lw=0.8)
        ax.text(sizes[-1] + 0.3, tail(int(sizes[-1]), ref), f"{100 * ref:.0f}%",
                fontsize=style.MIN_FONT_PT, color="0.45", va="center")
    ax.plot(sizes, [tail(int(s), rate) for s in sizes], color=style.PALETTE[0], lw=1.6,
            label=f"base rate {100 * rate:.1f}%")
    p = tail(n, rate)
    ax.plot([n], [p], "o", color=style.PALETTE[5], ms=5, label=f"n = {n}: P = {p:.3g}")
    ax.axhline(alpha, color=style.PALETTE[1], lw=0.8, ls="--")
    ax.text(1, alpha * 1.15, f"{alpha:g}", fontsize=style.MIN_FONT_PT, color=style.PALETTE[1],
            va="bottom")
    ax.set_yscale("log")
    ax.set_ylim(max(1e-6, min(tail(int(sizes[-1]), min((*reference_rates, rate))), p) / 2),
                1.3)
    ax.set_xlim(0.5, sizes[-1] + 0.5)
    ax.set_xlabel("Sample size n (all female)")
    ax.set_ylabel("P(all n female)")
    ax.legend(loc="lower left", frameon=False)
    return style.describe(fig, (
        f"Line chart of the probability that all n participants are female against n, at a "
        f"base rate of {100 * rate:.1f}%; at n = {n} it is {p:.3g}."))


def show_figure(fig: Figure) -> InlineFigure:
    """Display a figure in a notebook without writing a file."""
    return InlineFigure(fig)


# --- the interactive explorer --------------------------------------------------------------


NOT_INTERACTIVE = ("Interactive explorer off (interactive = False): set interactive = True in "
                   "the parameters cell and run the notebook in JupyterLab to pick a theme, a "
                   "participant, a base rate, a sample size, an attribute and a search term "
                   "with widgets. The static results above are what the build and the report "
                   "show.")


def explorer(study: Study, theme: str | None = None, participant: str | None = None,
             coder: str | None = None, attribute: str | None = None,
             search: str = ""):  # -> ipywidgets.Widget
    """Widgets for an analyst: a theme and a participant picker (opened on the notebook's
    ``theme`` and ``participant`` parameters), base-rate and sample-size sliders, and an
    attribute picker and search box (``explore_queries``), each redrawing from pure
    functions. ``coder`` defaults to the prevalence coder."""
    import ipywidgets as w
    from IPython.display import display

    from .explore_queries import query_tab  # its widgets load only when asked for

    segments, codebook = study.segments, study.codebook
    if coder is None:
        coder = prevalence_coder(segments, study.participants, study.coders)
    nodes = [("(all themes)", None), *node_choices(codebook)]
    node = w.Dropdown(options=nodes, description="Theme", layout=w.Layout(width="32em"),
                      value=theme if theme in {v for _, v in nodes} else None)
    people = list(study.participants["participant_id"])
    person = w.Dropdown(options=[("(all participants)", None)] + [(p, p) for p in people],
                        description="Participant",
                        value=participant if participant in people else None)
    only_quotes = w.Checkbox(value=False, description="published quotations only")
    segments_out = w.Output()

    def show_segments(_: object = None) -> None:
        with segments_out:
            segments_out.clear_output(wait=True)
            pick = quotations_for if only_quotes.value else segments_for
            rows = pick(segments, codebook, coder, node.value, person.value)
            display(Table(rows, f"{len(rows)} segment(s)"))

    for control in (node, person, only_quotes):
        control.observe(show_segments, names="value")
    show_segments()

    rate = w.FloatSlider(value=base_rate(study.psu_users), min=0.05, max=0.99,
                         step=0.005, readout_format=".3f", description="Base rate",
                         continuous_update=False)
    size = w.IntSlider(value=len(study.participants), min=1, max=40, description="Sample n",
                       continuous_update=False)
    tail_out = w.Output()

    def show_tail(_: object = None) -> None:
        with tail_out:
            tail_out.clear_output(wait=True)
            summary = tail_summary(size.value, rate.value)
            display(pd.Series(summary, name="value").to_frame())
            display(show_figure(plot_tail(rate.value, size.value, max(20, size.value))))

    for control in (rate, size):
        control.observe(show_tail, names="value")
    show_tail()

    tabs = w.Tab(children=[w.VBox([w.HBox([node, person, only_quotes]), segments_out]),
                           w.VBox([w.HBox([rate, size]), tail_out]),
                           query_tab(study, coder, attribute, search)])
    tabs.set_title(0, "Themes and participants")
    tabs.set_title(1, "All-female sample")
    tabs.set_title(2, "Attributes and text search")
    return tabs


def explorer_or_note(study: Study, interactive: bool, theme: str | None = None,
                     participant: str | None = None, attribute: str | None = None,
                     search: str = ""):  # -> ipywidgets.Widget | Note
    """The widgets when an analyst asked for them, else a deterministic note saying how."""
    return explorer(study, theme, participant, attribute=attribute, search=search) \
        if interactive else Note(NOT_INTERACTIVE)
