"""Inter-coder agreement per theme on the transcripts two coders both coded, for every pair of
coders who share transcripts (and, with more than two coders, Krippendorff's alpha across all
of them), at two units: a participant's transcript (was the theme coded in it?)
and a character (was it inside a span coded at the theme? NVivo's coding comparison unit).

Every unit reduces to one of four cells (neither, only the second coder, only the first,
both), so each theme is a 2x2 table per transcript. Point estimates come from statsmodels
(Cohen's kappa) and the ``krippendorff`` package (alpha, nominal); the bootstrap, which
resamples transcripts and needs thousands of tables, uses the same coefficients in closed
form over arrays of tables (the tests hold the two equal). Definitions and degenerate cases
are documented in ``docs/qda.md``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import inference, schema, style, themes
from .outputs import Note, Outputs, SavedFigure, SavedTable, Shown
from .provenance import sources_of, with_sources

UNITS = ("participant", "character")
N_BOOT = 2000
SEED = 20150331
"""Bootstrap seed: a fixed value makes the intervals, and the tables holding them, repeat."""
POOLED_ID = "all"


def kappa_from_cells(cells: np.ndarray) -> np.ndarray:
    """Cohen's kappa of 2x2 tables given as (..., 4) counts (n00, n01, n10, n11); NaN where
    neither coder varies (chance agreement is then 1 and kappa 0/0)."""
    n00, n01, n10, n11 = np.moveaxis(np.asarray(cells, dtype=float), -1, 0)
    n = n00 + n01 + n10 + n11
    with np.errstate(invalid="ignore", divide="ignore"):
        first, second = (n10 + n11) / n, (n01 + n11) / n
        chance = first * second + (1 - first) * (1 - second)
        kappa = ((n00 + n11) / n - chance) / (1 - chance)
    return np.where(_no_variation(n00, n01, n10, n11), np.nan, kappa)


def alpha_from_cells(cells: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha (nominal, two coders, no missing values) of (..., 4) counts:
    1 - (n - 1) * D / (n_0 * n_1), n = 2N pairable values, D the disagreeing units, n_v how
    often value v was given; NaN where only one value occurs."""
    n00, n01, n10, n11 = np.moveaxis(np.asarray(cells, dtype=float), -1, 0)
    disagree = n01 + n10
    zeros, ones = 2 * n00 + disagree, 2 * n11 + disagree
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1 - (zeros + ones - 1) * disagree / (zeros * ones)
    return np.where(_no_variation(n00, n01, n10, n11), np.nan, alpha)


def _no_variation(n00: np.ndarray, n01: np.ndarray, n10: np.ndarray,
                  n11: np.ndarray) -> np.ndarray:
    return (n01 + n10 == 0) & ((n00 == 0) | (n11 == 0))


def _library_estimates(cells: np.ndarray) -> tuple[float, float]:
    """Kappa and alpha of one table by the reference implementations."""
    # statsmodels and krippendorff cost ~0.9 s to import (scipy.stats with them): only the
    # agreement notebook needs them, not the paper or the other importers of this module.
    import krippendorff
    from statsmodels.stats.inter_rater import cohens_kappa

    n00, n01, n10, n11 = (int(x) for x in cells)
    if _no_variation(n00, n01, n10, n11):
        return np.nan, np.nan
    kappa = float(cohens_kappa(np.array([[n00, n01], [n10, n11]]), return_results=False))
    # One row per unit: how many coders gave value 0 and value 1.
    counts = np.repeat([[2, 0], [1, 1], [1, 1], [0, 2]], [n00, n01, n10, n11], axis=0)
    alpha = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    return kappa, alpha


def _note(cells: np.ndarray, coders: tuple[str, str]) -> str:
    n00, n01, n10, n11 = (int(x) for x in cells)
    if n01 + n10 + n11 == 0:
        return "neither coder coded this theme: no variation, kappa and alpha undefined"
    if n00 + n01 + n10 == 0:
        return "both coders coded every unit: no variation, kappa and alpha undefined"
    constant = [f"{coder} coded {'every' if ones == total else 'no'} unit"
                for coder, ones, total in ((coders[0], n10 + n11, n00 + n01 + n10 + n11),
                                           (coders[1], n01 + n11, n00 + n01 + n10 + n11))
                if ones in (0, total)]
    if constant:
        return "; ".join(constant) + ": kappa is 0 by construction (chance agreement = observed)"
    return "perfect agreement" if n01 + n10 == 0 else ""


def _coverage(rows: pd.DataFrame, n_themes: int, length: int) -> np.ndarray:
    """(themes, characters) booleans: is the character inside a span coded at the theme?"""
    change = np.zeros((n_themes, length + 1), dtype=np.int32)
    np.add.at(change, (rows["theme_index"].to_numpy(), rows["start"].to_numpy(dtype=int)), 1)
    np.add.at(change, (rows["theme_index"].to_numpy(), rows["end"].to_numpy(dtype=int)), -1)
    return np.cumsum(change, axis=1)[:, :length] > 0


def _cells(segments: pd.DataFrame, n_themes: int, pids: list[str], coders: tuple[str, str],
           unit: str, transcripts: Mapping[str, str] | None) -> np.ndarray:
    """(themes, transcripts, 4) counts of units in each cell."""
    cells = np.zeros((n_themes, len(pids), 4), dtype=np.int64)
    for p, pid in enumerate(pids):
        rows = segments[segments["participant_id"] == pid]
        if unit == "participant":
            first, second = (np.isin(np.arange(n_themes),
                                     rows.loc[rows["coder"] == c, "theme_index"].to_numpy())
                             for c in coders)
            cell = 2 * first[:, None] + second[:, None]
        else:
            length = len(transcripts[pid])  # type: ignore[index]
            if (rows["end"] > length).any():
                raise ValueError(f"a segment of {pid} ends past its transcript ({length} chars)")
            cell = (2 * _coverage(rows[rows["coder"] == coders[0]], n_themes, length)
                    + _coverage(rows[rows["coder"] == coders[1]], n_themes, length))
        cells[:, p, :] = np.stack([(cell == k).sum(axis=1) for k in range(4)], axis=-1)
    return cells


def agreement_table(segments: pd.DataFrame, codebook: pd.DataFrame,
                    transcripts: Mapping[str, str] | None, *, coders: tuple[str, str],
                    unit: str = "participant", n_boot: int = N_BOOT,
                    seed: int = SEED) -> pd.DataFrame:
    """Percent agreement, Cohen's kappa and Krippendorff's alpha per theme and pooled over
    themes, with percentile bootstrap 95% intervals from resampling transcripts.

    Only transcripts both coders coded (each has at least one segment there) count. Segments
    count for the theme their code rolls up to. ``transcripts`` is needed for
    ``unit="character"`` only.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    if unit == "character" and transcripts is None:
        raise ValueError("character-level agreement needs the transcripts")
    theme_ids, theme_names, coded = _theme_indices(segments[segments["coder"].isin(coders)],
                                                   codebook)
    per_coder = [set(coded.loc[coded["coder"] == c, "participant_id"]) for c in coders]
    pids = sorted(per_coder[0] & per_coder[1], key=schema.participant_number)
    if not pids:
        raise ValueError(f"no transcript was coded by both {coders[0]} and {coders[1]}")
    cells = _cells(coded, len(theme_ids), pids, coders, unit, transcripts)
    cells = np.concatenate([cells, cells.sum(axis=0, keepdims=True)])  # last: pooled

    weights = np.random.default_rng(seed).multinomial(len(pids), np.full(len(pids), 1 / len(
        pids)), size=n_boot)
    boot = np.einsum("bp,tpk->tbk", weights, cells)
    boot_kappa, boot_alpha = kappa_from_cells(boot), alpha_from_cells(boot)

    rows = []
    names = [*theme_names, "All themes (pooled)"]
    for i, (theme_id, name) in enumerate(zip([*theme_ids, POOLED_ID], names, strict=True)):
        total = cells[i].sum(axis=0)
        kappa, alpha = _library_estimates(total)
        note = _note(total, coders)
        defined = int(np.isfinite(boot_kappa[i]).sum())
        if np.isfinite(kappa) and defined < n_boot:
            note = "; ".join(filter(None, [note, f"interval from the {defined} of {n_boot} "
                                           "resamples with variation"]))
        with np.errstate(all="ignore"):
            ci = {f"{stat}_ci_{side}": (np.nanpercentile(values[i], q) if defined else np.nan)
                  for stat, values in (("kappa", boot_kappa), ("alpha", boot_alpha))
                  for side, q in zip(("low", "high"), inference.TAIL_PERCENTILES, strict=True)}
        rows.append({
            "coders": f"{coders[0]} vs {coders[1]}",
            "theme_id": theme_id, "theme": name, "unit": unit, "n_transcripts": len(pids),
            "n_units": int(total.sum()),
            "percent_agreement": 100 * (total[0] + total[3]) / total.sum(),
            "kappa": kappa, "kappa_ci_low": ci["kappa_ci_low"],
            "kappa_ci_high": ci["kappa_ci_high"], "alpha": alpha,
            "alpha_ci_low": ci["alpha_ci_low"], "alpha_ci_high": ci["alpha_ci_high"],
            "note": note,
        })
    return with_reporting(pd.DataFrame(rows))


def distinct_resamples(n_transcripts: int) -> int:
    """How many different bootstrap resamples ``n`` transcripts allow: resampling n with
    replacement draws a multiset of size n from n, and there are C(2n - 1, n) of them (35
    for four transcripts), however many draws are made."""
    return math.comb(2 * n_transcripts - 1, n_transcripts)


def _groups(table: pd.DataFrame) -> list[str]:
    """The columns that tell one comparison from another: the unit, and the pair of coders
    where the table has one."""
    return ["unit", *[c for c in table.columns if c.startswith("coder")]]


def with_reporting(table: pd.DataFrame) -> pd.DataFrame:
    """Add what a reader needs to weigh each coefficient: the distinct resamples behind its
    interval, and, for each comparison's pooled row, the one theme it rests on where all the
    others lack variation (``pooled_driven_by``, and a note: such a figure is no headline)."""
    table = table.assign(n_distinct_resamples=table["n_transcripts"].map(distinct_resamples),
                         pooled_driven_by="")
    for _, rows in table.groupby(_groups(table), sort=False):
        pooled = rows.index[rows["theme_id"] == POOLED_ID]
        per_theme = rows[rows["theme_id"] != POOLED_ID]
        varied = per_theme[per_theme["kappa"].notna()]
        if len(pooled) and len(varied) == 1 and len(per_theme) > 1:
            i = pooled[0]
            table.loc[i, "pooled_driven_by"] = varied["theme_id"].iloc[0]
            flag = (f"driven by one theme: only {varied['theme'].iloc[0]} varies, the other "
                    f"{len(per_theme) - 1} have no variation; not a headline figure")
            table.loc[i, "note"] = "; ".join(filter(None, [flag, table.loc[i, "note"]]))
    return table


def basis(rows: pd.DataFrame) -> str:
    """What one comparison's coefficients rest on, in words for a panel or a caption."""
    first = rows.iloc[0]
    pooled = rows[rows["theme_id"] == POOLED_ID]
    return (f"{int(pooled['n_units'].iloc[0]) if len(pooled) else int(first['n_units'])} "
            f"units in {int(first['n_transcripts'])} transcripts; "
            f"{int(first['n_distinct_resamples'])} distinct resamples")


def coder_pairs(segments: pd.DataFrame, coders: pd.DataFrame) -> list[tuple[str, str]]:
    """Every pair of coders (in coders.csv order) who both coded at least one transcript."""
    coded = segments.groupby("coder")["participant_id"].agg(set)
    names = [c for c in coders["coder"] if c in coded.index]
    return [(a, b) for a, b in combinations(names, 2) if coded[a] & coded[b]]


def _theme_indices(segments: pd.DataFrame, codebook: pd.DataFrame) -> tuple[list[str], list[str],
                                                                          pd.DataFrame]:
    book = codebook.sort_values("order", kind="stable")
    theme_rows = book[book["level"] == "theme"]
    theme_ids = theme_rows["code_id"].tolist()
    theme_of = themes.ancestors(codebook)["theme_id"]
    unknown = ~segments["code_id"].isin(theme_of.index)
    if unknown.any():
        raise ValueError(f"code {segments['code_id'][unknown].iloc[0]!r} is not in the codebook")
    coded = segments.assign(theme_index=segments["code_id"].map(theme_of).map(
        {t: i for i, t in enumerate(theme_ids)}))
    return theme_ids, theme_rows["name"].tolist(), coded


def all_coders_alpha(segments: pd.DataFrame, codebook: pd.DataFrame,
                     transcripts: Mapping[str, str] | None, unit: str = "participant"
                     ) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) per theme and pooled, across every coder at once.

    A unit (a transcript, or a character of one) is pairable when at least two coders coded
    its transcript; each of them gives 1 where the theme is coded there, else 0, and coders
    who did not code the transcript are missing values, as alpha allows. No interval: the
    pairwise tables carry the bootstrap.
    """
    import krippendorff  # see _library_estimates

    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    if unit == "character" and transcripts is None:
        raise ValueError("character-level agreement needs the transcripts")
    theme_ids, names, coded = _theme_indices(segments, codebook)
    n_themes = len(theme_ids)
    per_pid = coded.groupby("participant_id")["coder"].agg(lambda c: sorted(set(c)))
    shared = sorted((p for p, cs in per_pid.items() if len(cs) >= 2), key=schema.participant_number)
    # counts[t]: (units, 2) how many coders gave 0 and 1, unit by unit.
    counts: list[list[np.ndarray]] = [[] for _ in range(n_themes)]
    for pid in shared:
        rows = coded[coded["participant_id"] == pid]
        who = per_pid[pid]
        if unit == "participant":
            ones = np.array([[t in set(rows.loc[rows["coder"] == c, "theme_index"])
                              for c in who] for t in range(n_themes)]).sum(axis=1)[:, None]
        else:
            length = len(transcripts[pid])  # type: ignore[index]
            ones = sum(_coverage(rows[rows["coder"] == c], n_themes, length).astype(int)
                       for c in who)
        for t in range(n_themes):
            counts[t].append(np.stack([len(who) - ones[t], ones[t]], axis=-1))
    out = []
    stacks = [np.concatenate(c) if c else np.zeros((0, 2), int) for c in counts]
    stacks.append(np.concatenate(stacks))
    for theme_id, name, values in zip([*theme_ids, POOLED_ID], [*names, "All themes (pooled)"],
                                      stacks, strict=True):
        zeros, ones_total = int(values[:, 0].sum()), int(values[:, 1].sum())
        if zeros == 0 or ones_total == 0:
            alpha, note = np.nan, "only one value given: no variation, alpha undefined"
        else:
            alpha = float(krippendorff.alpha(value_counts=values,
                                             level_of_measurement="nominal"))
            note = ""
        out.append({"coders": "all coders", "theme_id": theme_id, "theme": name, "unit": unit,
                    "n_transcripts": len(shared), "n_units": int(len(values)),
                    "alpha": alpha, "note": note})
    return pd.DataFrame(out)


@dataclass
class Comparison:
    """What agreement the data allow, computed: the pairwise tables per unit, alpha across
    all coders (more than two coders only), and a note for everything left out and why."""

    pairs: list[tuple[str, str]]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    all_coders: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def scope(self) -> Note:
        """One paragraph saying what was compared, and what was not and why."""
        units = " and ".join(self.tables) + (" units" if len(self.tables) > 1 else " unit")
        compared = (f"Compared: {', '.join(f'{a} and {b}' for a, b in self.pairs)}, at the "
                    f"{units}." if self.pairs else "")
        return Note(" ".join(filter(None, [compared, *self.notes])))

    def main_pair(self) -> str | None:
        """The pair sharing the most transcripts (the first in coders.csv order on a tie):
        with two coders, the only pair. Its figures are also the unprefixed numbers keys."""
        if not self.tables:
            return None
        pooled = self.tables["participant"]
        pooled = pooled[pooled["theme_id"] == POOLED_ID]
        return str(pooled.loc[pooled["n_transcripts"].idxmax(), "coders"])

    def numbers(self) -> dict[str, object]:
        """Pooled figures per pair and unit (``agreement_<unit>_<A>_<B>_<measure>``), the main
        pair's again as ``agreement_<unit>_<measure>`` (stable keys for a ledger or paper
        whatever the coders are called), alpha across all coders where computed, and the
        number of pairs compared."""
        values: dict[str, object] = {"n_coder_pairs_compared": len(self.pairs)}
        main = self.main_pair()
        if main is not None:
            values["agreement_main_pair"] = main
        for unit, table in self.tables.items():
            pooled = table[table["theme_id"] == POOLED_ID]
            for row in pooled.itertuples(index=False):
                prefixes = [f"agreement_{unit}_{row.coders.replace(' vs ', '_')}"]
                if row.coders == main:
                    prefixes.append(f"agreement_{unit}")
                for measure, column in (("pct", "percent_agreement"), ("kappa", "kappa"),
                                        ("kappa_ci_low", "kappa_ci_low"),
                                        ("kappa_ci_high", "kappa_ci_high"), ("alpha", "alpha"),
                                        ("n_transcripts", "n_transcripts")):
                    for prefix in prefixes:
                        values[f"{prefix}_{measure}"] = getattr(row, column)
        for unit, table in self.all_coders.items():
            pooled = table.set_index("theme_id").loc[POOLED_ID]
            values[f"agreement_{unit}_all_coders_alpha"] = float(pooled["alpha"])
            values[f"agreement_{unit}_all_coders_n_transcripts"] = int(pooled["n_transcripts"])
        return with_sources(values, self)


CODING_COLUMNS = (*schema.CODING_COLUMNS, "start", "end")
"""What the comparison reads of ``segments.csv``: who was coded, by whom, under what, where."""


def compare(segments: pd.DataFrame, codebook: pd.DataFrame, coders: pd.DataFrame,
            transcripts: Mapping[str, str] | None, n_boot: int = N_BOOT,
            seed: int = SEED) -> Comparison:
    """Every agreement the data allow. One coder, or no transcript two coders share, is a
    legitimate study with nothing to compare; without transcripts only the participant unit
    is computed. Each narrowing is said in ``notes``. The comparison, its tables, figure and
    numbers rest on the coding's spans (``CODING_COLUMNS``)."""
    comparison = with_sources(Comparison(coder_pairs(segments, coders)),
                              (segments, *CODING_COLUMNS))
    active = [c for c in coders["coder"] if c in set(segments["coder"])]
    idle = [c for c in coders["coder"] if c not in active]
    if idle:
        comparison.notes.append(f"{', '.join(idle)} (listed in coders.csv) coded no "
                                "transcript: left out of every comparison.")
    if not comparison.pairs:
        why = (f"only {active[0]} coded" if len(active) == 1
               else "no transcript was coded by two coders")
        comparison.notes.append(f"Nothing to compare: {why}, so there is no inter-coder "
                                "agreement to compute; no agreement table or figure is written.")
        return comparison
    units = list(UNITS)
    if transcripts is None:
        units.remove("character")
        comparison.notes.append("Character-level agreement is skipped: the data directory has "
                                f"no {schema.TRANSCRIPTS_DIR}/ folder, and characters are "
                                "counted in the transcripts. Participant-level agreement needs "
                                "none and is computed.")
    for unit in units:
        comparison.tables[unit] = pd.concat(
            [agreement_table(segments, codebook, transcripts, coders=pair, unit=unit,
                             n_boot=n_boot, seed=seed) for pair in comparison.pairs],
            ignore_index=True)
        if len(active) > 2:
            comparison.all_coders[unit] = all_coders_alpha(segments, codebook, transcripts, unit)
    return comparison


PAIR_COLUMNS = 3
"""At most this many pairs' panels side by side across the page (each then about 5 cm)."""
KEYED_ROW_IN = 0.17
"""A theme's row when the themes are numbered: a 7 pt label and the two intervals."""
CHAR_PT = 0.6 * style.MIN_FONT_PT
"""A generous width of one character of 7 pt text, for wrapping a panel's title to it."""

CAPTIONS = {
    "participant": "Agreement between coders on the presence of each theme per participant",
    "character": "Agreement between coders on each character of the double-coded transcripts",
}


def write_table(out: Outputs, comparison: Comparison, unit: str) -> SavedTable | Shown | Note:
    """Write ``agreement_<unit>`` (and ``agreement_<unit>_all_coders`` with more than two
    coders), footnoted from the comparison's sources, and return what was written, to show;
    or a note saying why there is none."""
    sources = sources_of(comparison)
    if unit not in comparison.tables:
        return Note(f"No {unit}-level agreement: see the note above.")
    table = out.table(comparison.tables[unit].round(3), f"agreement_{unit}", CAPTIONS[unit],
                      sources=sources)
    if unit not in comparison.all_coders:
        return table
    everyone = out.table(comparison.all_coders[unit].round(3), f"agreement_{unit}_all_coders",
                         f"Krippendorff's alpha across all coders at once, unit: {unit}",
                         sources=sources)
    return Shown((table, everyone))


def write_figure(out: Outputs, comparison: Comparison) -> SavedFigure | Note:
    """Write the agreement figure over every computed unit and pair and return it, to show;
    or a note when nothing was compared."""
    if not comparison.tables:
        return Note("No agreement figure: there is nothing to compare.")
    table = pd.concat(comparison.tables.values(), ignore_index=True)
    return out.figure(plot_agreement(table), "agreement", sources=sources_of(comparison))


def plot_agreement(table: pd.DataFrame) -> Figure:
    """Kappa and alpha with their 95% intervals per theme, one panel per unit (and pair of
    coders, where the table has pairs), each saying on how many units, transcripts and
    distinct resamples it rests; undefined coefficients are labelled rather than left blank,
    and a pooled row driven by one theme says so."""
    groups = _groups(table)
    panels = list(table.groupby(groups, sort=False))
    units = list(dict.fromkeys(table["unit"]))
    pairs = list(dict.fromkeys(tuple(k[1:]) if isinstance(k, tuple) else () for k, _ in panels))
    labels = list(dict.fromkeys(table["theme"]))
    wrapped, theme_key = themes.figure_labels(labels)
    # Numbered rows (a key spells the names out) are one line each and need less room.
    rows_in = (KEYED_ROW_IN * len(wrapped) if theme_key
               else sum(0.1 + 0.13 * (w.count("\n") + 1) for w in wrapped))
    # One column per unit and one row per pair of coders: the panels stay as wide however
    # many coders a study has. With one unit, the pairs sit side by side instead, up to
    # PAIR_COLUMNS to a row, so that many coders do not make a figure pages long.
    side_by_side = len(units) == 1 and len(pairs) > 1
    n_cols = min(len(pairs), PAIR_COLUMNS) if side_by_side else len(units)
    n_rows = -(-len(pairs) // n_cols) if side_by_side else len(pairs)
    fig = style.figure(style.DOUBLE_COLUMN_IN, 0.6 + n_rows * (0.6 + rows_in))
    themes.add_key(fig, theme_key)
    grid = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False)
    label_pt = max(len(line) for w in wrapped for line in w.split("\n")) * CHAR_PT
    title_chars = int((style.DOUBLE_COLUMN_IN * 72 - label_pt) / n_cols / CHAR_PT)
    y_of = {name: i for i, name in enumerate(labels)}
    alts = []
    axes = []
    for key, rows in panels:
        key = key if isinstance(key, tuple) else (key,)
        place = pairs.index(tuple(key[1:]))
        ax = (grid[divmod(place, n_cols)] if side_by_side
              else grid[place, units.index(key[0])])
        axes.append(ax)
        y = rows["theme"].map(y_of).to_numpy(dtype=float)
        for offset, stat, colour, marker, label in (
                (-0.17, "kappa", style.PALETTE[0], "o", "Cohen's kappa"),
                (0.17, "alpha", style.PALETTE[1], "s", "Krippendorff's alpha")):
            ax.hlines(y + offset, rows[f"{stat}_ci_low"], rows[f"{stat}_ci_high"], color=colour,
                      lw=1)
            ax.plot(rows[stat], y + offset, marker, ms=3.5, color=colour, label=label)
        for level in y[rows["kappa"].isna().to_numpy()]:
            ax.text(0, level, "undefined (no variation)", ha="center", va="center",
                    fontsize=style.MIN_FONT_PT, color="0.35")
        for level, theme_id in zip(y, rows["pooled_driven_by"], strict=True):
            if theme_id:
                ax.text(-1.0, level, "driven by one theme", ha="left", va="center",
                        fontsize=style.MIN_FONT_PT, color=style.PALETTE[5])
        ax.axvline(0, color="0.6", lw=0.6)
        ax.set_xlim(-1.05, 1.05)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1])
        ax.set_ylim(len(labels) - 0.5, -0.5)
        xlabel = "Coefficient (95% bootstrap interval)"
        ax.set_xlabel(textwrap.fill(xlabel, title_chars * 7 // 8) if side_by_side else xlabel)
        pair = " vs ".join(str(k) for k in key[1:])
        title = f"Unit: {key[0]}{f', {pair}' if pair else ''}\n{basis(rows)}"
        if side_by_side:
            title = "\n".join(textwrap.fill(line, title_chars) for line in title.split("\n"))
        ax.set_title(title, fontsize=style.MIN_FONT_PT)
        pooled = rows[rows["theme_id"] == POOLED_ID]
        defined = rows[(rows["theme_id"] != POOLED_ID) & rows["kappa"].notna()]
        alts.append(
            f"at the {key[0]} level{f' ({pair})' if pair else ''}, {len(defined)} of "
            f"{len(rows) - len(pooled)} themes have a defined kappa on {basis(rows)}"
            + (", and the pooled figure is driven by one theme"
               if len(pooled) and pooled["pooled_driven_by"].iloc[0] else ""))
    for row in grid:
        row[0].set_yticks(range(len(labels)), wrapped)
    for ax in grid.flat:
        if ax not in axes:
            ax.set_axis_off()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2,
               frameon=False)
    return style.describe(fig, "Interval plot of inter-coder agreement per theme: "
                          + "; ".join(alts) + ".")
