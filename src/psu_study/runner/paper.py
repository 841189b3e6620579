"""The paper as the build's last step: typeset once every notebook has succeeded, recorded in
the manifest beside the notebooks, and given to make through the same dependency file, so
``make``, ``make paper`` and ``make verify`` all cover it."""

from __future__ import annotations

from ..paths import PAPER_SOURCE
from ..run_folders import RunFolders
from .graph import code_hashes, stale_reason
from .layout import BuildError

MODULE = "psu_study.manuscript"
"""Imported only when the paper is typeset: it takes a second or more (typst, the analysis
modules), which a build with nothing to do never pays."""
KEY = "paper"
"""The paper's entry in the manifest, beside ``notebooks``."""


def build_paper(lay: RunFolders, entry: dict | None, changed: list[str]) -> dict | None:
    """Typeset the paper if it is stale and return its manifest entry (None for a project
    copy that holds no manuscript source, as some tests make)."""
    if not PAPER_SOURCE.exists():
        print(f"  no manuscript source ({PAPER_SOURCE.name}): no paper typeset", flush=True)
        return None
    # ``changed`` names the notebooks this build ran whose figures or tables differ from last
    # time's: among them may be one the paper has not read yet (a new figure), so they make
    # it stale even where no recorded read changed.
    code = code_hashes({MODULE}, lay)
    reason = ("outputs of " + ", ".join(changed) + " changed" if changed
              else stale_reason(entry, code, lay))
    if reason is None:
        return entry
    from .. import manuscript
    from ..disclosure import DisclosureError

    try:
        done, new = manuscript.paper(lay)
    except (manuscript.ManuscriptError, DisclosureError, ValueError) as exc:
        raise BuildError(f"the paper failed: {exc}") from None
    manuscript.write_editions(lay, done)
    print(f"  typeset {lay.key(lay.paper_pdf)} ({reason})", flush=True)
    return {**new, "code": code}
