"""A seeded data directory at survey scale, to show the loader and the theme counts stay
vectorised: 10,000 participants, 1,000,000 coded segments on a 60-node two-level codebook
(10 themes of 5 codes each) and a recruitment log of 100,000 trainees.

``python benchmarks/scale_data.py OUT_DIR`` writes it; the same seed gives the same bytes.
It follows the data contract (``psu_study.schema``) so ``load_study`` accepts it. There is
no ``transcripts/`` folder: offsets are only checked against transcripts when one exists.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 5
N_PARTICIPANTS = 10_000
N_TRAINEES = 100_000
N_SEGMENTS = 1_000_000
N_THEMES = 10
CODES_PER_THEME = 5
GENDERS = ("female", "male", "other", "not recorded")
STAGES = ("FY1", "FY2", "CT1", "CT2", "CT3", "ST1", "ST2", "ST3", "ST4", "ST5", "ST6")


def frames(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Every table of a valid data directory, keyed by table name."""
    rng = np.random.default_rng(seed)
    pids = np.array([f"P{i}" for i in range(1, N_PARTICIPANTS + 1)], dtype=object)
    participants = pd.DataFrame({
        "participant_id": pids,
        "gender": rng.choice(GENDERS, N_PARTICIPANTS),
        "training_stage": rng.choice(STAGES, N_PARTICIPANTS),
        "provenance": "synthetic",
    })
    contacted = pd.Timestamp("2014-01-01") + pd.to_timedelta(
        rng.integers(0, 180, N_TRAINEES), unit="D")
    stage = rng.choice(("contacted", "interested", "consented"), N_TRAINEES).astype(object)
    stage[:N_PARTICIPANTS] = "interviewed"
    linked = np.full(N_TRAINEES, "", dtype=object)
    linked[:N_PARTICIPANTS] = pids
    recruitment = pd.DataFrame({
        "trainee_id": [f"T{i:06d}" for i in range(1, N_TRAINEES + 1)],
        "stage_reached": stage,
        "participant_id": linked,
        "contacted_on": contacted.strftime("%Y-%m-%d"),
        "provenance": "synthetic",
    })
    interviews = pd.DataFrame({
        "participant_id": pids,
        "interview_date": (contacted[:N_PARTICIPANTS] + pd.to_timedelta(
            rng.integers(10, 200, N_PARTICIPANTS), unit="D")).strftime("%Y-%m-%d"),
        "mode": rng.choice(("telephone", "video", "face-to-face"), N_PARTICIPANTS),
        "duration_min": rng.integers(20, 120, N_PARTICIPANTS),
        "provenance": "synthetic",
    })
    psu_users = pd.DataFrame({
        "characteristic": ["all", "gender", "gender"], "category": ["all", "female", "male"],
        "count": [397, 259, 138], "provenance": "synthetic",
    })
    # Both coders code every transcript at this scale, so the data declare whose coding counts.
    coders = pd.DataFrame({"coder": ["EW", "FF"], "role": ["primary (prevalence)", "second"],
                           "provenance": "synthetic"})
    rows = []
    for t in range(1, N_THEMES + 1):
        rows.append((f"T{t}", "", "theme", f"Theme {t}", "", t))
        rows += [(f"C{t}.{c}", f"T{t}", "code", f"Code {t}.{c}", "", c)
                 for c in range(1, CODES_PER_THEME + 1)]
    codebook = pd.DataFrame(rows, columns=["code_id", "parent_id", "level", "name",
                                           "definition", "order"]).assign(provenance="synthetic")
    start = rng.integers(0, 50_000, N_SEGMENTS)
    length = rng.integers(20, 400, N_SEGMENTS)
    segments = pd.DataFrame({
        "segment_id": [f"S{i:07d}" for i in range(1, N_SEGMENTS + 1)],
        "participant_id": rng.choice(pids, N_SEGMENTS),
        "coder": rng.choice(("EW", "FF"), N_SEGMENTS, p=(0.7, 0.3)),
        "code_id": rng.choice(codebook["code_id"].to_numpy(), N_SEGMENTS),
        "text": "synthetic segment",
        "start": start,
        "end": start + length,
        "source": "",
        "provenance": "synthetic",
    })
    return {"participants": participants, "recruitment": recruitment,
            "interviews": interviews, "psu_users": psu_users, "coders": coders,
            "codebook": codebook, "segments": segments}


def write(folder: Path, seed: int = SEED) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames(seed).items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    write(args.out_dir, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
