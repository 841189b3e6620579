"""The data contract: every file, column, type and allowed value a data directory must have.

``data/README.md`` documents the same contract for people; ``loader`` and ``rules`` enforce it.
"""

from __future__ import annotations

from dataclasses import dataclass

RECRUITMENT_STAGES = ("contacted", "interested", "consented", "interviewed")
"""Ordered: a trainee who reached a stage passed through every earlier one."""

TRAINING_STAGES = (
    "FY1", "FY2", "CT1", "CT2", "CT3",
    "ST1", "ST2", "ST3", "ST4", "ST5", "ST6", "ST7", "ST8",
)  # fmt: skip
"""From the first postgraduate (Foundation) year to the last year below consultant."""

TRAINING_STAGE_LABELS = {
    "FY1": "Foundation year 1",
    "FY2": "Foundation year 2",
    **{f"CT{i}": f"Core training year {i}" for i in range(1, 4)},
    **{f"ST{i}": f"Specialty training year {i}" for i in range(1, 9)},
}

GENDERS = ("female", "male", "other", "not recorded")
INTERVIEW_MODES = ("telephone", "face-to-face", "video")
CODE_LEVELS = ("theme", "subtheme", "code")
"""``published``: in the article; ``synthetic``: made by ``psu_study.synthetic``;
``study``: the study's own confidential records (real-data mode)."""

PROVENANCE_PATTERN = (
    r"^(published|synthetic|study)( \(synthetic: [a-z_]+(, [a-z_]+)*\))?$"
)
"""A row is published, synthetic or study data, optionally naming the columns of an otherwise
published row that are synthetic, e.g. ``published (synthetic: training_stage)``."""
SYNTHETIC_COLUMNS = r"\(synthetic: ([a-z_, ]+)\)"
"""The part of a provenance that names its synthetic columns (the group), for reading them."""

MAX_DURATION_MIN = 300
"""An interview longer than five hours is a data-entry error, not a long interview."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str", "int", "date"
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    unique: bool = False


ADDED_COLUMN_NAME = r"^[a-z][a-z0-9_]{0,39}$"
"""The name of a column a study adds to a table that takes added columns."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    depends: tuple[str, ...] = ()
    added: Column | None = None
    """The check for each column a study adds beyond ``columns`` (a participant's own
    attributes, which matrix coding tabulates), or None where an added column is an error."""

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


CODING_COLUMNS = ("participant_id", "coder", "code_id")
"""The columns of segments.csv that say which participant a coder coded for which code: what
every count of participants coded rests on."""

PROVENANCE = Column("provenance", "str", pattern=PROVENANCE_PATTERN)
PARTICIPANT_ID = r"^P[0-9]+$"


def participant_number(participant_id: str) -> int:
    """Participants in the order of their numbers (P2 before P10), as the article lists
    them; one definition for every table, figure and the generator."""
    return int(participant_id[1:])

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "participants",
            (
                Column("participant_id", "str", pattern=PARTICIPANT_ID, unique=True),
                Column("gender", "str", allowed=GENDERS),
                Column("training_stage", "str", allowed=TRAINING_STAGES),
                PROVENANCE,
            ),
            added=Column("(added attribute)", "str", pattern=r"^[^\r\n]{1,100}$",
                         nullable=True),
        ),
        Table(
            "recruitment",
            (
                Column("trainee_id", "str", pattern=r"^[A-Za-z0-9_-]+$", unique=True),
                Column("stage_reached", "str", allowed=RECRUITMENT_STAGES),
                Column("participant_id", "str", pattern=PARTICIPANT_ID, nullable=True,
                       unique=True),
                Column("contacted_on", "date"),
                PROVENANCE,
            ),
            depends=("participants",),
        ),
        Table(
            "psu_users",
            (
                Column("characteristic", "str", pattern=r"^[a-z_]+$"),
                Column("category", "str"),
                Column("count", "int", minimum=0),
                PROVENANCE,
            ),
        ),
        Table(
            "interviews",
            (
                Column("participant_id", "str", pattern=PARTICIPANT_ID, unique=True),
                Column("interview_date", "date"),
                Column("mode", "str", allowed=INTERVIEW_MODES),
                Column("duration_min", "int", minimum=1, maximum=MAX_DURATION_MIN),
                PROVENANCE,
            ),
            depends=("participants", "recruitment"),
        ),
        Table(
            "coders",
            (
                Column("coder", "str", pattern=r"^[A-Za-z0-9_-]+$", unique=True),
                Column("role", "str"),
                PROVENANCE,
            ),
        ),
        Table(
            "codebook",
            (
                Column("code_id", "str", pattern=r"^[A-Za-z0-9_.-]+$", unique=True),
                Column("parent_id", "str", nullable=True),
                Column("level", "str", allowed=CODE_LEVELS),
                Column("name", "str"),
                Column("definition", "str", nullable=True),
                Column("order", "int", minimum=1),
                PROVENANCE,
            ),
        ),
        Table(
            "segments",
            (
                Column("segment_id", "str", pattern=r"^[A-Za-z0-9_.-]+$", unique=True),
                Column("participant_id", "str", pattern=PARTICIPANT_ID),
                Column("coder", "str"),
                Column("code_id", "str"),
                Column("text", "str"),
                Column("start", "int", minimum=0, nullable=True),
                Column("end", "int", minimum=1, nullable=True),
                Column("source", "str", nullable=True),
                PROVENANCE,
            ),
            depends=("participants", "coders", "codebook"),
        ),
    )
}

TRANSCRIPTS_DIR = "transcripts"
"""Optional folder of ``<participant_id>.txt``; when present, ``segments.start``/``end`` index
into it (Unicode code points, end exclusive) and each segment's text must equal its span. Only
the files of participants in ``participants.csv`` are read; a link among them is refused."""


def closure(names: tuple[str, ...] | list[str]) -> list[str]:
    """The tables named plus every table they reference, in dependency order."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}")
        for dep in TABLES[name].depends:
            visit(dep)
        if name not in ordered:
            ordered.append(name)

    for name in names:
        visit(name)
    return ordered
