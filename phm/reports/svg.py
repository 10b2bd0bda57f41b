"""Charts drawn as inline SVG by the templates (no script, so the pages' policy holds): the
spine chart. Geometry is computed here; `macros.html.j2` writes the markup, escaping every
label. Vector, so it is sharp in print at A4, and it costs microseconds where a matplotlib
figure with 43 labelled rows costs about a second a page."""

from __future__ import annotations

import math

import polars as pl

from phm.reports import palette as P

SIGNIFICANCE = {"higher": P.HIGHER, "lower": P.LOWER, "similar": P.SIMILAR}
SIGNIFICANCE_WORDS = {
    "higher": "significantly higher than the ICS",
    "lower": "significantly lower than the ICS",
    "similar": "similar to the ICS",
}
WIDTH, LABEL_W, RIGHT, ROW, TOP, BOTTOM = 700, 230, 20, 15, 44, 40
LO, HI = 0.25, 4.0
TICKS = (0.25, 0.5, 0.75, 1, 1.5, 2, 4)


def _x(v: float) -> float:
    v = min(max(v, LO), HI)
    span = WIDTH - LABEL_W - RIGHT
    return round(LABEL_W + (math.log(v) - math.log(LO)) / (math.log(HI) - math.log(LO)) * span, 1)


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def spine_chart(
    pcns: pl.DataFrame,
    indicators: list[tuple[str, str]],
    focus: set[str],
    peers: set[str],
    alt: str,
) -> dict:
    """Fingertips' spine chart: one row per indicator, every PCN's standardised ratio as a dot
    coloured by significance against the ICS (the centre line at 1), on a log scale; the pale
    bar is the PCNs' range, the darker one their middle half. With `focus`, the other PCNs are
    small grey dots, `peers` (similar deprivation) are ringed, the focus PCNs large dots."""
    by: dict[str, list] = {}
    for code, ind, ratio, flag in pcns.select(
        "area_code", "indicator", "ratio", "compared_with_comparator"
    ).iter_rows():
        if ratio is not None and ratio > 0:
            by.setdefault(ind, []).append((code, ratio, flag))
    rows = []
    for i, (ind, label) in enumerate(indicators):
        y = TOP + i * ROW + ROW / 2
        pts = by.get(ind, [])
        row = {"y": y, "label": label, "range": None, "dots": []}
        if pts:
            r = sorted(v for _, v, _ in pts)
            row["range"] = [_x(_quantile(r, q)) for q in (0, 0.25, 0.75, 1)]
        for code, v, flag in sorted(pts, key=lambda p: p[0] in focus):  # focus drawn last
            colour = SIGNIFICANCE.get(flag, P.SIMILAR)
            if focus and code not in focus:
                dot = {"r": 2, "fill": P.NHS_MID_GREY, "stroke": "none"}
                if code in peers:
                    dot = {"r": 4, "fill": "none", "stroke": P.BLACK}  # ringed
            elif focus:
                dot = {"r": 6, "fill": colour, "stroke": P.BLACK}
            else:
                dot = {"r": 3.5, "fill": colour, "stroke": "white"}
            row["dots"].append({"x": _x(v), **dot})
        rows.append(row)
    height = TOP + len(indicators) * ROW + BOTTOM
    legend = [
        {"fill": SIGNIFICANCE[k], "stroke": P.BLACK if focus else "white", "r": 5 if focus else 3.5,
         "text": SIGNIFICANCE_WORDS[k]}
        for k in SIGNIFICANCE
    ]  # fmt: skip
    if focus:
        legend += [
            {"fill": P.NHS_MID_GREY, "stroke": "none", "r": 2, "text": "other PCNs"},
            {"fill": "none", "stroke": P.BLACK, "r": 4, "text": "PCNs of similar deprivation"},
        ]
    per_line = 3
    for k, item in enumerate(legend):
        item["x"] = 10 + (k % per_line) * 230
        item["y"] = 12 + (k // per_line) * 16
    return {
        "width": WIDTH,
        "height": height,
        "alt": alt,
        "rows": rows,
        "legend": legend,
        "centre": _x(1.0),
        "top": TOP,
        "bottom": TOP + len(indicators) * ROW,
        "ticks": [{"x": _x(t), "text": f"{t:g}"} for t in TICKS],
        "axis_label": "standardised ratio, log scale (ICS = 1); beyond 0.25-4 drawn at the edge",
        "label_x": LABEL_W - 8,
        "colours": {"range": P.NHS_PALE_GREY, "middle": "#C3CED2", "text": P.BLACK},
    }


PANEL_W, PANEL_H, PANEL_GAP, PLOT_TOP, PLOT_LEFT = 165, 120, 10, 22, 30
LINE_COLOURS = (P.NHS_BLUE, P.NHS_DARK_PINK, P.NHS_AQUA_GREEN, P.NHS_ORANGE)


def _nice_top(v: float) -> float:
    """A round axis top at or above v (1, 2 or 5 times a power of ten)."""
    if v <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(v))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= v)


def trend_chart(area: pl.DataFrame, ics: pl.DataFrame | None, panels, area_label, alt) -> dict:
    """Small multiples over the scored snapshots: each panel one indicator (or the main
    registers), this area solid, the ICS dashed; percentages from published.profile_trend."""
    dates = sorted(
        set(area["snapshot_date"]) | set(ics["snapshot_date"] if ics is not None else [])
    )
    values: dict[tuple, float] = {}
    for who, frame in (("area", area), ("ics", ics)):
        if frame is None:
            continue
        for d, ind, v in frame.select("snapshot_date", "indicator", "percent").iter_rows():
            if v is not None:
                values[(who, ind, d)] = v
    out_panels, legend = [], []
    plot_w, plot_h = PANEL_W - PLOT_LEFT - 8, PANEL_H - PLOT_TOP - 22
    for k, (title, indicators) in enumerate(panels):
        x0 = k * (PANEL_W + PANEL_GAP)
        vs = [values.get((w, i, d)) for w in ("area", "ics") for i, _ in indicators for d in dates]
        top = _nice_top(max([v for v in vs if v is not None] or [1.0]) * 1.05)

        def at(i: int, v: float, x0=x0, top=top) -> tuple[float, float]:
            step = plot_w / max(len(dates) - 1, 1)
            x = x0 + PLOT_LEFT + (i * step if len(dates) > 1 else plot_w / 2)
            return round(x, 1), round(PLOT_TOP + plot_h * (1 - v / top), 1)

        lines = []
        for j, (ind, label) in enumerate(indicators):
            colour = LINE_COLOURS[j % len(LINE_COLOURS)]
            for who, dash in (("area", ""), ("ics", "4 3")):
                pts = [at(i, values[(who, ind, d)]) for i, d in enumerate(dates)
                       if (who, ind, d) in values]  # fmt: skip
                if pts:
                    c = colour if (who == "area" or len(indicators) > 1) else P.NHS_MID_GREY
                    lines.append({"points": " ".join(f"{x},{y}" for x, y in pts), "dots": pts,
                                  "colour": c, "dash": dash})  # fmt: skip
            if len(indicators) > 1:
                legend.append({"colour": colour, "text": label, "dash": ""})
        out_panels.append(
            {
                "title": title,
                "x0": x0,
                "lines": lines,
                "yticks": [{"y": at(0, t * top)[1], "text": f"{t * top:g}"} for t in (0, 0.5, 1)],
                "xticks": [{"x": at(i, 0)[0], "text": f"{d:%Y}"} for i, d in enumerate(dates)],
                "left": x0 + PLOT_LEFT,
                "right": x0 + PLOT_LEFT + plot_w,
                "bottom": PLOT_TOP + plot_h,
            }
        )
    legend = [
        {"colour": P.NHS_BLUE, "text": area_label, "dash": ""},
        *([{"colour": P.NHS_MID_GREY, "text": "ICS (dashed)", "dash": "4 3"}] if ics is not None
          else []),
        *legend,
    ]  # fmt: skip
    for k, item in enumerate(legend):
        item["x"], item["y"] = 10 + (k % 4) * 175, PANEL_H + 12 + (k // 4) * 15
    return {
        "width": len(panels) * (PANEL_W + PANEL_GAP),
        "height": PANEL_H + 20 + ((len(legend) + 3) // 4) * 15,
        "alt": alt,
        "panels": out_panels,
        "legend": legend,
        "text": P.BLACK,
        "grid": P.NHS_PALE_GREY,
    }
