"""The claims ledger: the tolerance rule, quantifier checks, refusals of malformed entries, the
repository's data against every claim, and a changed number failing the build by name."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from psu_study import claims, ledger_entries
from psu_study.environment import STAGE_ENV

from .conftest import DATA, REPO, executed, run_make

TABLES = REPO / "tables"


def entry(**overrides: object) -> dict:
    """A valid ledger entry (a number checked against a key), changed by ``overrides``."""
    base = {"id": "x.contacted", "section": "Methods", "claim": "20 people were contacted",
            "published": "20", "tolerance": 0.5, "convention": False,
            "check": {"kind": "value", "key": "n_contacted"}}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def quantifier(word: str, key: str = "n_participants_code_C9_9", **check: object) -> dict:
    return entry(id=f"q.{word}", claim=f"{word} participants said so", published=word,
                 tolerance=None, convention=word in ("some", "several", "many", "most"),
                 check={"kind": "quantifier", "word": word, "key": key, **check})


def published(numbers: dict, rests_on: str = "published") -> dict[str, dict]:
    """Provenance records for ``numbers``, each resting on ``rests_on`` (hand-made: one
    column of a published table)."""
    return {key: {"rests_on": rests_on, "inputs": {"t.csv": ["c"]}} for key in numbers}


def row(raw: dict, numbers: dict, sources: dict | None = None) -> dict:
    sources = published(numbers) if sources is None else sources
    return claims.evaluate(ledger_entries.parse_ledger([raw]), numbers, sources).iloc[0].to_dict()


@pytest.fixture(scope="module")
def ledger() -> list[ledger_entries.Claim]:
    return claims.read_ledger()


@pytest.fixture(scope="module")
def repo_numbers() -> dict[str, object]:
    return claims.read_numbers(TABLES)


@pytest.fixture(scope="module")
def repo_sources() -> dict[str, dict]:
    return claims.read_sources(TABLES)


# --- the tolerance rule -------------------------------------------------------------------

@pytest.mark.parametrize(("published", "tolerance"), [
    ("65%", "0.5"), ("50", "0.5"), ("65.2%", "0.05"), ("2.50", "0.005"), ("N = 10", "0.5"),
])
def test_tolerance_is_half_a_unit_of_the_last_digit_written(published, tolerance):
    assert ledger_entries.tolerance_for(published) == Decimal(tolerance)


@pytest.mark.parametrize(("published", "value", "ok"), [
    ("65%", 65.2393, True), ("65%", 64.5, True), ("65%", 65.5, True),
    ("65%", 64.4, False), ("65%", 65.6, False), ("65%", 64.49, False),
    ("50", 49.5, True), ("50", 50.6, False), ("50", 50, True),
    ("65.2%", 65.24, True), ("65.2%", 65.26, False), ("40%", 45, False),
    ("65%", "65", False), ("65%", None, False), ("65%", True, False),
])
def test_within(published, value, ok):
    assert ledger_entries.within(published, value) is ok


def test_no_number_written_is_an_error():
    with pytest.raises(ValueError, match="no number"):
        ledger_entries.tolerance_for("half")


# --- quantifier claims --------------------------------------------------------------------

@pytest.mark.parametrize(("word", "count", "status"), [
    ("many", 3, claims.DIFFERS), ("many", 4, claims.HOLDS), ("many", 8, claims.DIFFERS),
    ("some", 1, claims.DIFFERS), ("some", 5, claims.DIFFERS), ("some", 2, claims.HOLDS),
    ("most", 4, claims.DIFFERS), ("most", 8, claims.DIFFERS), ("most", 5, claims.HOLDS),
    ("several", 2, claims.DIFFERS), ("all", 7, claims.DIFFERS), ("all", 8, claims.HOLDS),
    ("none", 1, claims.DIFFERS), ("one", 2, claims.DIFFERS), ("one", 1, claims.HOLDS),
])
def test_a_count_outside_the_words_range_differs(word, count, status):
    result = row(quantifier(word), {"n_participants": 8, "n_participants_code_C9_9": count})
    assert result["status"] == status
    assert result["recomputed"] == f"{count} of 8"


def test_complement_counts_those_not_coded():
    raw = quantifier("none", complement=True)
    assert row(raw, {"n_participants": 8, "n_participants_code_C9_9": 8})["status"] == \
        claims.HOLDS
    assert row(raw, {"n_participants": 8, "n_participants_code_C9_9": 7})["status"] == \
        claims.DIFFERS


def test_a_missing_key_differs_and_says_which():
    result = row(entry(), {"n_participants": 8})
    assert result["status"] == claims.DIFFERS
    assert "n_contacted" in result["reason"]


# --- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["section", "claim", "published", "convention", "check"])
def test_an_entry_with_a_missing_field_is_refused_naming_the_id(field):
    with pytest.raises(ledger_entries.LedgerError, match=rf"entry 'x\.contacted'.*'{field}'"):
        ledger_entries.parse_ledger([entry(**{field: None})])


@pytest.mark.parametrize(("overrides", "message"), [
    ({"tolerance": None}, "'tolerance' is missing"),
    ({"tolerance": 1}, "'tolerance' 1 does not follow from '20'"),
    ({"published": "twenty"}, "give 'reading'"),
    ({"check": {"kind": "guess", "key": "n_contacted"}}, "'check.kind' must be one of"),
    ({"check": {"kind": "value"}}, "'check.key' is missing"),
    ({"check": {"kind": "value", "key": "k", "extra": 1}}, "unknown field"),
    ({"status": "holds", "reason": "x"}, "'status' may only be"),
    ({"status": claims.CANNOT, "check": None}, "'reason' is missing"),
    ({"status": claims.CANNOT, "reason": "no column"}, "'check' must be absent"),
    ({"convention": "yes"}, "true or false"),
    ({"colour": "red"}, "unknown field"),
    ({"id": "Bad Id"}, "field 'id'"),
])
def test_malformed_entries_are_refused(overrides, message):
    with pytest.raises(ledger_entries.LedgerError, match=re.escape(message)):
        ledger_entries.parse_ledger([entry(**overrides)])


def test_a_conventional_word_must_be_flagged_as_a_convention():
    raw = quantifier("many")
    raw["convention"] = False
    with pytest.raises(ledger_entries.LedgerError, match="'q.many'.*'convention' must be true"):
        ledger_entries.parse_ledger([raw])


def test_duplicate_ids_are_refused():
    with pytest.raises(ledger_entries.LedgerError, match="used by another entry"):
        ledger_entries.parse_ledger([entry(), entry()])


def test_an_entry_without_an_id_is_named_by_its_position():
    with pytest.raises(ledger_entries.LedgerError, match=r"entry #2 \(no id\).*'id' is missing"):
        ledger_entries.parse_ledger([entry(), entry(id=None)])


# --- the repository's ledger and data -----------------------------------------------------

def test_every_claim_holds_on_the_repositorys_data(ledger, repo_numbers, repo_sources):
    report = claims.evaluate(ledger, repo_numbers, repo_sources)
    # Entries whose synthetic stand-in was not drawn for their reading (``stand_in``) are
    # computed and differ on it, unenforced.
    declared = {c.id: c.status or (claims.STAND_IN_DIFFERS if c.stand_in else None)
                for c in ledger}
    for result in report.itertuples(index=False):
        expected = declared[result.id] or claims.HOLDS
        assert result.status == expected, f"{result.id}: {result.status}: {result.reason}"
    assert claims.enforce(report).startswith("All ")


def test_the_ledger_covers_what_the_brief_names(ledger):
    ids = {c.id for c in ledger}
    keys = {json.dumps(c.check, sort_keys=True) for c in ledger if c.check}
    for needed in ("n_contacted", "n_interested", "n_consented", "n_interviewed",
                   "pct_responded", "pct_interviewed", "recruitment_period_days",
                   "n_participants_female", "n_psu_users_female", "pct_psu_users_female",
                   "n_training_stages", "stage_earliest",
                   "n_interviews_telephone", "interview_first_date", "duration_min_minutes",
                   "duration_max_minutes", "duration_mean_minutes", "n_themes", "n_subthemes",
                   "pct_transcripts_coded_FF", "n_transcripts_coded_EW"):
        assert any(needed in k for k in keys), needed
    for needed in ("analysis.member_check", "setting.case_manager_meetings",
                   "setting.counselling_sessions", "setting.study_skills_sessions",
                   "results.theme_list", "strengths.only_human", "strengths.pct_female_scope",
                   "strengths.all_users_invited", "tables.table1_missing",
                   "tables.table2_missing", "q.discussion.offered_to_talk",
                   "q.conclusions.none_anticipated"):
        assert needed in ids, needed
    statuses = {c.id: c.status for c in ledger}
    assert statuses["analysis.member_check"] == claims.CANNOT
    assert statuses["strengths.only_human"] == claims.INCONSISTENT


def test_every_quotation_is_verbatim_in_the_article(ledger, article):
    for claim in ledger:
        for quote in [claim.claim, *(v.quote for v in claim.versus)]:
            assert quote in article, f"{claim.id}: {quote!r} is not in the article"


def test_the_generators_quantified_statements_are_all_in_the_ledger(ledger):
    """data/README.md lists the statements the generator made codes for; the ledger, written
    from the article, must check each code with the same word."""
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| (C[\d.]+) \| .* \| (\w+) \|$", readme, flags=re.MULTILINE)
    assert len(table) >= 20
    checked = {(c.check["key"], c.check["word"]) for c in ledger
               if c.check and c.check["kind"] == "quantifier" and c.status is None
               and not c.check["complement"]}
    for code, word in table:
        key = "n_participants_code_" + code.replace(".", "_")
        assert (key, word) in checked, f"{code} ({word}) is not checked by the ledger"


def test_the_only_human_inconsistency_shows_most_failing_on_eight_of_eight(ledger, repo_numbers,
                                                                        repo_sources):
    report = claims.evaluate(ledger, repo_numbers, repo_sources).set_index("id")
    assert report.loc["strengths.only_human", "recomputed"] == "8 of 8"
    assert "would differ" in report.loc["strengths.only_human", "reason"]
    assert report.loc["q.t1.human", "status"] == claims.HOLDS


# --- failing the build --------------------------------------------------------------------

def test_changing_one_number_makes_enforce_raise_naming_that_claim(ledger, repo_numbers,
                                                                   repo_sources):
    changed = dict(repo_numbers, n_interested=9, pct_responded=45)
    report = claims.evaluate(ledger, changed, repo_sources)
    with pytest.raises(claims.ClaimsDiffer) as raised:
        claims.enforce(report)
    message = str(raised.value)
    assert "recruitment.interested" in message and "published 10, recomputed 9" in message
    assert "recruitment.response_rate" in message and "published 50%, recomputed 45" in message
    assert "recruitment.contacted" not in message


@pytest.mark.parametrize(("key", "value", "claim_id"), [
    ("n_participants_code_C3_3", 8, "q.t3.separate"),          # "Most" but all of them
    ("duration_mean_minutes", 50.6, "interviews.duration_mean"),
    ("pct_psu_users_female", 64.4, "participants.pct_female_users"),
    ("recruitment_period_days", 200, "recruitment.period"),
    ("interview_last_date", "2015-04-02", "interviews.window"),
    ("n_participants_female", 7, "participants.all_female"),
])
def test_other_data_where_a_published_value_fails(ledger, repo_numbers, repo_sources, key, value,
                                                  claim_id):
    changed = dict(repo_numbers, **{key: value})
    report = claims.evaluate(ledger, changed, repo_sources).set_index("id")
    assert report.loc[claim_id, "status"] == claims.DIFFERS
    with pytest.raises(claims.ClaimsDiffer, match=re.escape(claim_id)):
        claims.enforce(report.reset_index())


def test_article_inconsistencies_never_fail_the_build(ledger, repo_numbers, repo_sources):
    changed = dict(repo_numbers, n_themes=6, n_contacted=397)   # would "fix" two of them
    report = claims.evaluate(ledger, changed, repo_sources)
    inconsistent = report[report["status"] == claims.INCONSISTENT]
    assert {"results.theme_list", "strengths.all_users_invited"} <= set(inconsistent["id"])
    with pytest.raises(claims.ClaimsDiffer) as raised:       # n_themes and n_contacted do
        claims.enforce(report)
    listed = re.findall(r"^- (\S+) ", str(raised.value), flags=re.MULTILINE)
    assert sorted(listed) == ["analysis.themes", "recruitment.contacted"]


def test_reads_are_recorded_for_the_runner(tmp_path, monkeypatch):
    monkeypatch.setenv(STAGE_ENV, str(tmp_path))
    claims.read_ledger()
    claims.read_numbers(TABLES)
    reads = [json.loads(line)["path"] for line in
             (tmp_path / "reads.jsonl").read_text(encoding="utf-8").splitlines()]
    assert str(claims.LEDGER_FILE.resolve()) in reads
    assert str((TABLES / "numbers" / "04_themes.json").resolve()) in reads
    assert not (tmp_path / "numbers.json").exists()  # under the runner, the runner merges


def test_numbers_are_merged_from_the_notebooks_fragments(tmp_path, monkeypatch):
    """README, section Running on your own data: "Notebook 06 merges the others' numbers itself"
    (its writer does that, tests/test_context.py); reading them writes nothing."""
    monkeypatch.delenv(STAGE_ENV, raising=False)  # as papermill runs it
    # Two notebooks' fragments, and one of a notebook the folder no longer has: the merge
    # takes the two.
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    for name in ("01_a", "02_b"):
        (notebooks / f"{name}.ipynb").write_text("{}", encoding="utf-8")
    folder = tmp_path / "tables" / "numbers"
    folder.mkdir(parents=True)
    (folder / "01_a.json").write_text('{"n_x": 3}', encoding="utf-8")
    (folder / "02_b.json").write_text('{"n_y": 5, "n_x": 3}', encoding="utf-8")
    (folder / "09_gone.json").write_text('{"n_z": 1}', encoding="utf-8")
    assert claims.read_numbers(tmp_path / "tables", notebooks) == {"n_x": 3, "n_y": 5}
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["numbers"]
    with pytest.raises(FileNotFoundError, match="run the other notebooks first"):
        claims.read_numbers(tmp_path / "empty", notebooks)


def test_a_data_directory_carries_its_own_ledger(tmp_path):
    """README, section Running on your own data: "A data directory may carry its own claims ledger
    as `claims.yaml`"."""
    assert claims.ledger_path(tmp_path) == claims.LEDGER_FILE  # none: the article's applies
    (tmp_path / "claims.yaml").write_text("claims: []\n", encoding="utf-8")
    assert claims.ledger_path(tmp_path) == tmp_path / "claims.yaml"
    assert claims.read_ledger(tmp_path / "claims.yaml") == []  # empty: checks nothing
    (tmp_path / "claims.yaml").write_text("", encoding="utf-8")
    assert claims.read_ledger(tmp_path / "claims.yaml") == []
    assert claims.evaluate([], {}, {}).empty


def test_a_quantifier_with_no_range_at_this_n_cannot_be_computed():
    # "several" = at least 3 and at most half of N: at N = 5 that is 3 to 2, no count at all.
    report = row(quantifier("several"), {"n_participants_code_C9_9": 3, "n_participants": 5})
    assert report["status"] == claims.CANNOT
    assert report["recomputed"] == "3 of 5"
    assert "cannot be checked among 5" in report["reason"]
    # At N = 6 it is 3 to 3, and 3 holds.
    report = row(quantifier("several"), {"n_participants_code_C9_9": 3, "n_participants": 6})
    assert report["status"] == claims.HOLDS


def test_a_data_change_that_breaks_a_claim_fails_the_build_naming_it(repo_copy):
    """End to end, in a copy of the built project: one trainee who expressed interest
    recorded as only contacted. ``make`` reruns the notebooks that read the recruitment and
    must fail in 06_claims, naming the claims that no longer hold (the article's 10 who
    expressed interest and its 50% response, Methods > Participants and recruitment); the
    claims table keeps its last good bytes.

    README, section What it computes: "the build fails if a claim differs"."""
    path = repo_copy / "data" / "recruitment.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.split(",")[1] == "interested")
    lines[index] = lines[index].replace(",interested,", ",contacted,", 1)
    path.write_text("".join(lines), encoding="utf-8")
    before = (repo_copy / "tables" / "claims.csv").read_bytes()
    result = run_make(repo_copy)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "FAILED 06_claims" in output and "ClaimsDiffer" in output, output
    assert "recruitment.interested" in output and "recruitment.response_rate" in output, output
    assert "01_recruitment" in executed(result), output
    assert (repo_copy / "tables" / "claims.csv").read_bytes() == before, \
        "a failed notebook's outputs are not moved into place"
