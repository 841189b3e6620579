"""The repository's data: the article's published facts plus seeded synthetic stand-ins.

The article publishes aggregate numbers, theme names and 24 attributed quotations; the
per-person records behind them are confidential. This module writes ``data/`` from the
published facts (typed from the article, each with its section) and fills the rest with
seeded synthetic values chosen so that every published aggregate holds exactly. Run
``python -m psu_study.synthetic --check`` to confirm the committed data are what it makes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import quantifiers
from .paths import DATA_DIR

SEED = 20140401
N_PARTICIPANTS = 8
PARTICIPANTS = [f"P{i}" for i in range(1, N_PARTICIPANTS + 1)]
PRIMARY_CODER, SECOND_CODER = "EW", "FF"

RESULTS = "Results"
METHODS_RECRUITMENT = "Methods > Participants and recruitment"
METHODS_ANALYSIS = "Methods > Data collection and analysis"

# (code_id, parent_id, level, name, quantifier, section of the quantifier)
# Themes and sub-themes are the article's Results headings, in its order. Codes are the
# project's synthetic reconstruction of the article's statements about participants: one code
# for each statement the Results (or Discussion) quantify, so each quantifier can be checked.
CODEBOOK: list[tuple[str, str | None, str, str, str | None, str | None]] = [
    ("T1", None, "theme", "Medical identity intact (It will never happen to me)", None, None),
    ("C1.1", "T1", "code", "Assumed PSU support would never be needed", "all", RESULTS),
    ("C1.2", "T1", "code", "Could not recall hearing about the PSU", "many", RESULTS),
    ("C1.3", "T1", "code", "Heard of the PSU but did not remember it", "some", RESULTS),
    ("C1.4", "T1", "code", "A culture of 'man up'", "one", RESULTS),
    ("C1.5", "T1", "code", "Doctors are human too", "all", RESULTS),
    ("C1.6", "T1", "code", "Taking time off is unacceptable", "all", RESULTS),
    ("C1.7", "T1", "code", "Gender discussed in relation to help-seeking", "none", RESULTS),
    ("T2", None, "theme", "Denial of disrupted medical identity", None, None),
    ("C2.1", "T2", "code", "Difficulties affecting health, wellbeing and work", "all", RESULTS),
    ("C2.2", "T2", "code", "Bottling things up rather than seeking help", None, None),
    ("C2.3", "T2", "code", "Self-stigma", "some", RESULTS),
    ("C2.4", "T2", "code", "Disclosure negatively received by managers", None, None),
    ("C2.5", "T2", "code", "Feeling different despite a supportive manager", None, None),
    ("C2.6", "T2", "code", "Feeling a failure and thinking of leaving medicine", "many", RESULTS),
    ("C2.7", "T2", "code", "Guilt about sick leave", None, None),
    ("T3", None, "theme", "Being on the edge: accepting help", None, None),
    ("C3.1", "T3", "code", "At breaking point when accessing the PSU", "many", RESULTS),
    ("C3.2", "T3", "code", "Initial referral felt punitive", "some", RESULTS),
    ("C3.3", "T3", "code", "Keeping personal problems separate from work", "most", RESULTS),
    ("C3.4", "T3", "code", "Confidentiality of the PSU appealed", None, None),
    ("C3.5", "T3", "code", "Concern that PSU involvement might affect training", "some", RESULTS),
    ("C3.6", "T3", "code", "Anxious about being seen in the Deanery building", "some", RESULTS),
    ("T4", None, "theme", "Role of PSU in the \u2018recovery\u2019 process", None, None),
    ("C4.1", "T4", "code", "Engaging with PSU support despite reservations", None, None),
    ("S4.1", "T4", "subtheme", "Making sense of their story", None, None),
    ("C4.1.1", "S4.1", "code", "Talking openly to a detached third party", None, None),
    ("C4.1.2", "S4.1", "code", "Writing down her story", "one", RESULTS),
    ("S4.2", "T4", "subtheme", "Focussing on their own health", None, None),
    ("C4.2.1", "S4.2", "code", "Reassured that time off was right", None, None),
    ("C4.2.2", "S4.2", "code", "Accepting sick leave now for a better return", "several", RESULTS),
    ("S4.3", "T4", "subtheme", "Understanding that they are not alone", None, None),
    ("C4.3.1", "S4.3", "code", "Not the first trainee to go through this", None, None),
    ("C4.3.2", "S4.3", "code", "Support without judgement changed their view of training",
     "many", RESULTS),
    ("T5", None, "theme", "Repaired identity / Coming back from the edge", None, None),
    ("C5.1", "T5", "code", "Concern about competence to continue practising", "many", RESULTS),
    ("C5.2", "T5", "code", "PSU support essential to staying in medicine", "some", RESULTS),
    ("C5.3", "T5", "code", "Practical support from PSU staff", None, None),
    ("C5.4", "T5", "code", "Feeling valued as a doctor again", None, None),
    ("T6", None, "theme", "Different ways to be a doctor", None, None),
    ("C6.1", "T6", "code", "Needing reduced hours or amended duties", "some", RESULTS),
    ("C6.2", "T6", "code", "Doing things differently is acceptable", None, None),
    ("T7", None, "theme", "Breaking the cycle", None, None),
    ("C7.1", "T7", "code", "Ongoing support as a safety net", None, None),
    ("C7.2", "T7", "code", "Offering to talk to doctors in distress", "several", "Discussion"),
    ("C7.3", "T7", "code", "Messages and learning points to share", "one", RESULTS),
    ("C7.4", "T7", "code", "A protocol for earlier referral", None, None),
]

THEME_DEFINITIONS = {
    "T1": "Before their difficulties, trainees assumed PSU support was for others.",
    "T2": "Trainees tried to preserve their medical identity rather than seek help.",
    "T3": "Help was accepted only at breaking point, with fear of being seen.",
    "T4": "How PSU support helped trainees recover.",
    "S4.1": "Talking and writing through their problems with a detached third party.",
    "S4.2": "Being supported to put their own health first.",
    "S4.3": "Learning that other trainees had had problems too.",
    "T5": "PSU support kept trainees in medicine and helped them feel valued.",
    "T6": "Part-time work or amended duties as legitimate ways to practise.",
    "T7": "Changing the culture of shame about accepting help.",
}


@dataclass(frozen=True)
class Quotation:
    """A quotation the Results attribute to a participant ("PPT n" or "participant n")."""

    participant_id: str | None  # None: attributed only to "one participant"
    code_id: str
    text: str


# Verbatim from the article (curly quotes, ellipses and its typos kept); the test suite
# checks each one is a substring of the article.
QUOTATIONS = [
    Quotation("P6", "C1.3", "you kind of hear about it \u2026 but you don\u2019t remember"),
    Quotation("P2", "C1.4", "It\u2019s [the NHS] very much a culture of man up and just get on "
              "with things"),
    Quotation("P2", "C1.5", "you are a human, just like everyone else, this can happen"),
    Quotation("P3", "C1.6", "it\u2019s kind of instilled in us from the start of our NHS life "
              "that you don\u2019t create extra work for people [by being off work]"),
    Quotation("P8", "C2.2", "bottle things up and trying to carry on"),
    Quotation("P7", "C2.3", "you don\u2019t want to be seen by your colleagues or managers as "
              "someone who can\u2019t cope"),
    Quotation("P5", "C2.4", "an agenda to it which was basically to try and stop me from "
              "having the break"),
    Quotation("P4", "C2.5", "the whole year I spent kind of being a bit different to everyone "
              "else"),
    Quotation("P5", "C2.6", "totally overwhelmed\u2026because I just couldn\u2019t cope with "
              "everything"),
    Quotation("P6", "C2.6", "I was feeling very much like I didn\u2019t know if I wanted to be a "
              "doctor anymore because I lost, you know, a lot of confidence in that"),
    Quotation("P2", "C3.1", "I was in a position where I was either going to give up medicine, "
              "because I felt that it was negatively impacting my own health, or I was going to "
              "try and find a better way of me doing it"),
    Quotation("P4", "C3.2", "I kind of felt as if I was in trouble and it almost felt as if you "
              "were back at school"),
    Quotation("P4", "C3.2", "I think I felt really under surveillance"),
    Quotation("P8", "C4.1", "incredibly therapeutic"),
    Quotation(None, "C4.1.2", "pivotal moment"),
    Quotation("P8", "C4.1.1", "totally open and honest"),
    Quotation("P6", "C4.2.1", "bad about it [sick leave] and you don\u2019t know what everyone "
              "thinks\u2026[the PSU staff member] was very reassuring and sayingit sounds like "
              "the right thing you\u2019re off\u2019"),
    Quotation("P7", "C4.3.1", "it\u2019s just nice knowing that I wasn\u2019t the first trainee "
              "that had ever been through this sort of thing"),
    Quotation("P1", "C5.2", "they\u2026 initiated a whole lot of support that I probably "
              "couldn\u2019t have managed without"),
    Quotation("P8", "C5.2", "this [PSU] is the one thing that\u2019s really essentially kept me "
              "in my job and kept me carrying on a doctor when I was so close to just giving it "
              "all up"),
    Quotation("P8", "C5.3", "she [PSU staff member] filled it [a form] in on my behalf, because "
              "to be honest at that stage I was just a bit of a mess\u2026and I just couldn\u2019t "
              "do almost anything"),
    Quotation("P2", "C6.2", "the overwhelming feel [during PSU support] is that actually you "
              "can do things in different ways and that doesn\u2019t make you any less of a "
              "person"),
    Quotation("P8", "C7.1", "I just knew that I had someone that I could go back to, it was "
              "then the continued support after that"),
]
QUOTATION_EXCLUDES = {"C4.1.2": {"P8"}}
""""Participant 8 also used this phrase": the unnamed writer of the "pivotal moment" is not P8."""

PSU_USERS = [("all", "all", 397), ("gender", "female", 259), ("gender", "not female", 138)]
RECRUITMENT_COUNTS = {"contacted": 20, "interested": 10, "consented": 8, "interviewed": 8}
DURATION_MIN, DURATION_MAX, DURATION_MEAN = 35, 100, 50
INTERVIEW_WINDOW = (dt.date(2014, 4, 1), dt.date(2015, 3, 31))
RECRUITMENT_START = dt.date(2014, 3, 17)
RECRUITMENT_DAYS = 180  # "Within a six month recruitment period"
SECOND_CODER_SHARE = 0.5  # "FF independently coded half the data"

TRANSCRIPT_HEADER = (
    "SYNTHETIC TRANSCRIPT. Made by psu_study.synthetic as a stand-in for a confidential "
    "interview: it holds the article's published quotations and placeholder text only.\n\n"
)


def _theme_of(code_id: str) -> str:
    parents = {c[0]: c[1] for c in CODEBOOK}
    node = code_id
    while parents[node] is not None:
        node = parents[node]  # type: ignore[assignment]
    return node


def _codebook_frame() -> pd.DataFrame:
    rows = []
    order: dict[str | None, int] = {}
    for code_id, parent, level, name, _word, _section in CODEBOOK:
        order[parent] = order.get(parent, 0) + 1
        published = level in ("theme", "subtheme")
        rows.append({
            "code_id": code_id,
            "parent_id": parent or "",
            "level": level,
            "name": name,
            "definition": THEME_DEFINITIONS.get(code_id, ""),
            "order": order[parent],
            "provenance": "published (synthetic: definition)" if published else "synthetic",
        })
    return pd.DataFrame(rows)


def _presence(rng: np.random.Generator) -> dict[str, list[str]]:
    """Which participants the primary coder coded at each code, so each quantifier holds."""
    required: dict[str, set[str]] = {}
    for q in QUOTATIONS:
        if q.participant_id is not None:
            required.setdefault(q.code_id, set()).add(q.participant_id)
    presence: dict[str, list[str]] = {}
    for code_id, _parent, level, _name, word, _section in CODEBOOK:
        if level != "code":
            continue
        must = sorted(required.get(code_id, set()))
        if word is not None:
            low, high = quantifiers.count_range(word, N_PARTICIPANTS)
        else:
            low, high = 2, N_PARTICIPANTS - 1
        low = max(low, len(must))
        count = int(rng.integers(low, high + 1))
        pool = [p for p in PARTICIPANTS
                if p not in must and p not in QUOTATION_EXCLUDES.get(code_id, set())]
        extra = list(rng.choice(pool, size=count - len(must), replace=False)) if count > len(
            must) else []
        presence[code_id] = sorted(must + [str(p) for p in extra], key=lambda p: int(p[1:]))
    return presence


def _date(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=int(days))


def _people(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    stages = ["FY1", "FY2", "CT1", "CT2", "CT3", "ST1", "ST3", "ST4", "ST5", "ST6", "ST7"]
    while True:
        drawn = rng.choice(stages, size=N_PARTICIPANTS, replace=True)
        if len(set(drawn)) >= 4 and any(s.startswith("FY") for s in drawn):
            break
    participants = pd.DataFrame({
        "participant_id": PARTICIPANTS,
        "gender": "female",
        "training_stage": [str(s) for s in drawn],
        "provenance": "published (synthetic: training_stage)",
    })

    n = RECRUITMENT_COUNTS["contacted"]
    stage_of = (["interviewed"] * RECRUITMENT_COUNTS["interviewed"]
                + ["consented"] * (RECRUITMENT_COUNTS["consented"]
                                   - RECRUITMENT_COUNTS["interviewed"])
                + ["interested"] * (RECRUITMENT_COUNTS["interested"]
                                    - RECRUITMENT_COUNTS["consented"])
                + ["contacted"] * (n - RECRUITMENT_COUNTS["interested"]))
    stage_of = [stage_of[i] for i in rng.permutation(n)]
    contacted = sorted(_date(RECRUITMENT_START, d)
                       for d in rng.integers(0, RECRUITMENT_DAYS, size=n))
    contacted[0], contacted[-1] = RECRUITMENT_START, _date(RECRUITMENT_START, RECRUITMENT_DAYS - 1)
    order = iter(PARTICIPANTS)
    recruitment = pd.DataFrame({
        "trainee_id": [f"T{i:02d}" for i in range(1, n + 1)],
        "stage_reached": stage_of,
        "participant_id": [next(order) if s == "interviewed" else "" for s in stage_of],
        "contacted_on": [d.isoformat() for d in contacted],
        "provenance": "published (synthetic: trainee_id, participant_id, contacted_on)",
    })

    # Six durations between the published extremes whose sum makes the mean exactly 50.
    rest_total = DURATION_MEAN * N_PARTICIPANTS - DURATION_MIN - DURATION_MAX
    while True:
        rest = rng.integers(DURATION_MIN + 1, 70, size=N_PARTICIPANTS - 2)
        rest[-1] = rest_total - rest[:-1].sum()
        if DURATION_MIN < rest[-1] < DURATION_MAX:
            break
    durations = [DURATION_MIN, DURATION_MAX, *(int(x) for x in rest)]
    durations = [durations[i] for i in rng.permutation(N_PARTICIPANTS)]
    first, last = INTERVIEW_WINDOW
    contact_of = dict(zip(recruitment["participant_id"], contacted, strict=True))
    dates = []
    for i, pid in enumerate(PARTICIPANTS):
        if i == 0:
            dates.append(max(contact_of[pid], _date(first, rng.integers(0, 20))))
        elif i == N_PARTICIPANTS - 1:
            dates.append(_date(dt.date(2015, 3, 1), rng.integers(0, 28)))
        else:
            low = max(contact_of[pid], first)
            dates.append(_date(low, rng.integers(0, (last - low).days - 40)))
    interviews = pd.DataFrame({
        "participant_id": PARTICIPANTS,
        "interview_date": [d.isoformat() for d in dates],
        "mode": "telephone",
        "duration_min": durations,
        "provenance": "published (synthetic: interview_date, duration_min)",
    })
    return participants, recruitment, interviews


def _coding(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, str]]:
    """Transcripts and coded segments: published quotations placed verbatim, placeholder
    passages elsewhere, the primary coder on every transcript and the second on half."""
    presence = _presence(rng)
    pivotal = next(q for q in QUOTATIONS if q.participant_id is None)
    pivotal_pid = presence[pivotal.code_id][0]
    quotes_of: dict[tuple[str, str], list[Quotation]] = {}
    for q in QUOTATIONS:
        quotes_of.setdefault((q.participant_id or pivotal_pid, q.code_id), []).append(q)
    second = sorted(rng.choice(PARTICIPANTS, size=int(N_PARTICIPANTS * SECOND_CODER_SHARE),
                               replace=False), key=lambda p: int(p[1:]))
    code_ids = [c[0] for c in CODEBOOK if c[2] == "code"]

    rows: list[dict[str, object]] = []
    transcripts: dict[str, str] = {}
    counter = iter(range(1, 100_000))
    for pid in PARTICIPANTS:
        text = TRANSCRIPT_HEADER
        passages: list[tuple[int, int, str | None, Quotation | None]] = []
        for code_id in code_ids:
            if pid not in presence[code_id]:
                continue
            quotes = quotes_of.get((pid, code_id), [])
            extra = int(rng.integers(0 if quotes else 1, 3))
            items: list[Quotation | None] = [*quotes, *([None] * extra)]
            for quote in items:
                text += f"Interviewer: [synthetic question {next(counter):04d}]\n{pid}: "
                body = quote.text if quote else (
                    f"[synthetic passage on '{CODE_NAMES[code_id]}', standing in for unpublished "
                    f"interview text]")
                passages.append((len(text), len(text) + len(body), code_id, quote))
                text += body + "\n\n"
        # Uncoded talk, where a second coder may see a code the first did not.
        for _ in range(2):
            text += f"Interviewer: [synthetic question {next(counter):04d}]\n{pid}: "
            body = "[synthetic passage left uncoded by the primary coder]"
            passages.append((len(text), len(text) + len(body), None, None))
            text += body + "\n\n"
        transcripts[pid] = text

        for start, end, code_id, quote in passages:
            if code_id is None:
                continue
            rows.append(_segment(pid, PRIMARY_CODER, code_id, start, end, text, quote, pivotal_pid))
        if pid not in second:
            continue
        for start, end, code_id, _quote in passages:
            draw = rng.random()
            if code_id is None:
                if draw < 0.5:
                    code_id = str(rng.choice(code_ids))
                else:
                    continue
            elif draw < 0.12:
                continue  # the second coder missed it
            elif draw < 0.2:
                siblings = [c for c in code_ids if _theme_of(c) == _theme_of(code_id)]
                code_id = str(rng.choice(siblings))
            jitter_start = int(rng.integers(-6, 7))
            jitter_end = int(rng.integers(-6, 7))
            s = max(0, start + jitter_start)
            e = min(len(text), max(s + 1, end + jitter_end))
            rows.append(_segment(pid, SECOND_CODER, code_id, s, e, text, None, pivotal_pid))
    segments = pd.DataFrame(rows)
    segments.insert(0, "segment_id", [f"S{i:04d}" for i in range(1, len(segments) + 1)])
    return segments, transcripts


CODE_NAMES = {c[0]: c[3] for c in CODEBOOK}


def _segment(pid: str, coder: str, code_id: str, start: int, end: int, text: str,
             quote: Quotation | None, pivotal_pid: str) -> dict[str, object]:
    if quote is None:
        provenance, source = "synthetic", ""
    else:
        synthetic = ["code_id", "start", "end"]
        if quote.participant_id is None:
            synthetic.insert(0, "participant_id")
        provenance = f"published (synthetic: {', '.join(synthetic)})"
        theme = CODE_NAMES[_theme_of(code_id)]
        parent = next(c[1] for c in CODEBOOK if c[0] == code_id)
        source = f"{RESULTS} > {theme}"
        if parent and parent != _theme_of(code_id):
            source += f" > {CODE_NAMES[parent]}"
    return {
        "participant_id": pid, "coder": coder, "code_id": code_id, "text": text[start:end],
        "start": start, "end": end, "source": source, "provenance": provenance,
    }


def build(seed: int = SEED) -> dict[str, pd.DataFrame | dict[str, str]]:
    """Every data file of the repository, as frames (and transcripts as texts)."""
    rng = np.random.default_rng(seed)
    participants, recruitment, interviews = _people(rng)
    segments, transcripts = _coding(rng)
    coders = pd.DataFrame({
        "coder": [PRIMARY_CODER, SECOND_CODER],
        "role": ["interviewer; coded all transcripts", "independently coded half the transcripts"],
        "provenance": "published",
    })
    psu_users = pd.DataFrame(PSU_USERS, columns=["characteristic", "category", "count"])
    psu_users["provenance"] = "published"
    return {
        "participants": participants, "recruitment": recruitment, "psu_users": psu_users,
        "interviews": interviews, "coders": coders, "codebook": _codebook_frame(),
        "segments": segments, "transcripts": transcripts,
    }


def write(out_dir: Path, seed: int = SEED) -> list[Path]:
    """Write the data files under ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, value in build(seed).items():
        if isinstance(value, pd.DataFrame):
            path = out_dir / f"{name}.csv"
            value.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
        else:
            folder = out_dir / name
            folder.mkdir(exist_ok=True)
            for pid, text in value.items():
                path = folder / f"{pid}.txt"
                path.write_text(text, encoding="utf-8", newline="\n")
                written.append(path)
    return written


def check(data_dir: Path = DATA_DIR, seed: int = SEED) -> list[str]:
    """Differences between ``data_dir`` and what the generator makes (empty: identical)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in write(Path(tmp), seed):
            relative = path.relative_to(tmp)
            committed = data_dir / relative
            if not committed.exists():
                problems.append(f"{relative}: missing from {data_dir}")
            elif committed.read_bytes() != path.read_bytes():
                diff = difflib.unified_diff(
                    committed.read_text(encoding="utf-8").splitlines(),
                    path.read_text(encoding="utf-8").splitlines(), lineterm="", n=0)
                problems.append(f"{relative} differs:\n" + "\n".join(list(diff)[:8]))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write (data/)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true",
                        help="compare the folder with a fresh generation instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out, args.seed)
        print("\n".join(problems) or f"{args.out}: identical to the generator's output")
        return 1 if problems else 0
    for path in write(args.out, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
