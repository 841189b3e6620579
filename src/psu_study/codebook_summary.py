"""The codebook with its evidence, as a qualitative paper's supplementary material prints it:
every code in tree order with its counts and one example passage.

The example is a published quotation wherever one sits under the code (the article's own
words); elsewhere a placeholder says there is none, so no unpublished interview text (in
real-data mode, confidential) ever reaches the table.
"""

from __future__ import annotations

import pandas as pd

from . import schema
from .provenance import with_sources
from .themes import lineage, prevalence

PUBLISHED, PLACEHOLDER = "published quotation", "synthetic placeholder"
"""What the example column holds, said in a column of its own beside it."""
NO_QUOTATION = "[synthetic placeholder: no published quotation sits under this code]"


def tree_order(codebook: pd.DataFrame) -> pd.DataFrame:
    """The codebook's rows depth first (each code followed by everything below it, siblings
    by ``order``), however deep, with ``depth`` (0 for a theme)."""
    children: dict[object, list[str]] = {}
    ranked = codebook.sort_values(["order", "code_id"], kind="stable")
    for code_id, parent in zip(ranked["code_id"], ranked["parent_id"], strict=True):
        children.setdefault(None if pd.isna(parent) else parent, []).append(code_id)
    rows: list[tuple[str, int]] = []
    stack = [(c, 0) for c in reversed(children.get(None, []))]
    while stack:
        code_id, depth = stack.pop()
        rows.append((code_id, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(code_id, [])))
    by_id = codebook.set_index("code_id")
    return by_id.loc[[c for c, _ in rows]].reset_index().assign(depth=[d for _, d in rows])


def examples(segments: pd.DataFrame, codebook: pd.DataFrame, coder: str) -> pd.Series:
    """For every code_id, the first published quotation (in tree order, then position) of
    ``coder``'s coding at the code or anywhere below it; codes without one are left out."""
    quoted = segments[segments["provenance"].str.startswith("published")
                      & (segments["coder"] == coder)]
    rank = pd.Series(range(len(codebook)), index=tree_order(codebook)["code_id"].to_numpy())
    rows = quoted[["code_id", "text", "start"]].merge(lineage(codebook), on="code_id")
    rows = rows.assign(_rank=rows["code_id"].map(rank).to_numpy(),
                       _start=pd.to_numeric(rows["start"], errors="coerce").to_numpy())
    rows = rows.sort_values(["_rank", "_start"], kind="stable")
    return rows.drop_duplicates("node").set_index("node")["text"]


def summary(segments: pd.DataFrame, codebook: pd.DataFrame, participants: pd.DataFrame,
            coder: str) -> pd.DataFrame:
    """Every code in tree order: level, parent, name, definition, participants and segments
    (counted as ``themes.prevalence`` counts them, on ``coder``'s coding) and an example."""
    ordered = tree_order(codebook)
    counts = prevalence(segments, codebook, participants, coder).set_index("code_id")
    quote = examples(segments, codebook, coder)
    found = ordered["code_id"].isin(quote.index)
    return with_sources(pd.DataFrame({
        "Code": ordered["code_id"].to_numpy(),
        "Level": ordered["level"].to_numpy(),
        "Parent": ordered["parent_id"].fillna("").to_numpy(),
        "Name": ordered["name"].to_numpy(),
        "Definition": ordered["definition"].fillna("").to_numpy(),
        "Participants": ordered["code_id"].map(counts["n_participants"]).to_numpy(),
        "Segments": ordered["code_id"].map(counts["n_segments"]).to_numpy(),
        "Example": ordered["code_id"].map(quote).where(found, NO_QUOTATION).to_numpy(),
        "Example source": [PUBLISHED if f else PLACEHOLDER for f in found],
    }), (codebook, "name", "definition"), (segments, *schema.CODING_COLUMNS, "text"))
