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
                    dot = {"r": 4, "fill": P.NHS_MID_GREY, "stroke": P.BLACK}
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
            {"fill": P.NHS_MID_GREY, "stroke": P.BLACK, "r": 4, "text": "similar deprivation"},
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
