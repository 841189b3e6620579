"""The paper as the build's last step: typeset once every notebook has succeeded, recorded in
the manifest beside the notebooks, and given to make through the same dependency file, so
``make``, ``make paper`` and ``make verify`` all cover it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..paths import PAPER_SOURCE
from .graph import code_hashes, stale_reason
from .layout import BuildError, Layout

if TYPE_CHECKING:
    from .. import manuscript

MODULE = "psu_study.manuscript"
"""Imported only when the paper is typeset: it takes a second or more (typst, the analysis
modules), which a build with nothing to do never pays."""
KEY = "paper"
"""The paper's entry in the manifest, beside ``notebooks``."""


def run_for(lay: Layout) -> manuscript.Run:
    """Where this build's paper reads and writes: its own tables and figures, and
    ``paper/paper.pdf`` beside them (in the repository, or under OUT_DIR)."""
    from .. import manuscript

    return manuscript.Run(lay.data, lay.tables, lay.figures, lay.paper_pdf)


def build_paper(lay: Layout, entry: dict | None, changed: list[str]) -> dict | None:
    """Typeset the paper if it is stale and return its manifest entry (None for a project
    copy that holds no manuscript source, as some tests make)."""
    if not PAPER_SOURCE.exists():
        print(f"  no manuscript source ({PAPER_SOURCE.name}): no paper typeset", flush=True)
        return None
    # ``changed`` names the notebooks this build ran whose figures or tables differ from last
    # time's: among them may be one the paper has not read yet (a new figure), so they make
    # it stale even where no recorded read changed.
    reason = ("outputs of " + ", ".join(changed) + " changed" if changed
              else stale_reason(entry, code_hashes({MODULE}, lay), lay))
    if reason is None:
        return entry
    from .. import manuscript
    from ..disclosure import DisclosureError

    run = run_for(lay)
    try:
        done, new = manuscript.paper(run)
    except (manuscript.ManuscriptError, DisclosureError, ValueError) as exc:
        raise BuildError(f"the paper failed: {exc}") from None
    manuscript.write_editions(run, done)
    print(f"  typeset {lay.key(run.out)} ({reason})", flush=True)
    return {**new, "code": code_hashes({MODULE}, lay)}
