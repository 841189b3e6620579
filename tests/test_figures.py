"""Figures as a journal's production desk reads them: the check on every save (planted
overlaps and clipped labels fail it, naming the figure and the texts), print size, fonts
embedded as TrueType in the PDFs, alt text stored with each figure; and the statistics the
figures draw (the female share, the agreement's resamples), against hand arithmetic."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from PIL import Image
from pypdf import PdfReader

from psu_study import agreement, demographics, figure_check, style
from psu_study.environment import STAGE_ENV
from psu_study.outputs import Outputs
from psu_study.provenance import label_files, synthetic_inputs, uses

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "figures"


@pytest.fixture(autouse=True)
def write_in_place(monkeypatch):
    """Outputs written straight to their targets, as in JupyterLab, not staged."""
    monkeypatch.delenv(STAGE_ENV, raising=False)


def tiny(width_in: float = style.SINGLE_COLUMN_IN, height_in: float = 1.5):
    """A figure with one axes and its alt text, which passes every check as it is."""
    fig = style.figure(width_in, height_in)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x")
    return fig, ax


def save(fig, tmp_path: Path, name: str = "tiny", sources=(), note: str = ""):
    out = Outputs(tmp_path / "figures", tmp_path / "tables", "test")
    return out.figure(style.describe(fig, "A tiny test figure."), name, note, sources=sources)


# --- the check: planted faults fail it, naming the figure and the artists ------------------

def test_a_clean_figure_passes_and_is_written(tmp_path):
    fig, _ = tiny()
    saved = save(fig, tmp_path)
    assert sorted(p.name for p in saved.files) == ["tiny.meta.json", "tiny.pdf", "tiny.png"]


def test_a_planted_overlap_fails_the_save_naming_figure_and_both_texts(tmp_path):
    fig, ax = tiny()
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.annotate("second label", (0.52, 0.52), xycoords="axes fraction")
    with pytest.raises(figure_check.FigureCheckError) as raised:
        save(fig, tmp_path, "planted")
    message = str(raised.value)
    assert message.startswith("figure planted:")
    assert "text 'first label' overlaps annotation 'second label'" in message
    assert not (tmp_path / "figures").exists(), "a failed check must write nothing"


def test_a_label_off_the_canvas_fails(tmp_path):
    fig, ax = tiny()
    ax.set_ylabel("a y label")
    fig.text(0.97, 0.5, "runs off the right edge")
    with pytest.raises(figure_check.FigureCheckError,
                       match=r"text 'runs off the right edge' is clipped by the edge"):
        save(fig, tmp_path)


def test_a_label_clipped_by_its_axes_fails(tmp_path):
    fig, ax = tiny()
    ax.set_xlim(0, 1)
    ax.text(0.95, 0.5, "cut by the axes", clip_on=True)  # data coordinates: starts inside
    with pytest.raises(figure_check.FigureCheckError,
                       match=r"text 'cut by the axes' is clipped by its axes"):
        save(fig, tmp_path)


def test_colliding_tick_labels_fail(tmp_path):
    fig, ax = tiny()
    ax.set_xticks([0, 0.1], ["a long tick label", "another long one"])
    with pytest.raises(figure_check.FigureCheckError,
                       match=r"x tick label 'a long tick label' overlaps x tick label"):
        save(fig, tmp_path)


def test_a_legend_over_a_title_fails(tmp_path):
    fig, ax = tiny()
    ax.set_title("A title")
    ax.plot([0, 1], [1, 0], label="a line")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), borderaxespad=0, frameon=False)
    with pytest.raises(figure_check.FigureCheckError, match=r"title 'A title' overlaps legend "
                       r"entry 'a line'|legend entry 'a line' overlaps title 'A title'"):
        save(fig, tmp_path)


def test_text_under_seven_points_fails(tmp_path):
    fig, ax = tiny()
    ax.text(0.1, 0.8, "tiny print", fontsize=6.5, transform=ax.transAxes)
    with pytest.raises(figure_check.FigureCheckError,
                       match=r"text 'tiny print' is set in 6.5 pt, below the 7 pt minimum"):
        save(fig, tmp_path)


def test_a_width_that_is_no_print_width_fails(tmp_path):
    fig, _ = tiny(width_in=4.0)  # 101.6 mm: neither 85 nor 175
    with pytest.raises(figure_check.FigureCheckError, match=r"101.6 mm wide, not 85 mm or "
                                                             r"175 mm"):
        save(fig, tmp_path)


def test_a_figure_without_alt_text_is_refused(tmp_path):
    fig, _ = tiny()
    out = Outputs(tmp_path / "figures", tmp_path / "tables", "test")
    with pytest.raises(figure_check.FigureCheckError, match="figure bare has no alt text"):
        out.figure(fig, "bare")


def test_a_long_footnote_gets_a_band_of_its_own_under_the_x_label(tmp_path):
    """The x label at the bottom and a footnote of several lines: the band grows the figure
    (85 mm stays 85 mm) and the check, which would catch a collision, passes."""
    fig, _ = tiny()
    height = fig.get_figheight()
    note = " ".join(["A footnote long enough to wrap over several lines at one column."] * 4)
    save(fig, tmp_path, note=note)
    assert fig.get_figwidth() == pytest.approx(85 / 25.4)
    assert fig.get_figheight() > height + 3 * 7 / 72  # at least three 7 pt lines added
    footnotes = [t for t in fig.texts if t.get_gid() == figure_check.FOOTNOTE_GID]
    assert len(footnotes) == 1 and footnotes[0].get_fontsize() >= 7
    assert footnotes[0].get_text().count("\n") >= 2  # wrapped, not clipped


@pytest.mark.slow  # runs a notebook in a kernel
def test_a_failing_figure_reaches_the_notebook_error_the_build_reports(tmp_path):
    """The build reports a failed notebook as "cell i: <ename>: <evalue>" of its first error
    output; executed for real, a planted overlap's error names the figure and the texts."""
    from nbclient import NotebookClient

    source = (
        "from pathlib import Path\n"
        "from psu_study import style\n"
        "from psu_study.outputs import Outputs\n"
        f"out = Outputs(Path({str(tmp_path)!r}), Path({str(tmp_path)!r}), 'nb')\n"
        "fig = style.figure(style.SINGLE_COLUMN_IN, 1.5)\n"
        "ax = fig.subplots()\n"
        "ax.text(0.5, 0.5, 'one', transform=ax.transAxes)\n"
        "ax.text(0.5, 0.5, 'two', transform=ax.transAxes)\n"
        "out.figure(style.describe(fig, 'Two texts on top of each other.'), 'overlapping')\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = NotebookClient(nb, kernel_name="psu-study", timeout=120, allow_errors=True)
    client.execute(cwd=str(tmp_path))
    errors = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "FigureCheckError"
    assert errors[0].evalue == "figure overlapping: text 'one' overlaps text 'two'"


# --- print: fonts, resolution, alt text in the files ---------------------------------------

def pdf_fonts(data: bytes) -> list[dict]:
    fonts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            fonts.append(font)
            fonts.extend(d.get_object() for d in font.get("/DescendantFonts", []))
    return fonts


def font_sizes(data: bytes) -> list[float]:
    """Every size set by a Tf operator in the PDF's page content (matplotlib draws at
    72 units to the inch, so these are points)."""
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(data))
    sizes = []
    for page in reader.pages:
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                sizes.append(float(operands[1]))
    return sizes


def check_pdf(data: bytes) -> None:
    fonts = pdf_fonts(data)
    assert fonts, "no fonts: the check reads nothing"
    assert not [f for f in fonts if f["/Subtype"] == "/Type3"], "a Type 3 font"
    # A Type0 font only points at its descendant, which holds the glyphs: every other font
    # is TrueType and carries its font file.
    glyphs = [f for f in fonts if f["/Subtype"] != "/Type0"]
    assert [f["/BaseFont"] for f in glyphs
            if f["/Subtype"] not in ("/TrueType", "/CIDFontType2")] == [], "not TrueType"
    for font in glyphs:
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
    assert min(font_sizes(data)) >= 7


def test_a_saved_pdf_embeds_truetype_fonts_at_seven_points_or_more(tmp_path):
    fig, ax = tiny()
    ax.set_title("Title with a\u2009thin space and \u2018quotes\u2019")
    saved = save(fig, tmp_path, note="A footnote.")
    check_pdf(saved.files[1].read_bytes())


@pytest.mark.parametrize(("settings", "message"), [
    ({"pdf.fonttype": 3}, "Type 3"), ({"pdf.use14corefonts": True}, "not TrueType")],
    ids=["type3", "unembedded-type1"])
def test_a_planted_font_is_caught_by_the_pdf_check(tmp_path, settings, message):
    """The font check can fail: the same figure saved with Type 3 fonts, or with the PDF
    core fonts (Type 1, never embedded), which the check once let through unchecked."""
    import matplotlib

    fig, _ = tiny()
    buffer = io.BytesIO()
    with matplotlib.rc_context(settings):
        fig.savefig(buffer, format="pdf")
    with pytest.raises(AssertionError, match=message):
        check_pdf(buffer.getvalue())


def test_the_png_is_300_dpi_and_carries_alt_text_and_footnote(tmp_path):
    """README, section What it computes: "Figures are written as 300 dpi PNG and PDF";
    docs/architecture.md, section Modules: "deterministic figure and table writers, with alt
    text and a `<name>.meta.json` beside each output"."""
    fig, _ = tiny()
    saved = save(fig, tmp_path, note="A footnote.")
    with Image.open(saved.files[0]) as image:
        assert min(image.info["dpi"]) >= 299.99
        assert image.info["Description"] == "A tiny test figure."
        assert image.info["Comment"] == "A footnote."
    meta = json.loads(saved.files[2].read_text(encoding="utf-8"))
    assert meta == {"alt": "A tiny test figure.", "footnote": "A footnote.",
                    "synthetic_inputs": {}}


def built_figures() -> list[Path]:
    found = sorted(FIGURES.glob("*.pdf"))
    if not found:
        pytest.skip("no figures built: run make")
    return found


def test_every_built_figure_is_print_ready():
    """Every figure the build wrote: TrueType only, 7 pt or more, 300 dpi PNG at 85 or
    175 mm, and alt text in its sidecar.

    docs/architecture.md, section Modules: "the print check every saved figure passes: nothing
    clipped or overlapping, nothing under 7 pt"."""
    for pdf in built_figures():
        check_pdf(pdf.read_bytes())
        with Image.open(pdf.with_suffix(".png")) as image:
            assert min(image.info["dpi"]) >= 299.99, pdf.name
            width_mm = image.size[0] / image.info["dpi"][0] * 25.4
            assert any(abs(width_mm - w) < 0.5 for w in style.WIDTHS_MM), (pdf.name, width_mm)
        meta = json.loads(pdf.with_name(pdf.stem + ".meta.json").read_text(encoding="utf-8"))
        assert meta["alt"].endswith("."), pdf.name


# --- footnotes follow provenance -----------------------------------------------------------

def frames() -> dict[str, pd.DataFrame]:
    loaded = {
        "interviews": pd.DataFrame({
            "participant_id": ["P1", "P2"], "mode": ["telephone", "telephone"],
            "duration_min": [40, 50],
            "provenance": ["published (synthetic: duration_min)", "published"]}),
        "psu_users": pd.DataFrame({"count": [397], "provenance": ["published"]}),
    }
    label_files(loaded)
    return loaded


def test_footnotes_name_the_synthetic_columns_of_the_frames_passed():
    loaded = frames()
    assert synthetic_inputs([loaded["interviews"], loaded["psu_users"]]) == {
        "interviews.csv": ["duration_min"]}
    assert synthetic_inputs([uses(loaded["interviews"], "mode")]) == {}
    with pytest.raises(KeyError):
        uses(loaded["interviews"], "duraton_min")  # a typo fails; it never drops the label
    with pytest.raises(ValueError, match="the study's own frames"):
        synthetic_inputs([pd.DataFrame({"x": [1]})])


def test_a_synthetic_footnote_is_drawn_and_recorded(tmp_path):
    """README, introduction: "Every figure and table built from synthetic values says so in its
    footnote"."""
    fig, _ = tiny()
    saved = save(fig, tmp_path, sources=[frames()["interviews"]])
    meta = json.loads(saved.files[2].read_text(encoding="utf-8"))
    assert meta["synthetic_inputs"] == {"interviews.csv": ["duration_min"]}
    assert "interviews.csv (duration_min)" in meta["footnote"]
    drawn = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "Synthetic data" in drawn


# --- tables keep their own columns ---------------------------------------------------------

def test_the_csv_keeps_the_tables_own_note_column_beside_the_footnote(tmp_path):
    out = Outputs(tmp_path, tmp_path, "test")
    table = pd.DataFrame({"theme": ["A", "B"], "note": ["no variation", ""]})
    out.table(table, "t", "Caption", note="A footnote.")
    csv = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert csv["note"].tolist() == ["no variation", ""]
    assert csv["footnote"].tolist() == ["A footnote.", ""]
    assert "no variation" in (tmp_path / "t.md").read_text(encoding="utf-8")


def test_a_table_with_a_footnote_column_of_its_own_is_refused(tmp_path):
    out = Outputs(tmp_path, tmp_path, "test")
    with pytest.raises(ValueError, match="has a column 'footnote'"):
        out.table(pd.DataFrame({"footnote": ["x"]}), "t", "Caption")


# --- the female share, by hand -------------------------------------------------------------

def female_share_inputs(n: int = 8, k: int = 8):
    participants = pd.DataFrame({"gender": ["female"] * k + ["male"] * (n - k)})
    users = pd.DataFrame({"characteristic": ["all", "gender"], "category": ["all", "female"],
                          "count": [397, 259]})
    return participants, users


def test_female_share_binomial_and_hypergeometric_by_hand():
    """Methods > Participants and recruitment: all 8 participants female against 65%
    (259/397) of PSU users. Issue 14 gives the hypergeometric tail 0.0316 and the two-sided
    exact binomial p 0.057; the arithmetic below is independent of scipy.

    README, section What it computes: "exact binomial and hypergeometric tests, two-sided,
    Clopper-Pearson CI"."""
    share = demographics.female_share(*female_share_inputs())
    rate = 259 / 397
    # One-sided binomial: P(X = 8) = (259/397)^8 = 0.6524^8 = 0.03280.
    assert share["p_sample_female_at_least_observed"] == pytest.approx(rate ** 8)
    assert share["p_sample_female_at_least_observed"] == pytest.approx(0.0328, abs=5e-5)
    # Hypergeometric: C(259, 8) / C(397, 8) = prod_{i<8} (259 - i) / (397 - i) = 0.0316.
    hyper = math.prod((259 - i) / (397 - i) for i in range(8))
    assert hyper == pytest.approx(math.comb(259, 8) / math.comb(397, 8))
    assert share["p_female_hypergeometric_at_least_observed"] == pytest.approx(hyper)
    assert hyper == pytest.approx(0.0316, abs=5e-5)
    # Two-sided binomial: every count no more likely than 8 of 8. pmf(j) = C(8,j) r^j
    # (1-r)^(8-j); pmf(8) = 0.0328, pmf(0..2) = 0.0002, 0.0033, 0.0217 are smaller, pmf(3) =
    # 0.0813 is not: p = 0.0328 + 0.0002 + 0.0033 + 0.0217 = 0.058 (0.0574 unrounded).
    pmf = [math.comb(8, j) * rate ** j * (1 - rate) ** (8 - j) for j in range(9)]
    two_sided = sum(p for p in pmf if p <= pmf[8] * (1 + 1e-7))
    assert share["p_female_binomial_two_sided"] == pytest.approx(two_sided)
    assert round(two_sided, 3) == 0.057
    # Two-sided hypergeometric, the same rule over C(259,j) C(138,8-j) / C(397,8).
    hpmf = [math.comb(259, j) * math.comb(138, 8 - j) / math.comb(397, 8) for j in range(9)]
    assert share["p_female_hypergeometric_two_sided"] == pytest.approx(
        sum(p for p in hpmf if p <= hpmf[8] * (1 + 1e-7)))
    # Clopper-Pearson with k = n: two-sided 95% lower limit 0.025^(1/8) = 63.06%, one-sided
    # 95% lower bound 0.05^(1/8) = 68.77%, upper limit 100%.
    assert share["pct_participants_female_ci_low"] == pytest.approx(100 * 0.025 ** (1 / 8))
    assert share["pct_participants_female_lower_bound_one_sided"] == pytest.approx(
        100 * 0.05 ** (1 / 8))
    assert share["pct_participants_female_ci_high"] == pytest.approx(100)


def test_female_share_inference_is_consistent_both_ways():
    """A one-sided bound beside a one-sided tail and a two-sided interval beside a two-sided
    p must agree on whether 65.2% is ruled out; here neither contradicts the other."""
    share = demographics.female_share(*female_share_inputs())
    base = share["pct_psu_users_female"]
    assert (share["pct_participants_female_lower_bound_one_sided"] > base) == (
        share["p_sample_female_at_least_observed"] < 0.05)
    assert (share["pct_participants_female_ci_low"] > base) == (
        share["p_female_binomial_two_sided"] < 0.05)


def test_female_share_table_has_both_models():
    share = demographics.female_share(*female_share_inputs(n=6, k=5))
    table = demographics.female_share_table(share)
    assert table["Model"].str.startswith(("Binomial", "Hypergeometric")).all()
    # 5 of 6: P(X >= 5) binomial = 6 r^5 (1-r) + r^6.
    rate = 259 / 397
    assert table.iloc[0, 1] == pytest.approx(6 * rate ** 5 * (1 - rate) + rate ** 6)
    # Clopper-Pearson for 5 of 6 at 95% two-sided: 35.9% to 99.6% (standard tables).
    assert table.loc[0, "Two-sided 95% interval (%)"] == "35.9\u201399.6"


def test_female_share_of_nobody_is_an_error():
    participants, users = female_share_inputs(n=0, k=0)
    with pytest.raises(ValueError, match="at least one participant"):
        demographics.female_share(participants, users)


def test_the_female_share_figure_keeps_its_labels_off_the_interval(tmp_path):
    share = demographics.female_share(*female_share_inputs())
    fig = demographics.plot_female_share(share)
    texts, renderer = figure_check.drawn_texts(fig)
    hundred = next(t for t in texts if t.artist.get_text() == "100%")
    bar = next(c for c in fig.axes[0].collections if len(c.get_segments()) == 1)
    left = min(x for seg in bar.get_segments() for x, _ in fig.axes[0].transData.transform(seg))
    assert hundred.box.x1 < left, "the 100% label runs into the error bar"
    assert "Two-sided" in fig.axes[0].get_title()


# --- agreement: what each figure rests on --------------------------------------------------

def test_distinct_resamples_by_hand():
    # n = 1: {a}; n = 2: {aa, ab, bb}; n = 3: C(5, 3) = 10; n = 4: C(7, 4) = 35.
    assert [agreement.distinct_resamples(n) for n in (1, 2, 3, 4)] == [1, 3, 10, 35]


def agreement_rows(pair: str, kappas: list[float]) -> list[dict]:
    rows = [{"theme_id": f"T{i}", "theme": f"Theme {i}", "unit": "participant", "coders": pair,
             "n_transcripts": 4, "n_units": 4, "kappa": k, "note": ""}
            for i, k in enumerate(kappas, 1)]
    return rows + [{"theme_id": agreement.POOLED_ID, "theme": "All themes (pooled)",
                    "unit": "participant", "coders": pair, "n_transcripts": 4,
                    "n_units": 4 * len(kappas), "kappa": 1.0, "note": "perfect agreement"}]


def test_a_pooled_figure_resting_on_one_theme_is_flagged_per_pair():
    """Pair A-B: one of three themes varies (the issue's case: one in seven); pair A-C: two
    vary, so its pooled figure is not flagged."""
    table = pd.DataFrame(agreement_rows("A-B", [np.nan, 1.0, np.nan])
                         + agreement_rows("A-C", [0.5, 1.0, np.nan]))
    reported = agreement.with_reporting(table)
    pooled = reported[reported["theme_id"] == agreement.POOLED_ID].set_index("coders")
    assert pooled.loc["A-B", "pooled_driven_by"] == "T2"
    assert pooled.loc["A-B", "note"].startswith("driven by one theme: only Theme 2 varies, "
                                                "the other 2 have no variation")
    assert pooled.loc["A-C", "pooled_driven_by"] == ""
    assert (reported["n_distinct_resamples"] == 35).all()
    assert agreement.basis(reported[reported["coders"] == "A-B"]) == (
        "12 units in 4 transcripts; 35 distinct resamples")


def test_the_agreement_figure_says_what_it_rests_on():
    table = agreement.with_reporting(pd.DataFrame(agreement_rows("A-B", [np.nan, 1.0])).assign(
        kappa_ci_low=np.nan, kappa_ci_high=np.nan, alpha=np.nan, alpha_ci_low=np.nan,
        alpha_ci_high=np.nan))
    fig = agreement.plot_agreement(table)
    assert figure_check.problems(fig) == []
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Unit: participant, A-B\n8 units in 4 transcripts; 35 distinct resamples"]
    drawn = [t.get_text() for t in fig.axes[0].texts]
    assert "driven by one theme" in drawn
    assert "the pooled figure is driven by one theme" in style.alt_text(fig)


# --- colours that survive greyscale printing -----------------------------------------------

def grey(rgba) -> float:
    """Luma (Rec. 709 weights on the sRGB values): what a greyscale printer keeps."""
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_colours_side_by_side_differ_in_greyscale():
    """Each figure's colours that tell things apart stay apart in grey by at least a fifth
    of the scale (Okabe-Ito hues for colour-blind readers, lightness for greyscale)."""
    from psu_study import themes

    codebook = pd.DataFrame({"code_id": ["T1", "T2"], "parent_id": ["", ""],
                             "level": ["theme", "theme"], "order": [1, 2],
                             "name": ["A theme with a name long enough to wrap", "Short"]})
    presence = pd.DataFrame([[1, 0], [0, 1]], index=["P1", "P2"], columns=["T1", "T2"])
    heatmap = themes.plot_heatmap(presence, codebook)
    mesh = heatmap.axes[0].collections[0]
    cells = {tuple(c) for c in mesh.to_rgba(mesh.get_array().ravel())}
    share = demographics.plot_female_share(demographics.female_share(*female_share_inputs()))
    bars = {tuple(p.get_facecolor()) for p in share.axes[0].patches}
    table = agreement.with_reporting(pd.DataFrame(agreement_rows("A-B", [0.5, 1.0])).assign(
        kappa_ci_low=0.2, kappa_ci_high=0.9, alpha=0.5, alpha_ci_low=0.2, alpha_ci_high=0.9))
    marks = {to_rgba(line.get_color()) for line in agreement.plot_agreement(table).axes[0].lines
             if line.get_marker() not in (None, "None", "")}
    for name, colours in (("heatmap", cells), ("female share", bars), ("agreement", marks)):
        assert len(colours) == 2, (name, colours)
        first, second = colours
        assert abs(grey(first) - grey(second)) >= 0.2, name
    # Hatch-free figures also differ in marker shape where colours code a series.
    shapes = {line.get_marker() for line in agreement.plot_agreement(table).axes[0].lines}
    assert {"o", "s"} <= shapes


def test_the_agreement_figure_gives_each_pair_of_coders_a_row_and_passes_the_check():
    """Three coders give three pairs; each pair gets a row of panels (one per unit), each
    panel at a legible width, and the whole passes the print check."""
    table = pd.concat([
        pd.DataFrame(agreement_rows(pair, [np.nan, 0.5, 1.0])).assign(unit=unit)
        for pair in ("A-B", "A-C", "B-C") for unit in ("participant", "character")
    ]).assign(kappa_ci_low=0.1, kappa_ci_high=1.0, alpha=0.5, alpha_ci_low=0.1,
              alpha_ci_high=1.0)
    fig = agreement.plot_agreement(agreement.with_reporting(table))
    assert figure_check.problems(fig) == []
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes]
    assert titles == [f"Unit: {u}, {p}" for p in ("A-B", "A-C", "B-C")
                      for u in ("participant", "character")]
    assert len({round(ax.get_position().width, 3) for ax in fig.axes}) == 1


def test_the_presence_heatmap_has_a_two_entry_legend_and_whole_theme_names():
    from psu_study import themes

    long = "Medical identity intact (It will never happen to me) and a little more"
    codebook = pd.DataFrame({"code_id": ["T1", "T2"], "parent_id": ["", ""],
                             "level": ["theme", "theme"], "order": [1, 2],
                             "name": [long, "Short"]})
    presence = pd.DataFrame([[1, 0], [1, 1]], index=["P1", "P2"], columns=["T1", "T2"])
    fig = themes.plot_heatmap(presence, codebook)
    assert len(fig.axes) == 1, "a colour bar is an axes of its own"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["not coded", "coded"]
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert " ".join(labels[0].split()) == long and "\n" in labels[0]  # wrapped, not cut
    assert figure_check.problems(fig) == []


def test_a_dotted_table_name_keeps_every_file_beside_its_sidecar(tmp_path):
    # "stages.v2" is a name, not a stem with a suffix: its four files share it whole.
    out = Outputs(tmp_path / "figures", tmp_path / "tables", "test")
    out.table(pd.DataFrame({"stage": ["FY1"], "n": [1]}), "stages.v2", "Stages")
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "stages.v2.csv", "stages.v2.md", "stages.v2.meta.json", "stages.v2.tex"]
