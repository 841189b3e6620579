"""The repository's data: the article's published facts plus seeded synthetic stand-ins.

The article publishes aggregate numbers, theme names and attributed quotations (held in
``article``); the per-person records behind them are confidential. This module writes
``data/`` from those facts and fills the rest with seeded synthetic values chosen so that
every published aggregate holds exactly. Run ``python -m psu_study.synthetic --check`` to
confirm the committed data are what it makes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import quantifiers
from .article import (
    CODEBOOK,
    DURATION_MAX,
    DURATION_MEAN,
    DURATION_MIN,
    INTERVIEW_WINDOW,
    N_PARTICIPANTS,
    PARTICIPANTS,
    PRIMARY_CODER,
    PSU_USERS,
    QUOTATION_EXCLUDES,
    QUOTATIONS,
    RECRUITMENT_COUNTS,
    RECRUITMENT_DAYS,
    RESULTS,
    SECOND_CODER,
    SECOND_CODER_SHARE,
    Quotation,
)
from .paths import DATA_DIR
from .schema import participant_number

SEED = 20140401

# Synthetic: the article names the themes but gives no definitions.
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
RECRUITMENT_START = dt.date(2014, 3, 17)  # synthetic: the article gives no dates

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
        presence[code_id] = sorted(must + [str(p) for p in extra], key=participant_number)
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
                               replace=False), key=participant_number)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR,
                        help="the data folder to write (data/)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true",
                        help="compare the folder with a fresh generation instead of writing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out_dir, args.seed)
        print("\n".join(problems) or f"{args.out_dir}: identical to the generator's output")
        return 1 if problems else 0
    for path in write(args.out_dir, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
