"""Plain-English words from the published figures: one-line takeaways and "what this means".

Everything here reads the disclosure-controlled tables only, so no sentence can quote a
number the warehouse does not hold. A figure that was suppressed is left unsaid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from phm.contract import QOF_REGISTERS
from phm.profiles import IMD_QUINTILES, OVER_65, UNDER_65

Frames = Mapping[str, pl.DataFrame]


def n(v) -> str:
    return "fewer than 8" if v is None else f"{int(v):,}"


def pct(v) -> str:
    return "not shown" if v is None else f"{float(v):.1f}%"


def _get(frame: pl.DataFrame, column: str, **where):
    f = frame
    for k, v in where.items():
        f = f.filter(pl.col(k) == v)
    return f[column].item() if f.height == 1 else None


def _share(num, den):
    return None if num is None or not den else num / den * 100


def _vs(llr_value, ics: str) -> str:
    """The comparator's figure in brackets, named by its ICS's short name."""
    return f" ({ics} {pct(llr_value)})"


def population(me: Frames, llr: Frames | None, ics: str) -> str:
    s = me["summary"].row(0, named=True)
    p65 = _share(s["aged_65_plus_patients"], s["registered_patients"])
    out = f"{n(s['registered_patients'])} registered patients; {pct(p65)} are aged 65 or over"
    if llr:
        t = llr["summary"].row(0, named=True)
        out += _vs(_share(t["aged_65_plus_patients"], t["registered_patients"]), ics)
    return out + "."


def ethnicity(me: Frames, llr: Frames | None, ics: str) -> str:
    f = me["ethnicity"].filter(pl.col("percent").is_not_null()).sort("percent", descending=True)
    if f.height == 0:
        return "Too few patients to describe the ethnic mix."
    top = f.row(0, named=True)
    out = f"The largest ethnic group is {top['ethnic_group']} ({pct(top['percent'])})"
    if llr:
        j = f.join(
            llr["ethnicity"].select("ethnic_group", pl.col("percent").alias("llr")),
            on="ethnic_group",
        ).with_columns((pl.col("percent") - pl.col("llr")).alias("d"))
        j = j.filter(pl.col("ethnic_group") != "Unknown").sort(pl.col("d").abs(), descending=True)
        if j.height:
            r = j.row(0, named=True)
            out += (
                f"; the biggest difference from {ics} is {r['ethnic_group']}: "
                f"{pct(r['percent'])} here against {pct(r['llr'])}"
            )
    return out + "."


def deprivation(me: Frames, llr: Frames | None, ics: str) -> str:
    v = _get(me["deprivation"], "percent", imd_quintile=IMD_QUINTILES[0])
    out = f"{pct(v)} of patients live in the most deprived fifth of areas in England"
    if llr:
        out += _vs(_get(llr["deprivation"], "percent", imd_quintile=IMD_QUINTILES[0]), ics)
    return out + "."


def kaiser(me: Frames, llr: Frames | None, ics: str) -> str:
    r = me["kaiser"].filter(pl.col("kaiser_level") == 3)
    if r.height == 0:
        return "No patients are in level 3."
    r = r.row(0, named=True)
    cost = (
        "an unknown cost"
        if r["predicted_cost_gbp"] is None
        else (
            f"about £{r['predicted_cost_gbp'] / 1e6:,.1f} million"
            if r["predicted_cost_gbp"] >= 1e6
            else f"about £{r['predicted_cost_gbp']:,.0f}"
        )
    )
    return (
        f"Level 3 holds {n(r['patients'])} patients ({pct(r['percent'])}), expected to have "
        f"about {n(r['predicted_emergency_admissions'])} emergency admissions, "
        f"{n(r['predicted_bed_days'])} bed days and {cost} next year."
    )


def ltc_count(me: Frames, llr: Frames | None, ics: str) -> str:
    f = me["ltc_count"]
    mm = f.filter(~pl.col("ltc_band").is_in(["0", "1", "all"]))["percent"].drop_nulls().sum()
    hi = _get(f, "mean_predicted_risk_pct", ltc_band="8plus")
    lo = _get(f, "mean_predicted_risk_pct", ltc_band="0")
    out = f"{mm:.1f}% of patients live with two or more conditions"
    if llr:
        t = llr["ltc_count"]
        two_or_more = t.filter(~pl.col("ltc_band").is_in(["0", "1", "all"]))["percent"]
        out += f" ({ics} {two_or_more.drop_nulls().sum():.1f}%)"
    if hi is not None and lo is not None:
        out += f"; predicted risk rises from {pct(lo)} with none to {pct(hi)} with eight or more"
    return out + "."


def prevalence(me: Frames, llr: Frames | None, ics: str) -> str:
    if not llr:
        f = me["prevalence"].sort("prevalence_pct", descending=True, nulls_last=True)
        top = f.head(3)["register_label"].to_list()
        return "The most common registers are " + ", ".join(top) + "."
    f = me["prevalence"]
    higher = f.filter(pl.col("compared_with_llr") == "higher")["register_label"].to_list()
    lower = f.filter(pl.col("compared_with_llr") == "lower")["register_label"].to_list()
    if not higher and not lower:
        return f"No register differs significantly from the {ics} average."
    parts = []
    if higher:
        parts.append(f"significantly higher than {ics}: {_list(higher)}")
    if lower:
        parts.append(f"lower: {_list(lower)}")
    return "Recorded prevalence is " + "; ".join(parts) + "."


def _list(items: list[str], most: int = 4) -> str:
    shown = items[:most]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def multimorbidity(me: Frames, llr: Frames | None, ics: str) -> str:
    f = me["multimorbidity"]
    u = _get(f, "multimorbid_patients", age_band=UNDER_65)
    o = _get(f, "multimorbid_patients", age_band=OVER_65)
    return f"{n(u)} people under 65 and {n(o)} aged 65 or over live with two or more conditions."


def emergency(me: Frames, llr: Frames | None, ics: str) -> str:
    f = me["emergency_admissions"]
    if f.height == 0:
        return "Observed admissions need two scored snapshots a year apart."
    r = f.row(0, named=True)
    out = (
        f"{n(r['observed_patients'])} patients had an emergency admission (or died) in the "
        f"year to {r['snapshot_date']:%d %B %Y}; the model expected "
        f"{n(r['expected_patients'])}"
    )
    if r["observed_expected_ratio"] is not None:
        out += f" (observed / expected {r['observed_expected_ratio']:.2f}"
        out += f", {r['funnel_position']})" if llr else ")"
    return out + "."


def cost(me: Frames, llr: Frames | None, ics: str) -> str:
    v = _get(me["cost_concentration"], "cumulative_cost_share_pct", population_band="next 4.5%")
    out = (
        f"The 5% of patients with the highest cost account for {pct(v)} of last year's "
        "secondary-care cost"
    )
    if llr:
        out += _vs(
            _get(
                llr["cost_concentration"], "cumulative_cost_share_pct", population_band="next 4.5%"
            ),
            ics,
        )
    return out + "."


def inequalities(me: Frames, llr: Frames | None, ics: str) -> str:
    f = me["inequalities"].filter(pl.col("dimension") == "deprivation")
    most = _get(f, "mean_predicted_risk_pct", group_name=IMD_QUINTILES[0])
    least = _get(f, "mean_predicted_risk_pct", group_name=IMD_QUINTILES[4])
    if most is None or least is None:
        return "Too few patients in the most or least deprived fifth to compare them."
    return (
        f"Mean predicted risk is {pct(most)} in the most deprived fifth against "
        f"{pct(least)} in the least deprived."
    )


def movement(me: Frames, llr: Frames | None, ics: str) -> str:
    s = me["summary"].row(0, named=True)
    if s["previous_snapshot_date"] is None:
        return f"The ILT cohort is {n(s['ilt_cohort_patients'])} patients."
    return (
        f"{n(s['rising_risk_patients'])} patients moved up into level 2 or 3 since "
        f"{s['previous_snapshot_date']:%d %B %Y} (rising risk); the Integrated Locality "
        f"Teams cohort is {n(s['ilt_cohort_patients'])} patients."
    )


TAKEAWAYS = {
    "population": population,
    "ethnicity": ethnicity,
    "deprivation": deprivation,
    "kaiser": kaiser,
    "ltc_count": ltc_count,
    "prevalence": prevalence,
    "multimorbidity": multimorbidity,
    "emergency_admissions": emergency,
    "cost_concentration": cost,
    "inequalities": inequalities,
    "tier_movement": movement,
}


@dataclass(frozen=True)
class Finding:
    score: float  # how far from the ICS: larger is said first
    text: str


def _newest(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height == 0:
        return frame
    return frame.filter(pl.col("snapshot_date") == frame["snapshot_date"].max())


def _crude_beside(me: Frames, llr: Frames, indicator: str, ics: str) -> str:
    """The crude figures for an indicator, to stand beside (never lead) a standardised one."""
    if indicator.startswith("ltc_"):
        a = _get(me["prevalence"], "prevalence_pct", register=indicator)
        b = _get(llr["prevalence"], "prevalence_pct", register=indicator)
    else:
        trend = "trend" in me and "trend" in llr
        a = _get(_newest(me["trend"]), "percent", indicator=indicator) if trend else None
        b = _get(_newest(llr["trend"]), "percent", indicator=indicator) if trend else None
    if a is None or b is None:
        return ""
    return f"; crude {pct(a)} against {pct(b)} across {ics}"


def _standardised_findings(me: Frames, llr: Frames, ics: str) -> list[Finding]:
    found = []
    s = _newest(me.get("standardised", pl.DataFrame()))
    if s.height == 0:
        return found
    flagged = s.filter(pl.col("compared_with_comparator").is_in(["higher", "lower"]))
    for r in flagged.iter_rows(named=True):
        more = r["compared_with_comparator"] == "higher"
        ind, label = r["indicator"], r["indicator_label"]
        if ind.startswith("ltc_"):  # a QOF register, or another condition recorded (CMS)
            what = f"on the {label} register" if ind in QOF_REGISTERS else f"recorded with {label}"
        else:
            what = {
                "kaiser_level_3": "in Kaiser level 3 (very high risk)",
                "emergency_admissions": "admitted as an emergency in the last year",
                "two_or_more_conditions": "living with two or more long-term conditions",
            }.get(ind, label)
        found.append(
            Finding(
                # the standardised comparisons always lead: 10 + distance on the log scale
                10 + abs(math.log(r["ratio"])) if r["ratio"] else 10,
                f"After allowing for age and sex, {'more' if more else 'fewer'} patients are "
                f"{what} than the ICS's rates would give: {n(r['observed'])} against "
                f"{n(r['expected'])} expected (ratio {r['ratio']:.2f}, 95% CI "
                f"{r['lower']:.2f}-{r['upper']:.2f}){_crude_beside(me, llr, ind, ics)}.",
            )
        )
    return found


def what_this_means(me: Frames, llr: Frames | None, ics: str, most: int = 5) -> list[str]:
    """The largest differences from the ICS after allowing for age and sex, largest first, in
    plain words; then the risk model's observed-against-expected admissions; the area's
    deprivation last, as context (it is not a difference a PCN can act on). `llr` is the
    area's own ICS, `ics` its short name."""
    if not llr:
        return []
    found = _standardised_findings(me, llr, ics)
    e = me["emergency_admissions"]
    if e.height and e["funnel_position"][0] and e["funnel_position"][0] != "within limits":
        r = e.row(0, named=True)
        word = "more" if r["funnel_position"].startswith("above") else "fewer"
        found.append(
            Finding(
                2.0 if "99.8" in r["funnel_position"] else 1.0,
                f"Emergency admissions last year were {word} than the risk model "
                f"expected (observed / expected {r['observed_expected_ratio']:.2f}, "
                f"{r['funnel_position']} of the funnel plot).",
            )
        )
    a = _get(me["deprivation"], "percent", imd_quintile=IMD_QUINTILES[0])
    b = _get(llr["deprivation"], "percent", imd_quintile=IMD_QUINTILES[0])
    if a is not None and b and abs(a - b) >= 5:
        found.append(
            Finding(
                0.0,
                f"Context: {pct(a)} of patients live in the most deprived "
                f"fifth of England, against {pct(b)} across {ics}.",
            )
        )
    found.sort(key=lambda f: -f.score)
    said = [f.text for f in found[:most]]
    if not said:
        said.append(
            "After allowing for age and sex, this area is close to the ICS on every "
            "indicator in this profile."
        )
    return said


def overview_standardised(spine: pl.DataFrame, most: int = 3) -> list[str]:
    """The indicators on which most PCNs differ from the ICS after allowing for age and sex."""
    if spine.height == 0:
        return []
    flagged = (
        spine.filter(pl.col("compared_with_comparator").is_in(["higher", "lower"]))
        .group_by("indicator_label")
        .agg(
            (pl.col("compared_with_comparator") == "higher").sum().alias("higher"),
            (pl.col("compared_with_comparator") == "lower").sum().alias("lower"),
            pl.len().alias("n"),
        )
        .sort("n", "indicator_label", descending=[True, False])
        .head(most)
    )
    if flagged.height == 0:
        return ["After allowing for age and sex, no PCN differs significantly from the ICS."]
    parts = [
        f"{r['indicator_label']} ({r['higher']} higher, {r['lower']} lower)"
        for r in flagged.iter_rows(named=True)
    ]
    return [
        "After allowing for age and sex, the indicators on which most PCNs differ "
        "significantly from the ICS: " + "; ".join(parts) + "."
    ]


def trend(me: pl.DataFrame, ics: pl.DataFrame | None, snapshots: int) -> str:
    """How level 3 and admissions moved from the first scored snapshot to the newest."""
    if snapshots < 2:
        return "Trends need two or more scored snapshots."
    out = []
    for indicator, words in (("kaiser_level_3", "level 3"), ("emergency_admissions", "admitted")):
        f = me.filter(pl.col("indicator") == indicator, pl.col("percent").is_not_null()).sort(
            "snapshot_date"
        )
        if f.height >= 2:
            first, last = f.row(0, named=True), f.row(-1, named=True)
            out.append(
                f"{words} {pct(first['percent'])} in {first['snapshot_date']:%Y} and "
                f"{pct(last['percent'])} in {last['snapshot_date']:%Y}"
            )
    if not out:
        return f"{snapshots} scored snapshots; too few patients to show the trend."
    return f"Over {snapshots} scored snapshots: " + "; ".join(out) + "."
