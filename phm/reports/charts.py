"""The profile charts, drawn with matplotlib from the disclosure-controlled tables.

Each function takes this area's rows of one published table (and its own ICS's rows beside
them, labelled with the ICS's short name `ics`) and returns PNG bytes. Figures are built with
the object API (no pyplot state); text is never parsed as mathtext.

Each kind of chart reuses one figure per process (built once, emptied before the next page):
building axes and their ticks cost about as much as drawing them, 29 pages x 11 charts.
Emptying removes every data artist and puts back what a chart changes on a fresh axes
(scale, locators, limits, inversion, autoscaling, colour cycle); whatever else a chart sets
(labels, spines, tick style) it sets identically on every page, so pages are byte for byte
what fresh figures draw.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: charts are written to files

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from phm.reports import palette as P  # noqa: E402

DPI = 96
WIDE = (7.0, 3.0)
MARGINS = {"left": 0.2, "right": 0.97, "top": 0.95, "bottom": 0.17, "wspace": 0.45}


_FIGURES: dict[tuple, tuple[Figure, object]] = {}  # (chart kind, size, layout) -> figure, axes


def _figure(kind: str, size=WIDE, ncols=1, margins=None) -> tuple[Figure, object]:
    """This kind of chart's figure, empty: built on first use, reused after."""
    key = (kind, size, ncols, tuple(sorted((margins or {}).items())))
    if key not in _FIGURES:
        fig = Figure(figsize=size, dpi=DPI)
        FigureCanvasAgg(fig)  # kept: its renderer (and text-size cache) serves every page
        fig.subplots_adjust(**{**MARGINS, **(margins or {})})
        _FIGURES[key] = fig, fig.subplots(1, ncols)
    fig, axes = _FIGURES[key]
    for ax in fig.axes:
        _empty(ax)
    return fig, axes


def _empty(ax) -> None:
    """Remove the previous page's artists and undo what charts change on a fresh axes."""
    for container in list(ax.containers):
        container.remove()
    for artist in [*ax.patches, *ax.lines, *ax.collections, *ax.texts, *ax.images]:
        artist.remove()
    if ax.legend_ is not None:
        ax.legend_.remove()
    ax.set_xscale("linear")  # also puts back the default tick locators and formatters
    ax.set_yscale("linear")
    ax.xaxis.set_inverted(False)
    ax.yaxis.set_inverted(False)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_autoscale_on(True)
    ax.dataLim.set_points(Bbox.null().get_points())
    ax.ignore_existing_data_limits = True
    ax.set_prop_cycle(None)


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.canvas.print_png(buf, pil_kwargs={"compress_level": 1, "optimize": False})
    return buf.getvalue()


def _values(frame: pl.DataFrame, column: str) -> np.ndarray:
    return frame[column].cast(pl.Float64).fill_null(0.0).to_numpy()


def _pct_of_total(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total * 100 if total else counts


def _grouped_barh(ax, labels, area, llr, area_label, xlabel, ics):
    y = np.arange(len(labels))
    h = 0.38 if llr is not None else 0.7
    ax.barh(
        y - (h / 2 if llr is not None else 0), area, height=h, color=P.THIS_AREA, label=area_label
    )
    if llr is not None:
        ax.barh(y + h / 2, llr, height=h, color=P.COMPARATOR, label=ics)
        ax.legend(loc="lower right")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)


def age_sex_pyramid(
    area: pl.DataFrame, llr: pl.DataFrame | None, bands, area_label, ics: str
) -> bytes:
    """Percent of the population in each five-year band, women right, men left; the ICS
    outlined."""
    fig, ax = _figure("age_sex", (6.0, 3.6))

    def shares(frame):
        got = {
            (b, s): v or 0 for b, s, v in frame.select("age_band", "sex", "patients").iter_rows()
        }
        counts = {s: np.array([got.get((b, s), 0) for b in bands], dtype=float) for s in ("F", "M")}
        total = counts["F"].sum() + counts["M"].sum()
        return {s: v / total * 100 if total else v for s, v in counts.items()}

    mine = shares(area)
    y = np.arange(len(bands))
    ax.barh(y, mine["F"], height=0.85, color=P.THIS_AREA, label=f"{area_label}: women")
    ax.barh(y, -mine["M"], height=0.85, color=P.NHS_LIGHT_BLUE, label=f"{area_label}: men")
    if llr is not None:
        theirs = shares(llr)
        for sign, key in ((1, "F"), (-1, "M")):
            ax.step(
                sign * np.r_[theirs[key], theirs[key][-1]],
                np.r_[y, y[-1] + 1] - 0.5,
                where="post",
                color=P.BLACK,
                linewidth=1.0,
                label=ics if key == "F" else None,
            )
    ax.set_yticks(y[::2], [bands[i] for i in range(0, len(bands), 2)])
    lim = max(1.0, float(np.max(np.r_[mine["F"], mine["M"]])) * 1.15)
    ax.set_xlim(-lim, lim)
    ax.set_xticks(ax.get_xticks(), [f"{abs(t):.0f}%" for t in ax.get_xticks()])
    ax.set_xlim(-lim, lim)
    ax.axvline(0, color=P.NHS_DARK_GREY, linewidth=0.6)
    ax.set_xlabel("share of registered patients (men left, women right)")
    ax.legend(loc="upper right", fontsize=7)
    return png(fig)


def share_bars(area, llr, column, labels, area_label, xlabel, ics: str) -> bytes:
    fig, ax = _figure("share", (6.0, 0.35 * len(labels) + 1.0))
    _grouped_barh(
        ax,
        labels,
        _by_key(area, column, labels, "percent"),
        _by_key(llr, column, labels, "percent"),
        area_label,
        xlabel,
        ics,
    )
    return png(fig)


def kaiser_triangle(area: pl.DataFrame) -> bytes:
    """The Kaiser triangle: level 3 at the top, each band labelled with patients and beds."""
    fig, ax = _figure("kaiser", (6.0, 3.2), margins={"left": 0.02, "right": 0.98})
    bands = ((3, 2.0, 3.0), (2, 1.0, 2.0), (1, 0.0, 1.0))
    counts = _cells(area, ["kaiser_level"], "patients")
    admissions = _cells(area, ["kaiser_level"], "predicted_emergency_admissions")
    for level, lo, hi in bands:
        half = lambda h: 1.5 * (1 - h / 3)  # noqa: E731
        ax.add_patch(
            Polygon(
                [(-half(lo), lo), (half(lo), lo), (half(hi), hi), (-half(hi), hi)],
                closed=True,
                facecolor=P.KAISER[level],
                edgecolor="white",
                linewidth=2,
            )
        )
        patients, adm = counts.get(level), admissions.get(level)
        ax.text(
            0,
            (lo + hi) / 2 - (0.12 if level == 3 else 0),
            f"Level {level}",
            ha="center",
            va="center",
            color="white",
            fontweight="bold",
        )
        ax.text(
            1.75,
            (lo + hi) / 2,
            f"{_n(patients)} patients\n{_n(adm)} predicted emergency\nadmissions next year",
            ha="left",
            va="center",
            fontsize=8,
            color=P.BLACK,
        )
    ax.set_xlim(-1.6, 4.3)  # room for the longest label (checked at A4 width)
    ax.set_ylim(0, 3.05)
    ax.set_axis_off()
    return png(fig)


def _grouped_bar(ax, labels, area, llr, area_label, ics):
    """Vertical bars for this area, beside its ICS's when there is a comparator."""
    x = np.arange(len(labels))
    w = 0.4 if llr is not None else 0.7
    ax.bar(
        x - (w / 2 if llr is not None else 0), area, width=w, color=P.THIS_AREA, label=area_label
    )
    if llr is not None:
        ax.bar(x + w / 2, llr, width=w, color=P.COMPARATOR, label=ics)
    ax.set_xticks(x, labels)


def _by_key(frame: pl.DataFrame | None, key: str, keys, value: str) -> np.ndarray | None:
    """`value` for each of `keys` in column `key` (0 where absent or suppressed)."""
    if frame is None:
        return None
    sums: dict = {}
    for k, v in frame.select(key, value).iter_rows():
        sums[k] = sums.get(k, 0) + (v or 0)
    return np.array([sums.get(k, 0) for k in keys])


def _cells(frame: pl.DataFrame, keys: list[str], value: str) -> dict:
    """`value` by its row's `keys` (None where suppressed): one pass over a few rows, where a
    filter per cell would run a polars query each (thousands per run)."""
    return {tuple(k) if len(k) > 1 else k[0]: v for *k, v in frame.select(*keys, value).iter_rows()}


def _n(v) -> str:
    return "<8" if v is None else f"{int(v):,}"


def ltc_bars(area, llr, bands, area_label, ics: str) -> bytes:
    """Patients by number of conditions (left) and mean predicted risk (right)."""
    fig, (left, right) = _figure("ltc", (7.0, 2.8), ncols=2)
    labels = [b.replace("plus", "+") for b in bands]
    for ax, col, ylabel in (
        (left, "percent", "% of patients"),
        (right, "mean_predicted_risk_pct", "mean predicted risk, %"),
    ):
        _grouped_bar(
            ax,
            labels,
            _by_key(area, "ltc_band", bands, col),
            _by_key(llr, "ltc_band", bands, col),
            area_label,
            ics,
        )
        ax.set_xlabel("long-term conditions")
        ax.set_ylabel(ylabel)
    left.legend(loc="upper right")
    return png(fig)


def prevalence_dots(area: pl.DataFrame, llr: pl.DataFrame | None, ics: str) -> bytes:
    """Each register's prevalence with its 95% CI; its ICS's value as a black tick."""
    n = area.height
    fig, ax = _figure(
        "prevalence", (6.5, 0.24 * n + 0.9), margins={"left": 0.3}
    )  # long register names
    y = np.arange(n)
    p = _values(area, "prevalence_pct")
    lo = p - _values(area, "ci_low_pct")
    hi = _values(area, "ci_high_pct") - p
    flags = area["compared_with_llr"].to_list()
    colours = [{"higher": P.HIGHER, "lower": P.LOWER}.get(f, P.SIMILAR) for f in flags]
    ax.errorbar(p, y, xerr=np.vstack([lo, hi]), fmt="none", ecolor=colours, elinewidth=1.2)
    ax.scatter(p, y, color=colours, s=18, zorder=3)
    if llr is not None:
        ref = dict(zip(llr["register"], llr["prevalence_pct"], strict=True))
        ax.scatter(
            [ref.get(r) or np.nan for r in area["register"]],
            y,
            marker="|",
            s=120,
            color=P.BLACK,
            label=ics,
            zorder=4,
        )
        ax.legend(loc="lower right")
    ax.set_yticks(y, area["register_label"].to_list())
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("recorded prevalence, % (log scale above 1%)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    return png(fig)


def multimorbidity_bars(area, llr, bands, area_label, ics: str) -> bytes:
    fig, ax = _figure("multimorbidity", (6.0, 2.6))
    _grouped_bar(
        ax,
        bands,
        _by_key(area, "age_band", bands, "multimorbid_pct"),
        _by_key(llr, "age_band", bands, "multimorbid_pct"),
        area_label,
        ics,
    )
    ax.set_xlabel("age band")
    ax.set_ylabel("% with 2+ conditions")
    ax.legend(loc="upper left")
    return png(fig)


def funnel_plot(pcns: pl.DataFrame, highlight: set[str], target: float, ics: str) -> bytes:
    """Observed / expected for every PCN of one ICS against expected, with 95% and 99.8%
    limits around the ICS's ratio."""
    fig, ax = _figure("funnel", (6.0, 3.4))
    shown = pcns.filter(
        pl.col("observed_expected_ratio").is_not_null() & pl.col("expected_patients").is_not_null()
    )
    e = _values(shown, "expected_patients")
    r = _values(shown, "observed_expected_ratio")
    top = max(float(e.max()) if e.size else 10.0, 10.0) * 1.1
    grid = np.linspace(max(top / 200, 1.0), top, 200)
    for z, style, label in ((1.959964, "--", "95% limits"), (3.090232, "-", "99.8% limits")):
        ax.plot(
            grid,
            target * (1 + z / np.sqrt(grid)),
            style,
            color=P.NHS_DARK_GREY,
            linewidth=0.9,
            label=label,
        )
        ax.plot(
            grid,
            np.clip(target * (1 - z / np.sqrt(grid)), 0, None),
            style,
            color=P.NHS_DARK_GREY,
            linewidth=0.9,
        )
    ax.axhline(target, color=P.BLACK, linewidth=0.8, label=f"{ics} ratio")
    mine = np.array([c in highlight for c in shown["area_code"]], dtype=bool)
    ax.scatter(e[~mine], r[~mine], s=16, color=P.COMPARATOR, label="other PCNs", zorder=3)
    if mine.any():
        ax.scatter(
            e[mine],
            r[mine],
            s=40,
            color=P.THIS_AREA,
            edgecolor=P.BLACK,
            label="this area" if mine.sum() > 1 else "this PCN",
            zorder=4,
        )
    lo = float(min(r.min() if r.size else 1, target * 0.6))
    hi = float(max(r.max() if r.size else 1, target * 1.4))
    ax.set_ylim(max(0.0, lo - 0.05), hi + 0.05)
    ax.set_xlim(0, top)
    ax.set_xlabel("expected patients with an emergency admission (sum of predicted risk)")
    ax.set_ylabel("observed / expected")
    ax.legend(loc="upper right", fontsize=7, ncols=2)
    return png(fig)


def cost_concentration_bars(area, llr, bands, area_label, ics: str) -> bytes:
    """Share of secondary-care cost held by each slice of the population, stacked to 100%."""
    rows = [(area_label, area)] + ([(ics, llr)] if llr is not None else [])
    # below the bars, in inches: tick labels, the axis label and the bands' key (the key was
    # drawn below the figure's edge, and the axis label cut in half)
    below, height = 0.95, 0.55 * len(rows) + 1.35
    fig, ax = _figure("cost", (6.5, height), margins={"bottom": below / height})
    for i, (_, frame) in enumerate(rows):
        left = 0.0
        shares = _by_key(frame, "population_band", bands, "cost_share_pct")
        for band, colour, v in zip(bands, P.COST_BANDS, shares, strict=True):
            ax.barh(
                i,
                v,
                left=left,
                color=colour,
                edgecolor="white",
                label=band if i == 0 else None,
                height=0.6,
            )
            if v >= 8:
                ax.text(
                    left + v / 2,
                    i,
                    f"{v:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if colour != P.NHS_PALE_GREY else P.BLACK,
                )
            left += v
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of last year's secondary-care cost")
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 0.02),
        bbox_transform=fig.transFigure,
        ncols=4,
        fontsize=7,
    )
    return png(fig)


def inequality_bars(area: pl.DataFrame, groups_by_dim: dict[str, tuple]) -> bytes:
    """Mean predicted risk and observed admissions by IMD quintile and by ethnic group."""
    fig, axes = _figure(
        "inequalities", (7.0, 3.2), ncols=2, margins={"top": 0.8, "left": 0.2, "wspace": 0.9}
    )
    for ax, (dim, groups) in zip(axes, groups_by_dim.items(), strict=True):
        f = area.filter(pl.col("dimension") == dim)
        present = [g for g in groups if g in set(f["group_name"])]
        y = np.arange(len(present))
        ax.barh(
            y - 0.2,
            _by_key(f, "group_name", present, "mean_predicted_risk_pct"),
            height=0.4,
            color=P.THIS_AREA,
            label="predicted risk, next year",
        )
        ax.barh(
            y + 0.2,
            _by_key(f, "group_name", present, "emergency_admission_pct"),
            height=0.4,
            color=P.NHS_ORANGE,
            label="admitted, last year",
        )
        ax.set_yticks(y, present)
        ax.invert_yaxis()
        ax.set_title(dim)
        ax.set_xlabel("% of patients")
    # the colours' key, in view above both panels (it was below the figure's edge)
    axes[0].legend(loc="lower left", bbox_to_anchor=(0.0, 1.12), ncols=2, fontsize=8)
    return png(fig)


def movement_matrix(area: pl.DataFrame) -> bytes:
    """Patients by Kaiser level at the previous snapshot (rows) and now (columns)."""
    fig, ax = _figure("movement", (5.0, 2.6))
    rows = ("3", "2", "1", "not scored")
    cols = (3, 2, 1)
    grid = np.full((len(rows), len(cols)), np.nan)
    text = [["" for _ in cols] for _ in rows]
    cells = _cells(area, ["from_level", "to_level"], "patients")
    for i, fr in enumerate(rows):
        for j, to in enumerate(cols):
            v = cells.get((fr, to), 0)
            text[i][j] = _n(v)
            up = fr != "not scored" and to > int(fr)
            grid[i, j] = 2 if up else (1 if fr != "not scored" and to == int(fr) else 0)
    cmap = matplotlib.colors.ListedColormap([P.NHS_PALE_GREY, "#C8D9EE", P.NHS_WARM_YELLOW])
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=2, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(cols)), [f"level {c} now" for c in cols])
    ax.set_yticks(
        range(len(rows)),
        [f"level {r} before" if r[0].isdigit() else "new / not scored" for r in rows],
    )
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    return png(fig)
