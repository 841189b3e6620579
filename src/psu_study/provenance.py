"""Which values of a validated frame are synthetic, so outputs can say so themselves."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

import pandas as pd

from .schema import SYNTHETIC_COLUMNS

SIDECAR_SUFFIX = ".meta.json"
"""``<name>.meta.json`` beside a figure, a table or a notebook's numbers: what it was built
from (alt text or caption, footnote, synthetic inputs; each number's sources), for readers
that do not parse PNG metadata or Markdown, and for the claims ledger."""

_NAMED = re.compile(SYNTHETIC_COLUMNS)


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


FILE_ATTR = "psu_study.file"
"""Where ``label_files`` notes a frame's data file; pandas keeps ``attrs`` through column
selections, so ``study.x[[...]]`` still knows where it came from."""


def label_files(frames: dict[str, pd.DataFrame]) -> None:
    """Mark each loaded table's frame with its file name (``<table>.csv``)."""
    for table, frame in frames.items():
        frame.attrs[FILE_ATTR] = f"{table}.csv"


def uses(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The columns of ``frame`` an output is built from, with its ``provenance``: pass this,
    not the whole frame, when an output uses only some columns (a mistyped name fails)."""
    return frame[[*columns, "provenance"]]


SOURCES_ATTR = "psu_study.sources"
"""Where ``with_sources`` keeps a result's sources: in a frame's ``attrs`` (pandas carries them
through selections, renames and rounding) or, with dots as underscores, as an attribute of
a figure or another result."""
_SOURCES_NAME = SOURCES_ATTR.replace(".", "_")


class Sources(tuple):
    """The frames (``uses`` selections) a result was computed from, kept with the result so
    that its writer knows them and no notebook has to say them again. Compared by identity and
    never copied: pandas keeps them through a frame's operations and drops them where frames
    of different sources are combined."""

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __deepcopy__(self, memo: dict) -> Sources:
        return self


class Numbers(dict):
    """Headline numbers (key to value) with the sources they were computed from."""

    sources: Sources = Sources()


Result = TypeVar("Result")


def with_sources(result: Result, *sources: object) -> Result:
    """``result`` (a frame, a figure, headline numbers as a dict, or any object that takes an
    attribute) marked with what it was computed from: ``(frame, column, ...)`` for columns
    of a study's frame (``uses``), or a result already marked, whose sources it takes over. A
    frame without its provenance and file name (as a test may build) and an unmarked result
    add none. A dict comes back as ``Numbers``."""
    found: list[pd.DataFrame] = []
    for source in sources:
        if isinstance(source, tuple):
            frame, *columns = source
            if "provenance" in frame and FILE_ATTR in frame.attrs:
                found.append(uses(frame, *columns))
        else:
            found.extend(sources_of(source))
    record = Sources(found)
    if isinstance(result, pd.DataFrame):
        result.attrs[SOURCES_ATTR] = record
        return result
    if isinstance(result, dict):
        numbers = Numbers(result)
        numbers.sources = record
        return numbers
    setattr(result, _SOURCES_NAME, record)
    return result


def sources_of(result: object) -> Sources:
    """The sources ``with_sources`` marked ``result`` with (none when it was not)."""
    if isinstance(result, pd.DataFrame):
        return result.attrs.get(SOURCES_ATTR, Sources())
    if isinstance(result, Numbers):
        return result.sources
    return getattr(result, _SOURCES_NAME, Sources())


def synthetic_inputs(sources: Sequence[pd.DataFrame]) -> dict[str, list[str]]:
    """File name to the synthetic columns of each source frame (all its columns but
    ``provenance``), files with none left out: what an output's footnote must name."""
    inputs: dict[str, list[str]] = {}
    for frame in sources:
        if "provenance" not in frame or FILE_ATTR not in frame.attrs:
            raise ValueError("an output's sources must be the study's own frames (or columns "
                             "of them chosen with provenance.uses), with their provenance")
        columns = [c for c in frame.columns if c != "provenance"]
        found = synthetic_columns(frame, columns)
        if found:
            name = frame.attrs[FILE_ATTR]
            inputs[name] = list(dict.fromkeys([*inputs.get(name, []), *found]))
    return inputs


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


def small_cell_rule(frame: pd.DataFrame, enabled: bool | None) -> bool:
    """On for the study's own records unless switched off; off for published or synthetic
    data, where nothing is confidential."""
    return is_study_data(frame) if enabled is None else enabled


PUBLISHED = "published"
SYNTHETIC = "synthetic"
STUDY = "study"
"""What a number rests on, from its sources' provenance: published values only, a synthetic
stand-in among them, or the study's own (confidential) records."""


def rests_on(sources: Sequence[pd.DataFrame]) -> dict[str, object]:
    """A number's provenance record, from the frames (or ``uses`` selections) it was computed
    from: the columns it read, file by file, and what they rest on. A synthetic column among
    them outweighs everything (a "holds" then tests the pipeline, not the study); the
    study's own records outweigh published values."""
    if not sources:
        raise ValueError("a number needs the frames it was computed from (sources=...): a "
                         "number computed from nothing is an error")
    inputs: dict[str, list[str]] = {}
    for frame in sources:
        if "provenance" not in frame or FILE_ATTR not in frame.attrs:
            raise ValueError("a number's sources must be the study's own frames (or columns "
                             "of them chosen with provenance.uses), with their provenance")
        name = frame.attrs[FILE_ATTR]
        columns = [c for c in frame.columns if c != "provenance"]
        inputs[name] = list(dict.fromkeys([*inputs.get(name, []), *columns]))
    if synthetic_inputs(sources):
        kind = SYNTHETIC
    elif any(is_study_data(frame) for frame in sources):
        kind = STUDY
    else:
        kind = PUBLISHED
    return {"rests_on": kind, "inputs": inputs}
