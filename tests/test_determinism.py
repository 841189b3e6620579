"""Determinism is checked, not assumed: a notebook that draws an unseeded random number into
its figure is caught by ``make verify``, which names the figure."""

from __future__ import annotations

from pathlib import Path

from .test_verify import git, make_repo, runner

UNSEEDED_FIGURE = """\
import numpy as np

_plot_flow = recruitment.plot_flow


def plot_flow(counts):
    fig = _plot_flow(counts)
    # A new place every run, kept clear of the other texts and the edges: the figure check
    # passes it, so only the bytes differ.
    fig.text(0.05 * np.random.default_rng().random(), 0.5, "unseeded")
    return fig


recruitment.plot_flow = plot_flow
"""


def test_verify_catches_an_unseeded_random_draw_in_a_figure(tmp_path: Path):
    repo = make_repo(tmp_path, extra_cell=UNSEEDED_FIGURE)
    result = runner(repo, "--verify")
    assert result.returncode == 1, result.stdout + result.stderr
    differs = sorted(line.split()[1].rstrip(":") for line in result.stdout.splitlines()
                     if "DIFFERS" in line)
    assert "figures/recruitment_flow.png" in differs, result.stdout
    assert "figures/recruitment_flow.pdf" in differs, result.stdout
    assert not any(name.startswith("tables/recruitment") for name in differs), differs
    assert git(repo, "status", "--porcelain") == ""
