"""Where notebook 07 opens: its parameters (a theme, a participant, an attribute, a base rate,
a sample size), each left as None resolved from the data and each given one checked against
it, so the notebook itself only names what it explores."""

from __future__ import annotations

from dataclasses import dataclass

from .explore import base_rate as users_base_rate
from .explore import node_choices, starting_point
from .explore_queries import starting_attribute
from .themes import prevalence_coder
from .validation import Study


@dataclass(frozen=True)
class Start:
    """What the explorer shows first, with the coder whose coding it counts."""

    theme: str
    theme_label: str
    participant: str
    coder: str
    attribute: str | None
    rate: float
    n: int

    def __repr__(self) -> str:
        return (f"theme {self.theme_label}; participant {self.participant}; coder "
                f"{self.coder}; base rate {self.rate:.3f}; n = {self.n}")


def resolve(study: Study, theme: str | None = None, participant: str | None = None,
            attribute: str | None = None, base_rate: float | None = None,
            sample_size: int | None = None) -> Start:
    """The notebook's parameters resolved: None means the codebook's first theme, the first
    participant, the first attribute column, the PSU users' share of women and the number of
    participants; the prevalence coder is the one whose coding covers every transcript."""
    theme, participant = starting_point(study.codebook, study.participants, theme, participant)
    labels = {code_id: label.strip() for label, code_id in node_choices(study.codebook)}
    return Start(
        theme=theme, theme_label=labels[theme], participant=participant,
        coder=prevalence_coder(study.segments, study.participants, study.coders),
        attribute=starting_attribute(study.participants, attribute),
        rate=users_base_rate(study.psu_users) if base_rate is None else float(base_rate),
        n=len(study.participants) if sample_size is None else int(sample_size))
