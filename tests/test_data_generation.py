"""data/ is exactly what the committed, seeded generator makes; synthetic values say so."""

from __future__ import annotations

from psu_study import synthetic
from psu_study.provenance import synthetic_columns

from .conftest import DATA


def test_data_is_reproducible_from_the_seeded_generator():
    """`python -m psu_study.synthetic --check` confirms data/ is exactly what the seeded
    generator makes (synthetic.check is what --check runs)."""
    assert synthetic.check(DATA) == []


def test_generator_detects_an_edited_file(data_copy):
    path = data_copy / "interviews.csv"
    path.write_text(path.read_text().replace(",42,", ",43,", 1))
    problems = synthetic.check(data_copy)
    assert len(problems) == 1 and problems[0].startswith("interviews.csv differs")


def test_unpublished_values_are_marked_synthetic(study):
    """README, introduction: "clearly labelled **synthetic** stand-ins, made by a seeded script, for
    what the article does not publish"."""
    assert synthetic_columns(study.participants, ["gender", "training_stage"]) == [
        "training_stage"]
    assert synthetic_columns(study.interviews, ["mode", "duration_min", "interview_date"]) == [
        "duration_min", "interview_date"]
    assert synthetic_columns(study.psu_users, ["count"]) == []


def test_transcripts_say_they_are_synthetic():
    for path in (DATA / "transcripts").glob("*.txt"):
        assert path.read_text(encoding="utf-8").startswith("SYNTHETIC TRANSCRIPT")


def test_provenance_column_only_takes_the_documented_forms(study):
    """README, section Running on your own data: "Every row has a `provenance`: `published`,
    `synthetic`, or `study` (real data)"."""
    for frame in study.frames.values():
        assert frame["provenance"].str.fullmatch(
            r"(published|synthetic)( \(synthetic: [a-z_, ]+\))?").all()
