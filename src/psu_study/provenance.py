"""Which values of a validated frame are synthetic, so outputs can say so themselves."""

from __future__ import annotations

import re

import pandas as pd

_NAMED = re.compile(r"\(synthetic: ([a-z_, ]+)\)")


def synthetic_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> list[str]:
    """Those of ``columns`` that hold at least one synthetic value in ``frame``."""
    provenance = frame["provenance"]
    whole = (provenance == "synthetic").any()
    named: set[str] = set()
    for match in provenance.drop_duplicates():
        found = _NAMED.search(match)
        if found:
            named.update(found.group(1).split(", "))
    return [c for c in columns if whole or c in named]


def synthetic_note(parts: dict[str, list[str]]) -> str:
    """A footnote naming the synthetic inputs, or an empty string when there are none.

    ``parts`` maps a file name to the synthetic columns an output used from it.
    """
    used = [f"{name} ({', '.join(cols)})" for name, cols in parts.items() if cols]
    if not used:
        return ""
    return ("Synthetic data: built from synthetic stand-ins for unpublished values in "
            + "; ".join(used) + ". See data/README.md.")


def is_study_data(frame: pd.DataFrame) -> bool:
    """Whether the frame holds the study's own confidential records (provenance ``study``),
    the data that disclosure control exists to protect."""
    return bool(frame["provenance"].str.startswith("study").any())
