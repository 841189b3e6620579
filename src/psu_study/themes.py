"""Themes: which participants each theme, sub-theme and code was coded for, and the
quotations the article uses to illustrate them (Table 2)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from . import schema, style
from .provenance import with_sources

PREVALENCE_DECLARATION = "prevalence"
"""The word that, in a coder's ``role`` in coders.csv, declares that coder's coding the one
prevalence counts (needed only when several coders each coded every transcript)."""


class CodingError(ValueError):
    """The coding cannot give a prevalence: the message says why and what to declare."""


def transcripts_per_coder(segments: pd.DataFrame, coders: pd.DataFrame) -> pd.Series:
    """How many participants' transcripts each coder of coders.csv coded (0 for none)."""
    counts = segments.groupby("coder")["participant_id"].nunique()
    return counts.reindex(coders["coder"], fill_value=0).astype(int)


def prevalence_coder(segments: pd.DataFrame, participants: pd.DataFrame,
                     coders: pd.DataFrame) -> str:
    """The coder whose coding counts for prevalence: the one who coded every transcript.

    Prevalence is a share of all participants, so it must come from one coder's coding of
    all of them; another coder's partial coding is for agreement. A coder whose ``role``
    contains the word "prevalence" is chosen; otherwise the one coder with a segment in every
    participant's transcript. Refused, saying what to declare, when that is nobody or more
    than one coder.
    """
    n = len(participants)
    if n == 0:
        raise CodingError("participants.csv lists no participant: there is no prevalence")
    counts = transcripts_per_coder(segments, coders)
    complete = [c for c, k in counts.items() if k == n]
    word = re.compile(rf"\b{PREVALENCE_DECLARATION}\b", re.IGNORECASE)
    declared = [c for c, role in zip(coders["coder"], coders["role"].fillna(""), strict=True)
                if word.search(str(role))]
    coded = ", ".join(f"{c} coded {k} of {n}" for c, k in counts.items())
    if len(declared) > 1:
        raise CodingError(f"coders.csv declares {', '.join(declared)} for prevalence (the word "
                          f"{PREVALENCE_DECLARATION!r} in role); declare exactly one")
    if declared:
        if declared[0] not in complete:
            raise CodingError(f"coders.csv declares {declared[0]} for prevalence, but "
                              f"{declared[0]} did not code every transcript ({coded})")
        return declared[0]
    if len(complete) == 1:
        return complete[0]
    if not complete:
        raise CodingError(f"no coder coded every one of the {n} transcripts ({coded}): "
                          "prevalence needs one coder whose coding covers all participants")
    raise CodingError(f"{' and '.join(complete)} each coded every transcript: declare whose "
                      f"coding counts for prevalence by writing {PREVALENCE_DECLARATION!r} in "
                      "that coder's role in coders.csv")


def ancestors(codebook: pd.DataFrame) -> pd.DataFrame:
    """For every code_id, its theme and (where it sits under one) its sub-theme."""
    parent = codebook.set_index("code_id")["parent_id"]
    level = codebook.set_index("code_id")["level"]
    theme = pd.Series(codebook["code_id"].to_numpy(), index=codebook["code_id"])
    subtheme = pd.Series(np.where(level == "subtheme", theme, None), index=theme.index)
    for _ in range(len(codebook)):
        up = theme.map(parent)
        if up.isna().all():
            break
        theme = up.where(up.notna(), theme)
        subtheme = subtheme.where(subtheme.notna(), theme.where(theme.map(level) == "subtheme"))
    return pd.DataFrame({"theme_id": theme, "subtheme_id": subtheme})


def lineage(codebook: pd.DataFrame) -> pd.DataFrame:
    """Every (code_id, node) pair where the node is the code itself or any node above it,
    however deep the codebook: a segment counts for each of them."""
    parent = codebook.set_index("code_id")["parent_id"]
    node = pd.Series(codebook["code_id"].to_numpy(), index=codebook["code_id"].to_numpy())
    steps = []
    for _ in range(len(codebook)):
        steps.append(node.dropna())
        node = node.map(parent)
        if node.isna().all():
            break
    return pd.concat(steps).rename_axis("code_id").reset_index(name="node")


def codes_under(codebook: pd.DataFrame, node_id: str) -> pd.Series:
    """The code_ids whose segments count for ``node_id`` (itself included)."""
    pairs = lineage(codebook)
    return pairs.loc[pairs["node"] == node_id, "code_id"]


def _counted(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str) -> pd.DataFrame:
    """One row per (segment of ``coder``, node it counts for)."""
    rows = segments[segments["coder"] == coder]
    if rows.empty:
        raise CodingError(f"coder {coder!r} has no segments in segments.csv: counts from "
                          "nobody's coding would be zeros, not prevalence")
    numbered = rows[["participant_id", "code_id"]].assign(segment=np.arange(len(rows)))
    return numbered.merge(lineage(codebook), on="code_id")


def prevalence(segments: pd.DataFrame, codebook: pd.DataFrame, participants: pd.DataFrame,
               coder: str) -> pd.DataFrame:
    """Participants (n, %) and segments (n) per theme, sub-theme and code, in codebook order,
    counted on ``coder``'s coding (see ``prevalence_coder``).

    A participant counts once for a node however many of her segments it holds. A segment
    counts once for its code and once for every node above it, however deep the codebook (a
    segment coded at a theme itself counts for the theme alone).
    """
    stacked = _counted(segments, codebook, coder)
    seg_counts = stacked["node"].value_counts()
    n_part = stacked[["participant_id", "node"]].drop_duplicates()["node"].value_counts()
    n = len(participants)
    table = codebook[["code_id", "parent_id", "level", "name"]].copy()
    table["n_participants"] = table["code_id"].map(n_part).fillna(0).astype(int)
    table["pct_participants"] = 100 * table["n_participants"] / n if n else np.nan
    table["n_segments"] = table["code_id"].map(seg_counts).fillna(0).astype(int)
    if not table.loc[table["level"] == "theme", "n_participants"].any():
        raise CodingError(f"{coder}'s segments count for no theme of the codebook: a prevalence "
                          "of 0 for every theme is not a result")
    return with_sources(table.reset_index(drop=True), (segments, *schema.CODING_COLUMNS))


def matrix(segments: pd.DataFrame, codebook: pd.DataFrame, participants: pd.DataFrame,
           coder: str, level: str = "theme") -> pd.DataFrame:
    """Participant-by-node presence (0/1) at ``level`` ('theme', 'subtheme' or 'code')."""
    if level not in ("theme", "subtheme", "code"):
        raise ValueError(f"level must be theme, subtheme or code; got {level!r}")
    stacked = _counted(segments, codebook, coder)
    nodes = codebook.loc[codebook["level"] == level, "code_id"].tolist()
    present = stacked.loc[stacked["node"].isin(nodes), ["participant_id", "node"]]
    table = pd.crosstab(present["participant_id"], present["node"])
    return with_sources(
        table.reindex(index=participants["participant_id"], columns=nodes, fill_value=0)
        .clip(upper=1).astype(int).rename_axis(index="participant_id", columns="node"),
        (segments, *schema.CODING_COLUMNS))


def themes_table(table: pd.DataFrame) -> pd.DataFrame:
    """Prevalence of the themes and sub-themes, as printed in the paper."""
    rows = table[table["level"].isin(STRUCTURE_LEVELS)]
    return with_sources(pd.DataFrame({
        "Theme": [("    " if lvl == "subtheme" else "") + name
                  for lvl, name in zip(rows["level"], rows["name"], strict=True)],
        "Participants": rows["n_participants"].to_numpy(),
        "Participants (%)": rows["pct_participants"].round(0).astype(int).to_numpy(),
        "Coded segments": rows["n_segments"].to_numpy(),
    }), table)


UNNAMED_MARK = "\u2020"
"""Marks a quotation whose participant the article does not name."""


def quotations(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str) -> pd.DataFrame:
    """Table 2: the published quotations per theme and sub-theme, tagged with the participant.

    A quotation whose participant the article does not name carries a dagger.
    """
    published = segments[segments["provenance"].str.startswith("published")
                         & (segments["coder"] == coder)]
    up = ancestors(codebook)
    names = codebook.set_index("code_id")["name"]
    order = pd.Series(range(len(codebook)), index=codebook["code_id"])
    theme = published["code_id"].map(up["theme_id"])
    sub = published["code_id"].map(up["subtheme_id"])
    unnamed = published["provenance"].str.contains("participant_id", regex=False)
    table = pd.DataFrame({
        "Theme": theme.map(names).to_numpy(),
        "Sub-theme": sub.map(names).fillna("").to_numpy(),
        "Quotation": ("\u201c" + published["text"] + "\u201d").to_numpy(),
        "Participant": ("PPT " + published["participant_id"].str[1:]
                        + np.where(unnamed, UNNAMED_MARK, "")).to_numpy(),
        "_order": published["code_id"].map(order).to_numpy(),
        "_start": published["start"].to_numpy(),
    })
    return table.sort_values(["_order", "_start"], kind="stable").drop(
        columns=["_order", "_start"]).reset_index(drop=True)


def quotation_note(table: pd.DataFrame) -> str:
    """Table 2's footnote: what the dagger means, only when some quotation carries one."""
    if not table["Participant"].str.endswith(UNNAMED_MARK).any():
        return ""
    return (f"{UNNAMED_MARK} The article names no participant for this quotation; the "
            "attribution is synthetic.")


WRAP_CHARS = 34
"""Theme names wrap at this many characters in figures: long names wrap, never truncate."""
KEY_LINES = 3
"""A figure labels its themes by name while every name wraps to at most this many lines;
beyond, names become numbers, spelt out in a key under the figure (as a journal sets a
figure whose labels are sentences)."""
KEY_CHARS = 110
"""A key's line at full page width: 175 mm holds about 118 characters of 7 pt text."""
KEY_LINE_IN = 1.3 * style.MIN_FONT_PT / 72
"""The height a key's line takes, with the legend's line spacing."""


def figure_labels(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """How a figure labels ``names`` (themes, in its order), and the key it needs: each name
    wrapped at ``WRAP_CHARS`` while all fit in ``KEY_LINES`` lines, with no key; otherwise
    every name longer than a line is numbered by its place (1, 2, ...) and the key gives
    "number  name", wrapped to the page's width."""
    wrapped = [textwrap.fill(name, WRAP_CHARS) for name in names]
    if all(label.count("\n") < KEY_LINES for label in wrapped):
        return wrapped, []
    numbered = [str(i) if "\n" in label else label
                for i, label in enumerate(wrapped, start=1)]
    key = [textwrap.fill(f"{number}  {name}", KEY_CHARS, subsequent_indent="     ")
           for number, name, label in zip(numbered, names, wrapped, strict=True)
           if "\n" in label]
    return numbered, key


def add_key(fig: Figure, key: Sequence[str]) -> None:
    """Set ``key`` (from ``figure_labels``) under the figure's axes, laid out with them, and
    make the figure taller by the height it needs."""
    if not key:
        return
    from matplotlib.lines import Line2D

    blank = [Line2D([], [], linestyle="none")] * len(key)
    fig.legend(blank, key, loc="outside lower left", frameon=False, handlelength=0,
               handletextpad=0, alignment="left", title="Key", title_fontsize=style.MIN_FONT_PT)
    need = 0.15 + KEY_LINE_IN * (1 + sum(entry.count("\n") + 1 for entry in key))
    fig.set_size_inches(fig.get_figwidth(), fig.get_figheight() + need)


PANEL_GAP_PT = 3.0
"""The least space between two participants' labels on a heatmap's axis."""


def _heatmap(presence: pd.DataFrame, labels: list[str], key: list[str], panels: int = 1,
             upright_in: float | None = None) -> Figure:
    """The heatmap drawn with its participants in ``panels`` rows of panels, stacked; given
    ``upright_in`` (their length in inches), the participants' labels stand upright, so each
    takes a line's width, not a label's."""
    # seaborn brings pyplot and scipy.stats, ~0.8 s of CPU: imported when a heatmap is
    # drawn, never by importing the package (the fork server does not preload it).
    import seaborn as sns
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    lines = sum(label.count("\n") + 1 for label in labels)
    height = (1.1 + 0.13 * lines if upright_in is None
              else 0.6 + panels * (0.4 + upright_in + 0.13 * lines))
    fig = style.figure(style.DOUBLE_COLUMN_IN, height)
    add_key(fig, key)
    colours = ("#EEEEEE", style.PALETTE[0])  # light grey, dark blue: apart in greyscale too
    chunks = np.array_split(np.arange(presence.shape[0]), panels)
    width = max(len(c) for c in chunks)  # every panel at one scale, the last one's too
    for ax, chunk in zip(np.atleast_1d(fig.subplots(panels, 1)), chunks, strict=True):
        sns.heatmap(presence.iloc[chunk].T, cmap=ListedColormap(colours), vmin=0, vmax=1,
                    cbar=False, linewidths=0.8, linecolor="white", xticklabels=True,
                    yticklabels=labels, ax=ax)
        # seaborn turns tick labels by its own overlap test; plot_heatmap decides here.
        ax.tick_params(axis="y", length=0, labelrotation=0)
        ax.tick_params(axis="x", length=0, labelrotation=0 if upright_in is None else 90)
        ax.set(xlim=(0, width if panels > 1 else len(chunk)), xlabel="", ylabel="")
    ax.set_xlabel("Participant")
    fig.legend([Patch(facecolor=c, edgecolor="0.6", lw=0.5) for c in colours],
              ["not coded", "coded"], loc="outside right upper", frameon=False)
    return fig


def _label_room(fig: Figure) -> tuple[float, float, float]:
    """The one-panel figure as laid out: its axes' width, and its widest and tallest
    participant's label, in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    ax = fig.axes[0]
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()]
    return (ax.get_window_extent(renderer).width, max(b.width for b in boxes),
            max(b.height for b in boxes))


def plot_heatmap(presence: pd.DataFrame, codebook: pd.DataFrame) -> Figure:
    """Which participant was coded for which theme: a 0/1 presence matrix, so two colours
    of distinct lightness and a two-entry legend (not a colour bar). Names too long to label
    a row are numbered, with a key; participants too many for one row of labels side by side
    are labelled upright and, if still too many, set in several panels, one under the other,
    as a journal would split the figure."""
    names = codebook.set_index("code_id")["name"]
    labels, key = figure_labels([names[c] for c in presence.columns])
    n = presence.shape[0]
    fig = _heatmap(presence, labels, key)
    room, widest, tallest = _label_room(fig)
    gap = PANEL_GAP_PT * fig.dpi / 72
    if n * (widest + gap) > room:  # upright labels, each a line's width apart
        fig = _heatmap(presence, labels, key, -(-n // max(1, int(room // (tallest + gap)))),
                       widest / fig.dpi)
    per_theme = presence.sum(axis=0)
    return with_sources(style.describe(fig, (
        f"Grid of {presence.shape[1]} themes by {presence.shape[0]} participants showing "
        f"which participant was coded for which theme; each theme was coded for between "
        f"{int(per_theme.min())} and {int(per_theme.max())} participants.")), presence)


MAP_COLUMNS = 7
"""At most this many themes side by side in the thematic map (the article's seven, at
about 14 characters a line); more are set in further rows, as a journal would split it."""


def plot_thematic_map(codebook: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """The thematic map: themes in the article's order, sub-themes beneath their theme,
    each box giving how many participants it was coded for. More than ``MAP_COLUMNS``
    themes go in rows of equal length, one under the other."""
    style.use()
    counts = table.set_index("code_id")["n_participants"]
    themes = codebook[codebook["level"] == "theme"].sort_values("order")
    subs_of = {t: codebook[(codebook["parent_id"] == t) & (codebook["level"] == "subtheme")]
               for t in themes["code_id"]}
    n_rows = -(-len(themes) // MAP_COLUMNS)
    per_row = -(-len(themes) // n_rows)
    # At full width each of the themes' columns holds about this many characters of 7 pt.
    chars = max(8, int(style.DOUBLE_COLUMN_IN * 72 / per_row / (0.7 * style.MIN_FONT_PT)))
    theme_text = [textwrap.fill(n, chars) + f"\n(n = {counts[c]})"
                  for c, n in zip(themes["code_id"], themes["name"], strict=True)]
    sub_text = {t: [textwrap.fill(n, chars) + f"\n(n = {counts[c]})"
                    for c, n in zip(s["code_id"], s["name"], strict=True)]
                for t, s in subs_of.items()}
    line_in = 1.25 * style.MIN_FONT_PT / 72
    theme_h = max(t.count("\n") + 1 for t in theme_text) * line_in + 0.12
    sub_h = max([t.count("\n") + 1 for ts in sub_text.values() for t in ts] or [0]) * line_in \
        + 0.12
    depth = max([len(ts) for ts in sub_text.values()] or [0])
    gap = 0.12
    row_h = theme_h + depth * (sub_h + gap) + 2 * gap
    height = 0.1 + theme_h + depth * (sub_h + gap) + (n_rows - 1) * row_h
    fig = Figure(figsize=(style.DOUBLE_COLUMN_IN, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, per_row)
    ax.set_ylim(0, height)
    for k, code_id in enumerate(themes["code_id"]):
        row, i = divmod(k, per_row)
        top = height - 0.05 - row * row_h
        x = i + 0.5
        ax.add_patch(FancyBboxPatch((i + 0.05, top - theme_h), 0.9, theme_h,
                                    boxstyle="round,pad=0,rounding_size=0.04",
                                    facecolor="#DCEBF5", edgecolor=style.PALETTE[0]))
        ax.text(x, top - theme_h / 2, theme_text[k], ha="center", va="center",
                fontsize=style.MIN_FONT_PT)
        if i:
            ax.annotate("", xy=(i + 0.05, top - theme_h / 2), xytext=(i - 0.05, top - theme_h / 2),
                        arrowprops={"arrowstyle": "->", "color": "0.4"})
        above = top - theme_h
        for j, text in enumerate(sub_text[code_id]):
            y1 = top - theme_h - gap - j * (sub_h + gap)
            ax.add_patch(FancyBboxPatch((i + 0.09, y1 - sub_h), 0.82, sub_h,
                                        boxstyle="round,pad=0,rounding_size=0.04",
                                        facecolor="#F3E5C8", edgecolor=style.PALETTE[1]))
            ax.text(x, y1 - sub_h / 2, text, ha="center", va="center",
                    fontsize=style.MIN_FONT_PT)
            ax.plot([x, x], [above, y1], color="0.5", lw=0.6)
            above = y1 - sub_h
    n_subs = sum(len(ts) for ts in sub_text.values())
    return with_sources(style.describe(fig, (
        f"Thematic map of {len(themes)} themes in the article's order with {n_subs} sub-themes "
        f"beneath their themes, each box giving the participants it was coded for (from "
        f"{int(counts[themes['code_id']].min())} to {int(counts[themes['code_id']].max())} "
        f"per theme).")), table)


def numbers_key(level: str, code_id: str) -> str:
    """``n_participants_code_C1_2``: a stable key per node for numbers.json."""
    return f"n_participants_{level}_{code_id.replace('.', '_').replace('-', '_')}"


STRUCTURE_LEVELS = ("theme", "subtheme")


def structure(codebook: pd.DataFrame) -> dict[str, int]:
    """How many themes and sub-themes, and how many themes have sub-themes: the codebook's
    upper levels alone (``structure_rows``), apart from its codes and the coding."""
    upper = structure_rows(codebook)
    subthemes = upper[upper["level"] == "subtheme"]
    return with_sources({"n_themes": int((upper["level"] == "theme").sum()),
                         "n_subthemes": int(len(subthemes)),
                         "n_themes_with_subthemes": int(subthemes["parent_id"].nunique())},
                        (upper, "level", "parent_id"))


def structure_rows(codebook: pd.DataFrame) -> pd.DataFrame:
    """The codebook's themes and sub-themes, with their provenance: what ``structure``
    counts, and so what its numbers rest on (the codes' rows are not among them)."""
    return codebook[codebook["level"].isin(STRUCTURE_LEVELS)]


def summary(table: pd.DataFrame, segments: pd.DataFrame, participants: pd.DataFrame,
            coder: str, coders: pd.DataFrame, codebook: pd.DataFrame | None = None) -> dict:
    """How many codes, segments and participants each node was coded for (on ``coder``'s
    coding); and how many transcripts each coder of coders.csv coded (the double coding),
    0 for one who coded nothing (a QDA project's user with no codings): every listed coder
    has a count, so nothing downstream meets a missing key. ``n_coders`` counts those who
    coded something. The themes' structure is ``structure``'s. The numbers rest on what
    ``table`` was counted from, the codebook's levels (``codebook``) and coders.csv."""
    values: dict[str, object] = {
        "prevalence_coder": coder,
        "n_codes": int((table["level"] == "code").sum()),
        "n_segments": int(len(segments)),
    }
    for level, code_id, n in zip(table["level"], table["code_id"], table["n_participants"],
                                 strict=True):
        values[numbers_key(level, code_id)] = int(n)
    transcripts = transcripts_per_coder(segments, coders)
    n = len(participants)
    values["n_coders"] = int((transcripts > 0).sum())
    for who, count in transcripts.items():
        values[f"n_transcripts_coded_{who}"] = int(count)
        values[f"pct_transcripts_coded_{who}"] = 100 * int(count) / n if n else None
    levels = () if codebook is None else ((codebook, "level"),)
    return with_sources(values, table, *levels, (coders, "coder"))
