"""The checks a journal's production desk makes by eye, made on every figure before it is
saved: no text clipped by the canvas or by an axes, no two texts overlapping, no text smaller
than the journal's minimum, a width of one column or the full page, and no taller than a
page holds.

The texts checked are those the renderer actually draws (recorded at draw time), so tick
labels outside the view limits, empty strings and hidden artists never count.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from . import style

TOLERANCE_PT = 0.75
"""Overlaps and overhangs smaller than this (a quarter of a millimetre) are not seen."""
FOOTNOTE_GID = "psu-footnote"


class FigureCheckError(ValueError):
    """A figure would come back from a journal's production desk; the message says why."""


@contextmanager
def _recording(drawn: list[Text]) -> Iterator[None]:
    """Note each text artist as it draws. The renderer is told which artist it draws only
    for single-line texts, so the note is taken in ``Text.draw`` itself (every text, an
    annotation's or a legend's too, draws through it), for the span of one draw."""
    original = Text.draw

    def draw(self: Text, renderer: RendererBase) -> None:
        if self.get_visible() and self.get_text() and self not in drawn:
            drawn.append(self)
        original(self, renderer)

    Text.draw = draw  # type: ignore[method-assign]
    try:
        yield
    finally:
        Text.draw = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class _Seen:
    artist: Text
    role: str
    box: Bbox

    def __str__(self) -> str:
        text = " ".join(self.artist.get_text().split())
        return f"{self.role} {text[:60] + ('…' if len(text) > 60 else '')!r}"


def _roles(fig: Figure) -> dict[int, str]:
    """What each text of the figure is, for a message a reader can act on."""
    roles: dict[int, str] = {}
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            roles[id(axis.label)] = f"{name}-axis label"
            for label in axis.get_ticklabels(which="both"):
                roles[id(label)] = f"{name} tick label"
            roles[id(axis.get_offset_text())] = f"{name}-axis offset text"
        roles[id(ax.title)] = "title"
        legend = ax.get_legend()
        if legend is not None:
            roles.update(_legend_roles(legend))
    for legend in fig.legends:
        roles.update(_legend_roles(legend))
    return roles


def _legend_roles(legend: Legend) -> dict[int, str]:
    roles = {id(t): "legend entry" for t in legend.get_texts()}
    roles[id(legend.get_title())] = "legend title"
    return roles


def _role(text: Text, roles: dict[int, str]) -> str:
    if text.get_gid() == FOOTNOTE_GID:
        return "footnote"
    if id(text) in roles:
        return roles[id(text)]
    return "annotation" if isinstance(text, Annotation) else "text"


def drawn_texts(fig: Figure) -> tuple[list[_Seen], RendererAgg]:
    """Every text the figure draws, with its role and extent in display pixels."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    width, height = fig.bbox.size
    renderer = RendererAgg(width, height, fig.dpi)
    drawn: list[Text] = []
    with _recording(drawn):
        fig.draw(renderer)
    roles = _roles(fig)
    seen = [_Seen(t, _role(t, roles), t.get_window_extent(renderer)) for t in drawn
            if t.get_text().strip()]
    return seen, renderer


def _clip_region(text: Text) -> Bbox | None:
    if not text.get_clip_on():
        return None
    box = text.get_clip_box()
    path = text.get_clip_path()
    if path is not None:
        extent = path.get_fully_transformed_path().get_extents()
        box = extent if box is None else Bbox.intersection(box, extent)
    return box


def _overhang(inner: Bbox, outer: Bbox) -> float:
    """How far, in pixels, ``inner`` sticks out of ``outer`` on its worst side."""
    return max(outer.x0 - inner.x0, inner.x1 - outer.x1, outer.y0 - inner.y0,
               inner.y1 - outer.y1, 0.0)


def problems(fig: Figure, min_font_pt: float = style.MIN_FONT_PT) -> list[str]:
    """Every reason the figure fails, one sentence each; empty when it passes."""
    found: list[str] = []
    width_mm = fig.get_figwidth() * 25.4
    if not any(abs(width_mm - w) < 0.5 for w in style.WIDTHS_MM):
        allowed = " or ".join(f"{w:g} mm" for w in style.WIDTHS_MM)
        found.append(f"the figure is {width_mm:.1f} mm wide, not {allowed}")
    height_mm = fig.get_figheight() * style.MM_PER_IN
    if height_mm > style.MAX_HEIGHT_MM + 0.5:
        found.append(f"the figure is {height_mm:.0f} mm tall, more than a page holds "
                     f"({style.MAX_HEIGHT_MM:g} mm): split it into panels side by side")
    seen, _ = drawn_texts(fig)
    tol = TOLERANCE_PT * fig.dpi / 72
    canvas = fig.bbox
    for item in seen:
        size = item.artist.get_fontsize()
        if size < min_font_pt - 1e-9:
            found.append(f"{item} is set in {size:g} pt, below the {min_font_pt:g} pt minimum")
        if _overhang(item.box, canvas) > tol:
            found.append(f"{item} is clipped by the edge of the figure")
        region = _clip_region(item.artist)
        if region is not None and _overhang(item.box, region) > tol:
            found.append(f"{item} is clipped by its axes")
    for a, b in combinations(seen, 2):
        overlap = Bbox.intersection(a.box, b.box)
        if overlap is not None and overlap.width > tol and overlap.height > tol:
            found.append(f"{a} overlaps {b}")
    return found


def check(fig: Figure, name: str) -> None:
    """Refuse a figure that fails any check, naming it and the texts involved."""
    found = problems(fig)
    if found:
        raise FigureCheckError(f"figure {name}: " + "; ".join(found))
