"""Matrix coding and co-occurrence: the first questions an analyst asks a QDA tool (NVivo's
matrix coding query, ATLAS.ti's code co-occurrence table), as tables a paper can carry.

Every count is of participants coded for a theme or sub-theme directly or through any code
below it, on the coding that counts for prevalence (``themes.prevalence_coder``), from the
participant-by-node presence ``themes.matrix`` gives. On the study's own records
(provenance ``study``) small counts are held back with the project's one small-cell rule,
``disclosure.suppress_small_cells``: a theme, a training stage and a sex can name a person.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import disclosure, provenance, schema, style
from .codebook_summary import tree_order
from .themes import STRUCTURE_LEVELS, add_key, figure_labels, lineage, matrix, numbers_key

NOT_ATTRIBUTES = ("participant_id", "provenance")
"""The columns of participants.csv that are not attributes of a participant."""
NOT_RECORDED = "(not recorded)"
"""The column for participants whose attribute is blank."""
LABELS = ("code_id", "name")
"""The first two columns of every table here: which theme or sub-theme a row is."""
FIGURE_ATTRIBUTES = ("training_stage",)
"""The attributes whose table is also drawn as a heatmap (the paper shows the themes by
training stage); every other attribute's table stands alone."""


def attributes(participants: pd.DataFrame) -> list[str]:
    """Every attribute column of participants.csv, in file order: a study without one has
    no table for it."""
    return [c for c in participants.columns if c not in NOT_ATTRIBUTES]


def attribute_values(participants: pd.DataFrame, attribute: str) -> list[str]:
    """The values participants hold, in the data contract's order where it lists them
    (training stages in training order), else alphabetically; blanks last."""
    held = participants[attribute].dropna().astype(str).unique().tolist()
    column = {c.name: c for c in schema.TABLES["participants"].columns}.get(attribute)
    known = list(column.allowed) if column is not None and column.allowed else []
    ordered = [v for v in known if v in held] + sorted(v for v in held if v not in known)
    return ordered + ([NOT_RECORDED] if participants[attribute].isna().any() else [])


def nodes(codebook: pd.DataFrame) -> pd.DataFrame:
    """The themes and sub-themes (code_id, name), in tree order: the rows of every table."""
    ordered = tree_order(codebook)
    return ordered.loc[ordered["level"].isin(STRUCTURE_LEVELS), list(LABELS)] \
        .reset_index(drop=True)


def presence(segments: pd.DataFrame, codebook: pd.DataFrame, participants: pd.DataFrame,
             coder: str) -> pd.DataFrame:
    """Participant-by-node 0/1 for every theme and sub-theme, in tree order."""
    parts = [matrix(segments, codebook, participants, coder, level) for level in STRUCTURE_LEVELS]
    return provenance.with_sources(pd.concat(parts, axis=1)[nodes(codebook)["code_id"].tolist()],
                                   *parts)


def by_attribute(present: pd.DataFrame, participants: pd.DataFrame, codebook: pd.DataFrame,
                 attribute: str) -> pd.DataFrame:
    """One row per theme and sub-theme; per value of ``attribute``, the participants of that
    value coded for it."""
    values = participants.set_index("participant_id")[attribute].astype(object) \
        .reindex(present.index)
    values = values.where(values.notna(), NOT_RECORDED).astype(str)
    counts = present.groupby(values).sum().T
    columns = attribute_values(participants, attribute)
    table = nodes(codebook)
    return pd.concat([table, counts.reindex(index=table["code_id"], columns=columns)
                      .fillna(0).astype(int).reset_index(drop=True)], axis=1)


def cooccurrence(present: pd.DataFrame, codebook: pd.DataFrame) -> pd.DataFrame:
    """One row and one column per theme and sub-theme: the participants coded for both (the
    diagonal is the node's prevalence)."""
    both = present.T.to_numpy() @ present.to_numpy()
    table = nodes(codebook)
    return provenance.with_sources(
        pd.concat([table, pd.DataFrame(both, columns=present.columns)], axis=1), present)


def withhold_by_attribute(table: pd.DataFrame, threshold: int = disclosure.SMALL_CELL_THRESHOLD,
                          enabled: bool = True) -> tuple[pd.DataFrame, str]:
    """The matrix with counts 1 to threshold-1 hidden, and the footnote saying so.

    Each participant holds one value of the attribute, so a row's cells add up to the node's
    participants, which notebook 04 publishes: each row is a group with a known total, and
    ``suppress_small_cells`` hides a second cell where one hidden cell could be worked out.
    Its groups are columns, so the table goes in turned on its side.
    """
    values = [c for c in table.columns if c not in LABELS]
    side = table.set_index("code_id")[values].T
    hidden, report = disclosure.suppress_small_cells(side, list(side.columns), threshold,
                                                     column_totals_known=True,
                                                     enabled=enabled)
    out = pd.concat([table[list(LABELS)], hidden.T.reset_index(drop=True)], axis=1)
    extra = (" Each row's cells add up to the participants coded for it (notebook 04), so "
             "that total counts as known.") if enabled else ""
    if report.unprotected:  # nothing non-zero was left to hide beside them: say so
        extra += (f" In {len(report.unprotected)} row(s) every other cell is 0, so the "
                  "withheld count can still be worked out from the row's total.")
    return out, report.rule + "." + extra


def withhold_cooccurrence(table: pd.DataFrame, threshold: int = disclosure.SMALL_CELL_THRESHOLD,
                          enabled: bool = True) -> tuple[pd.DataFrame, str]:
    """The co-occurrence table with counts 1 to threshold-1 hidden. No count here is a sum
    of others (one participant is counted in many cells), so none needs hiding beside them."""
    codes = [c for c in table.columns if c not in LABELS]
    hidden, report = disclosure.suppress_small_cells(table, codes, threshold,
                                                     column_totals_known=False,
                                                     enabled=enabled)
    extra = " No cell is a sum of others." if enabled else ""
    return provenance.with_sources(hidden, table), report.rule + "." + extra


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_")


def numbers(by_attr: dict[str, pd.DataFrame], cooc: pd.DataFrame,
            codebook: pd.DataFrame) -> dict[str, int]:
    """Every count shown (a withheld cell has none) under stable keys: the node's own key
    (``themes.numbers_key``) then ``_<attribute>_<value>``, or ``n_participants_both_<code>_
    <code>`` for each pair once, in tree order; with the number of attribute tables."""
    level = codebook.set_index("code_id")["level"]
    values: dict[str, int] = {}
    for attribute, table in by_attr.items():
        for _, row in table.iterrows():
            for column in table.columns[2:]:
                if isinstance(row[column], (int, np.integer)):
                    key = f"{numbers_key(level[row['code_id']], row['code_id'])}_{attribute}_"
                    values[key + _key(column)] = int(row[column])
    codes = list(cooc["code_id"])
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            cell = cooc.loc[i, b]
            if isinstance(cell, (int, np.integer)):
                values[f"n_participants_both_{_key(a)}_{_key(b)}"] = int(cell)
    values["n_attribute_tables"] = len(by_attr)
    return provenance.with_sources(values, *by_attr.values(), cooc, (codebook, "level"))


def plot_by_attribute(table: pd.DataFrame, attribute: str) -> Figure:
    """A heatmap of a matrix table: shade by count, each cell labelled with its count (so no
    colour bar), a withheld cell hatched grey and labelled as the table shows it."""
    # seaborn brings pyplot and scipy.stats, ~0.8 s of CPU: imported when a heatmap is
    # drawn, never by importing the package (the fork server does not preload it).
    import seaborn as sns

    values = [c for c in table.columns if c not in LABELS]
    shown = table[values].apply(pd.to_numeric, errors="coerce")
    labels, key = figure_labels(list(table["name"]))  # names too long for a row: a key
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 1.0 + 0.13 * lines
    fig = style.figure(style.DOUBLE_COLUMN_IN, height)
    add_key(fig, key)
    ax = fig.subplots()
    top = max(1.0, float(np.nanmax(shown.to_numpy())) if shown.notna().any().any() else 1.0)
    sns.heatmap(shown, vmin=0, vmax=top, cmap="Blues", cbar=False, linewidths=0.8,
                linecolor="white", xticklabels=values, yticklabels=labels, ax=ax)
    for (i, j), cell in np.ndenumerate(table[values].to_numpy()):
        dark = pd.notna(shown.iat[i, j]) and shown.iat[i, j] > 0.6 * top
        if pd.isna(shown.iat[i, j]):  # withheld: hatched grey, never the colour of a count
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor="0.88", edgecolor="white",
                                   hatch="///", linewidth=0.8))
        ax.text(j + 0.5, i + 0.5, str(cell), ha="center", va="center",
                fontsize=style.MIN_FONT_PT, color="white" if dark else "black")
    ax.set_xlabel(attribute.replace("_", " ").capitalize())
    ax.tick_params(length=0, labelrotation=0)  # not seaborn's turn by its overlap test
    withheld = int(shown.isna().to_numpy().sum())
    largest = shown.max().max()
    said = [f"the largest count shown is {int(largest)}"] if pd.notna(largest) else []
    said += [f"{withheld} count(s) withheld under the small-cell rule"] if withheld else []
    return provenance.with_sources(style.describe(fig, (
        f"Heatmap of {len(table)} themes and sub-themes by {len(values)} value(s) of "
        f"{attribute.replace('_', ' ')}, each cell the participants of that value coded for "
        f"the theme; {' and '.join(said) or 'no count is shown'}.")), table)


def passage_cooccurrence(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str,
                         window: int = 0) -> pd.DataFrame | None:
    """Pairs of coded passages of two themes or sub-themes in one transcript that overlap or
    lie at most ``window`` characters apart (NVivo's NEAR, ATLAS.ti's co-occurrence): one row
    and column per node. A node is not paired with itself nor with a node above or below it
    (every passage of a sub-theme is one of its theme): those cells are 0. None when the
    segments carry no offsets (no transcripts)."""
    rows = segments[segments["coder"] == coder]
    if rows["start"].isna().all():
        return None
    if window < 0:
        raise ValueError(f"window must be 0 or more characters; got {window}")
    line = lineage(codebook)
    spans = rows[["segment_id", "participant_id", "code_id", "start", "end"]].merge(
        line, on="code_id")
    table = nodes(codebook)
    spans = spans[spans["node"].isin(table["code_id"])]
    pairs = spans.merge(spans, on="participant_id", suffixes=("_a", "_b"))
    related = pd.MultiIndex.from_arrays([pd.concat([line["code_id"], line["node"]]),
                                         pd.concat([line["node"], line["code_id"]])])
    near = ((pairs["start_a"] <= pairs["end_b"] + window)
            & (pairs["start_b"] <= pairs["end_a"] + window)
            & (pairs["segment_id_a"] != pairs["segment_id_b"])
            & ~pd.MultiIndex.from_frame(pairs[["node_a", "node_b"]]).isin(related))
    found = pairs.loc[near]
    # One pair of passages counts once per pair of nodes, whichever codes brought it there
    # and in whichever order the two passages were met.
    low = np.minimum(found["segment_id_a"], found["segment_id_b"])
    high = np.maximum(found["segment_id_a"], found["segment_id_b"])
    found = found.assign(low=low, high=high).drop_duplicates(["low", "high", "node_a",
                                                              "node_b"])
    counts = pd.crosstab(found["node_a"], found["node_b"]).reindex(
        index=table["code_id"], columns=table["code_id"], fill_value=0)
    return pd.concat([table, counts.reset_index(drop=True).rename_axis(columns=None)], axis=1)


def caption(attribute: str) -> str:
    """A matrix table's caption, from the attribute's column name."""
    return (f"Participants coded for each theme and sub-theme, by "
            f"{attribute.replace('_', ' ')}")


def attribute_tables(present: pd.DataFrame, participants: pd.DataFrame,
                     codebook: pd.DataFrame, threshold: int = disclosure.SMALL_CELL_THRESHOLD,
                     enabled: bool = False) -> dict[str, tuple[pd.DataFrame, str]]:
    """Every attribute's matrix table as it may be shown, with its footnote."""
    tables = {}
    for attribute in attributes(participants):
        table, note = withhold_by_attribute(
            by_attribute(present, participants, codebook, attribute), threshold, enabled)
        tables[attribute] = (provenance.with_sources(table, present, (participants, attribute)),
                             note)
    return tables
