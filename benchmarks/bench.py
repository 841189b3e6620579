"""How fast the build is on this machine, each figure against what it should be compared with.

``make bench`` runs this. Everything is measured in one run, on a throwaway copy of the work
tree (its tracked and untracked, non-ignored files; ``.venv`` linked, never changed), and
timings are medians of ``--repeat`` runs:

1. the floor: F, a fresh kernel started and the notebooks' imports done, and W, the
   notebooks' cells after those imports; floor = (notebooks x F + W) / cores;
2. a clean rebuild (``psu_study.runner --force``) against the floor (goal <= 1.3);
3. the same rebuild against the naive peer, the papermill CLI run notebook after notebook
   (goal <= 0.3);
0. the set-up: ``make .venv/.installed`` on a fresh clone of HEAD (goal <= 15 s), beside
   the build's time;
4. a no-op ``make`` after a build: nothing executed, time <= 1% of the rebuild;
5. an incremental ``make`` after one data file changed: exactly its readers execute;
6. scale: ``load_study`` and ``themes.prevalence`` + ``themes.matrix`` on 1,000,000 coded
   segments against bare pandas doing the same work (goal <= 2x), with peak memory.

It exits non-zero when an exactness check (4's "nothing executed", 5) fails; time goals are
reported, not enforced, because the machine is shared.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from psu_study.environment import FOLDER_ENV, KERNEL_ENV, PREFIX
from psu_study.notebook_files import notebook_paths

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv"
PY = VENV / "bin" / "python"
HERE = Path(__file__).resolve().parent
LIBS = ("pandas", "matplotlib", "matplotlib.figure", "seaborn", "scipy.stats")
"""What every notebook needs before its first result, besides its own psu_study imports."""


def copy_tree(dest: Path) -> Path:
    """The work tree as it is now (tracked and untracked, non-ignored files) under ``dest``,
    with ``.venv`` linked to the real one and its install stamp newer than the lock, so
    ``make`` there never touches the environment."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(VENV)
    stamp = (VENV / ".installed").stat().st_mtime
    for name in ("pyproject.toml", "requirements.lock"):
        if (dest / name).exists():
            os.utime(dest / name, (stamp - 60, stamp - 60))
    if subprocess.run(["make", "-q", ".venv/.installed"], cwd=dest).returncode != 0:
        raise SystemExit("the copy's environment would be rebuilt; refusing to run make there")
    return dest


def environ(copy: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env.update(PYTHONPATH=str(copy / "src"), **KERNEL_ENV, MPLCONFIGDIR=str(VENV / "mplconfig"),
               **extra)
    return env


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def executed(stdout: str) -> list[str]:
    return sorted(line.split()[1] for line in stdout.splitlines()
                  if line.strip().startswith("done"))


def notebook_waves(copy: Path) -> list[list[Path]]:
    """The notebooks in the order the runner executes them (numbers readers last)."""
    paths = notebook_paths(copy / "notebooks")
    late = {p for p in paths if json.loads(p.read_text()).get("metadata", {})
            .get("psu_study", {}).get("after_numbers", False)}
    return [w for w in ([p for p in paths if p not in late], sorted(late)) if w]


def code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def import_lines(paths: list[Path]) -> str:
    """Every top-level import of the notebooks, plus the heavy libraries they all use."""
    lines = {f"import {lib}" for lib in LIBS}
    for path in paths:
        for source in code_cells(path):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            lines |= {ast.unparse(n) for n in tree.body
                      if isinstance(n, ast.Import | ast.ImportFrom)}
    return "\n".join(sorted(lines))


def merge_numbers(copy: Path, out: Path, names: list[str]) -> None:
    """What the runner does between its two waves, for the notebooks that read numbers."""
    env = environ(copy)
    code = ("import sys; from pathlib import Path; "
            "from psu_study.runner import layout, manifest; "
            "manifest.write_numbers(layout.layout(Path(sys.argv[1]), Path(sys.argv[2])), "
            "sys.argv[3:])")
    subprocess.run([str(PY), "-c", code, str(copy / "data"), str(out), *names], env=env,
                   check=True)


def floor(copy: Path, out: Path) -> tuple[float, float]:
    """F (median over notebooks) and W (sum over notebooks), each notebook in its own
    kernel, one at a time so nothing competes for the cores."""
    from jupyter_client.manager import KernelManager

    waves = notebook_waves(copy)
    imports = import_lines([p for w in waves for p in w])
    env = environ(copy, **{FOLDER_ENV["data_dir"]: str(copy / "data"),
                           FOLDER_ENV["figures_dir"]: str(out / "figures"),
                           FOLDER_ENV["tables_dir"]: str(out / "tables")})
    starts, works = [], []
    for i, wave in enumerate(waves):
        if i:
            merge_numbers(copy, out, [p.stem for p in waves[0]])
        for path in wave:
            sockets = tempfile.mkdtemp(prefix="psu-bench-")
            started = time.perf_counter()
            km = KernelManager(kernel_name="psu-study", transport="ipc",
                               connection_file=f"{sockets}/kernel.json")
            km.start_kernel(env=env, cwd=str(copy / "notebooks"))
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)
                run_cell(kc, imports, path)
                starts.append(time.perf_counter() - started)
                started = time.perf_counter()
                for source in code_cells(path):
                    run_cell(kc, source, path)
                works.append(time.perf_counter() - started)
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
                shutil.rmtree(sockets, ignore_errors=True)
    return statistics.median(starts), sum(works)


def run_cell(kc: object, source: str, path: Path) -> None:
    reply = kc.execute_interactive(source, timeout=600, output_hook=lambda msg: None)
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"{path.name}: {reply['content'].get('ename')}: "
                         f"{reply['content'].get('evalue')}")


def papermill_loop(copy: Path, out: Path) -> float:
    """The naive peer: one papermill process per notebook, one after another."""
    env = environ(copy)
    waves = notebook_waves(copy)
    started = time.perf_counter()
    for i, wave in enumerate(waves):
        if i:
            merge_numbers(copy, out, [p.stem for p in waves[0]])
        for path in wave:
            timed([str(VENV / "bin" / "papermill"), "--no-progress-bar", str(path),
                   str(out / path.name), "-p", "data_dir", str(copy / "data"),
                   "-p", "figures_dir", str(out / "figures"),
                   "-p", "tables_dir", str(out / "tables"), "--cwd", str(path.parent)],
                  copy, env)
    return time.perf_counter() - started


def bump_a_duration(copy: Path) -> str:
    """Change one value of interviews.csv (still valid) and name the file changed."""
    path = copy / "data" / "interviews.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index("duration_min")
    rows[1][column] = str(int(rows[1][column]) % 299 + 1)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return "data/interviews.csv"


SCALE_TASKS = {
    "load_study": ("from psu_study import validation", "validation.load_study(d)"),
    "read_csv": ("import pandas as pd",
                 "{p.stem: pd.read_csv(p) for p in sorted(Path(d).glob('*.csv'))}"),
    "themes": ("from psu_study import themes, validation\ns = validation.load_study(d)\n"
               "c = themes.prevalence_coder(s.segments, s.participants, s.coders)",
               "themes.prevalence(s.segments, s.codebook, s.participants, c)\n"
               "themes.matrix(s.segments, s.codebook, s.participants, c)"),
    "crosstab": ("import pandas as pd\nfrom psu_study import validation\n"
                 "s = validation.load_study(d)\nbook = s.codebook",
                 "up = dict(zip(book.code_id, book.parent_id.fillna(book.code_id)))\n"
                 "seg = s.segments[s.segments.coder == 'EW']\n"
                 "codes = pd.crosstab(seg.participant_id, seg.code_id)\n"
                 "by_theme = pd.crosstab(seg.participant_id, seg.code_id.map(up))\n"
                 "[(t > 0).sum() for t in (codes, by_theme)] + [t.sum() for t in "
                 "(codes, by_theme)]\n"
                 "(by_theme > 0).astype(int).reindex(s.participants.participant_id, "
                 "fill_value=0)"),
}
"""Each task: set-up (not timed), then the timed work; ``d`` is the data folder."""


def scale_task(name: str, data: Path) -> tuple[float, float]:
    """Seconds of the timed work and peak resident MiB of the whole process."""
    setup, work = SCALE_TASKS[name]
    code = (f"import resource, sys, time\nfrom pathlib import Path\nd = sys.argv[1]\n{setup}\n"
            f"t = time.perf_counter()\n{work}\nt = time.perf_counter() - t\n"
            "print(t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    out = subprocess.run([str(PY), "-c", code, str(data)], check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")}).stdout
    seconds, peak = out.split()[-2:]
    return float(seconds), float(peak)


def setup_time(root: Path) -> float:
    """Seconds for the first step of ``make`` on a fresh clone of HEAD: a new environment
    from the lock (uv installed into it from PyPI, then the lock synced), the editable
    install and the kernel; the package cache is warm, as on any second machine set-up."""
    clone = root / "setup-clone"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", "--shared", str(REPO), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith((PREFIX, "VIRTUAL_ENV"))}
    seconds, _ = timed(["make", ".venv/.installed"], clone, env)
    shutil.rmtree(clone, ignore_errors=True)
    return seconds


def median_of(repeat: int, measure) -> float:
    return statistics.median(measure() for _ in range(repeat))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the build on this machine.")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-setup", action="store_true",
                        help="do not time the environment's set-up on a fresh clone")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="psu-bench-") as tmp:
        root = Path(tmp)
        copy = copy_tree(root / "repo")
        waves = notebook_waves(copy)
        n = sum(len(w) for w in waves)
        print(f"bench: {n} notebooks, {cores} cores, median of {args.repeat} runs, "
              f"copy of the work tree in {copy}", flush=True)

        def fresh(name: str) -> Path:
            path = root / name
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
            return path

        f_w = [floor(copy, fresh("floor")) for _ in range(args.repeat)]
        start, work = (statistics.median(x) for x in zip(*f_w, strict=True))
        floor_s = (n * start + work) / cores
        env = environ(copy)
        build = [str(PY), "-m", "psu_study.runner"]
        full = median_of(args.repeat, lambda: timed([*build, "--force"], copy, env)[0])
        if not args.skip_setup:
            setup = median_of(args.repeat, lambda: setup_time(root))
            print(f"(0) set-up on a fresh clone, `make .venv/.installed` = {setup:.2f} s "
                  f"(goal <= 15 s); the build after it, T_full = {full:.2f} s", flush=True)
        peer = median_of(args.repeat, lambda: papermill_loop(copy, fresh("papermill")))
        print(f"(1) floor   F = {start:.2f} s (kernel + imports), W = {work:.2f} s (cells); "
              f"floor = ({n} x F + W) / {cores} = {floor_s:.2f} s")
        print(f"(2) T_full  = {full:.2f} s; T_full / floor = {full / floor_s:.2f} "
              "(goal <= 1.3)")
        print(f"(3) papermill loop = {peer:.2f} s; T_full / papermill = {full / peer:.2f} "
              "(goal <= 0.3)")

        # The forced runs above wrote no make stamp (they are the runner alone): one make
        # writes it, running no notebook (the outputs are current), before make is timed.
        prime = timed(["make"], copy, env)[1]
        if executed(prime):
            failures.append(f"make after a forced build ran {executed(prime)}")
        noop_runs = [timed(["make"], copy, env) for _ in range(args.repeat)]
        noop = statistics.median(s for s, _ in noop_runs)
        ran = sorted({name for _, out in noop_runs for name in executed(out)})
        started_python = any("psu_study.runner" in out for _, out in noop_runs)
        runner_noop = median_of(args.repeat, lambda: timed(build, copy, env)[0])
        print(f"(4) no-op make = {noop * 1000:.0f} ms ({noop / full:.2%} of T_full, goal <= 1%); "
              f"notebooks executed: {ran or 'none'}; runner started: "
              f"{'yes' if started_python else 'no'} (the runner alone, no-op: "
              f"{runner_noop:.2f} s)")
        if ran or started_python:
            failures.append("a no-op make did work")

        manifest = copy / "tables" / "manifest.json"
        whole_before = json.loads(manifest.read_text())
        before = whole_before["notebooks"]
        changed = bump_a_duration(copy)
        seconds, out = timed(["make"], copy, env)
        ran = executed(out)
        whole_after = json.loads(manifest.read_text())
        after = whole_after["notebooks"]
        # Outputs that changed: each notebook's own, and the merged ones (numbers.json).
        rewritten = {changed} | {key for name in after for key, sha in
                                 after[name]["outputs"].items()
                                 if before[name]["outputs"].get(key) != sha} | {
            key for key, sha in whole_after.get("combined", {}).items()
            if whole_before.get("combined", {}).get(key) != sha}
        readers = sorted(k for k, v in before.items() if rewritten & set(v["reads"]))
        print(f"(5) incremental make after changing {changed}: executed {ran} in "
              f"{seconds:.2f} s; readers of it and of the outputs that changed: {readers} -> "
              f"{'exact' if ran == readers else 'WRONG'}")
        if ran != readers:
            failures.append("an incremental make ran other notebooks than the readers")

        if not args.skip_scale:
            sys.path.insert(0, str(HERE))
            import scale_data

            data = scale_data.write(root / "scale")
            results = {name: [scale_task(name, data) for _ in range(args.repeat)]
                       for name in SCALE_TASKS}
            t = {k: statistics.median(s for s, _ in v) for k, v in results.items()}
            mem = {k: max(m for _, m in v) for k, v in results.items()}
            print(f"(6) scale: {scale_data.N_SEGMENTS:,} segments, "
                  f"{scale_data.N_PARTICIPANTS:,} participants, "
                  f"{scale_data.N_TRAINEES:,} trainees")
            for ours, base in (("load_study", "read_csv"), ("themes", "crosstab")):
                print(f"    {ours} = {t[ours]:.2f} s (peak {mem[ours]:.0f} MiB) vs {base} = "
                      f"{t[base]:.2f} s (peak {mem[base]:.0f} MiB): {t[ours] / t[base]:.2f}x "
                      "(goal <= 2x)")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child process: {peak:.0f} MiB peak resident")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
