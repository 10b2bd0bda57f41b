"""Write the profiles: one HTML file per PCN and place, one per ICS and an index.

An extract may hold several ICSs: each ICS has its own page (its spine chart and funnel of its
own PCNs), each place and PCN is compared with its own ICS, and the index groups the PCNs by
ICS. The ICS of a one-ICS extract keeps the page name overview.html.

Input: the disclosure-controlled profile tables (phm.profiles.profile_tables), exactly as they
are published to the warehouse. Each chart and the table behind it are drawn from the same
rows. Aggregates only: this module never sees a patient row.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import polars as pl

from phm.contract import ETHNIC_GROUPS
from phm.folders import replacing_folder
from phm.profiles import (
    COST_BANDS,
    IMD_QUINTILES,
    LTC_BANDS,
    MULTIMORBIDITY_BANDS,
    PYRAMID_BANDS,
)
from phm.reports import charts, svg, text
from phm.reports import html as H
from phm.reports.html import Col
from phm.reports.palette import CHART_STYLE
from phm.standardised import EMERGENCY, LEVEL_3, MOVED_UP

PREFIX = "published.profile_"
Frames = Mapping[str, pl.DataFrame]


@dataclass(frozen=True)
class Area:
    kind: str  # ics, place, pcn
    code: str
    name: str
    place_code: str | None
    ics_code: str  # the ICS it belongs to (an ICS: itself); its short name on the pages
    frames: Frames  # short table name -> this area's rows
    one_ics: bool = True  # whether the extract holds one ICS only

    @property
    def file_name(self) -> str:
        if self.kind == "ics":
            return "overview.html" if self.one_ics else f"ics_{self.code}.html"
        return f"{self.kind}_{self.code}.html"


@dataclass
class ReportFiles:
    folder: Path
    pages: dict[str, Path] = field(default_factory=dict)  # file name -> path
    charts: int = 0


def _areas(tables: Mapping[str, pl.DataFrame]) -> dict[str, Area]:
    short = {k.removeprefix(PREFIX): v for k, v in tables.items() if k.startswith(PREFIX)}
    split = {
        name: (frame.partition_by("area_code", as_dict=True) if frame.height else {})
        for name, frame in short.items()
    }
    summary = short["summary"]
    one_ics = summary.filter(pl.col("area_type") == "ics").height <= 1
    out = {}
    for s in summary.iter_rows(named=True):
        frames = {
            name: parts.get((s["area_code"],), short[name].clear()) for name, parts in split.items()
        }
        out[s["area_code"]] = Area(
            s["area_type"],
            s["area_code"],
            s["area_name"],
            s["place_code"],
            s["ics_code"],
            frames,
            one_ics,
        )
    return out


def _label(area: Area) -> str:
    return {"pcn": "this PCN", "place": "this place", "ics": area.ics_code}[area.kind]


def _in_ics(areas: Mapping[str, Area], ics: str) -> dict[str, Area]:
    return {code: a for code, a in areas.items() if a.ics_code == ics}


COUNT, PCT = "count", "pct"
SECTIONS: list[tuple[str, str, str, list[Col], str]] = [
    # (key, table, title, columns, note)
    (
        "population",
        "age_sex",
        "Who is registered: age and sex",
        [
            Col("area_name", "area"),
            Col("age_band", "age band"),
            Col("sex", "sex"),
            Col("patients", "patients", COUNT),
        ],
        "",
    ),
    (
        "ethnicity",
        "ethnicity",
        "Ethnicity",
        [
            Col("area_name", "area"),
            Col("ethnic_group", "ethnic group"),
            Col("patients", "patients", COUNT),
            Col("percent", "% of patients", PCT),
        ],
        "",
    ),
    (
        "deprivation",
        "deprivation",
        "Deprivation: patients by national IMD 2019 quintile",
        [
            Col("area_name", "area"),
            Col("imd_quintile", "IMD quintile"),
            Col("patients", "patients", COUNT),
            Col("percent", "% of patients", PCT),
        ],
        "Quintile of the national Index of Multiple Deprivation 2019 of each patient's home area.",
    ),
    (
        "kaiser",
        "kaiser",
        "The Kaiser triangle: who is at risk next year",
        [
            Col("area_name", "area"),
            Col("kaiser_level", "level"),
            Col("patients", "patients", COUNT),
            Col("percent", "% of patients", PCT),
            Col("predicted_emergency_admissions", "predicted emergency admissions", COUNT),
            Col("predicted_bed_days", "predicted bed days", COUNT),
            Col("predicted_cost_gbp", "predicted cost", "gbp"),
        ],
        "Level 3: the 5% of {ics} patients at highest predicted risk (case management); level 2: "
        "the next 15% (disease and care management); level 1: the rest (supported self-care). "
        "Predicted admissions are the sum of predicted risk; bed days assume about 6 per "
        "emergency admission (NAO). Cost is the cost model's predicted secondary-care cost where "
        "it ran, otherwise about £2,400 per predicted emergency admission (NAO).",
    ),
    (
        "ltc_count",
        "ltc_count",
        "Multimorbidity: patients by number of long-term conditions",
        [
            Col("area_name", "area"),
            Col("ltc_band", "conditions"),
            Col("patients", "patients", COUNT),
            Col("percent", "%", PCT),
            Col("mean_emergency_admissions", "mean emergency adm.", "num"),
            Col("mean_elective_admissions", "mean elective adm.", "num"),
            Col("mean_ae_attendances", "mean A&E", "num"),
            Col("mean_outpatient_attendances", "mean outpatient", "num"),
            Col("mean_secondary_care_cost_gbp", "mean hospital cost", "gbp"),
            Col("emergency_admission_pct", "admitted last year", PCT),
            Col("mean_predicted_risk_pct", "mean predicted risk", PCT),
        ],
        "The same shape as the LLR five-year plan's table (chapter 3); activity is the 12 months "
        "before the snapshot.",
    ),
    (
        "prevalence",
        "prevalence",
        "Recorded prevalence of each register (crude)",
        [
            Col("area_name", "area"),
            Col("register_label", "register"),
            Col("register_patients", "on register", COUNT),
            Col("denominator_patients", "denominator", COUNT),
            Col("prevalence_pct", "prevalence", PCT),
            Col("ci_low_pct", "95% CI low", PCT),
            Col("ci_high_pct", "95% CI high", PCT),
            Col("compared_with_llr", "compared with {ics}"),
        ],
        "Crude recorded prevalence with Wilson 95% confidence intervals; denominators follow QOF "
        "(e.g. diabetes 17+, depression 18+, osteoporosis 50+). Dark pink: significantly higher "
        "than {ics}; blue: significantly lower; grey: similar. The black tick is the {ics} "
        "value.",
    ),
    (
        "multimorbidity",
        "multimorbidity",
        "Multimorbidity by age: living with two or more conditions",
        [
            Col("area_name", "area"),
            Col("age_band", "age band"),
            Col("patients", "patients", COUNT),
            Col("multimorbid_patients", "with 2+ conditions", COUNT),
            Col("multimorbid_pct", "% with 2+", PCT),
        ],
        "",
    ),
    (
        "emergency_admissions",
        "emergency_admissions",
        "Emergency admissions: observed against expected",
        [
            Col("area_name", "area"),
            Col("patients", "patients", COUNT),
            Col("observed_patients", "observed", COUNT),
            Col("expected_patients", "expected", COUNT),
            Col("observed_expected_ratio", "observed / expected", "ratio"),
            Col("limit95_low", "95% low", "ratio"),
            Col("limit95_high", "95% high", "ratio"),
            Col("limit998_low", "99.8% low", "ratio"),
            Col("limit998_high", "99.8% high", "ratio"),
            Col("funnel_position", "position"),
        ],
        "Patients scored a year earlier who had an emergency admission or died in the following "
        "12 months (observed), against the sum of their predicted risk (expected). Each dot is a "
        "PCN of {ics}; the lines are control limits around the {ics} ratio: a PCN outside the "
        "99.8% lines "
        "is unlikely to differ by chance alone.",
    ),
    (
        "cost_concentration",
        "cost_concentration",
        "Cost concentration",
        [
            Col("area_name", "area"),
            Col("population_band", "patients ranked by cost"),
            Col("patients", "patients", COUNT),
            Col("cost_share_pct", "share of cost", PCT),
            Col("cumulative_cost_share_pct", "cumulative share", PCT),
        ],
        "Secondary-care (admitted patient care) cost in the 12 months before the snapshot.",
    ),
    (
        "inequalities",
        "inequalities",
        "Inequalities: risk and admissions by deprivation and ethnicity",
        [
            Col("area_name", "area"),
            Col("dimension", "by"),
            Col("group_name", "group"),
            Col("patients", "patients", COUNT),
            Col("mean_predicted_risk_pct", "mean predicted risk", PCT),
            Col("admitted_patients", "admitted last year", COUNT),
            Col("emergency_admission_pct", "% admitted last year", PCT),
        ],
        "Crude rates, not standardised for age: part of a difference can be age.",
    ),
    (
        "tier_movement",
        "tier_movement",
        "Rising risk: movement between Kaiser levels",
        [
            Col("area_name", "area"),
            Col("from_level", "level before"),
            Col("to_level", "level now"),
            Col("patients", "patients", COUNT),
        ],
        "Yellow cells: patients who moved up into level 2 or 3 since the previous snapshot.",
    ),
]
SECTION_TABLE = {key: table for key, table, *_ in SECTIONS}


def _chart(key: str, *args) -> tuple[bytes, str] | bytes:
    """Draw one chart: the spine and trend charts take their own arguments (see charts)."""
    return _section_chart(key, *args)


def _section_chart(
    key: str, area: Area, llr: Area | None, pcn_rows: pl.DataFrame, highlight: set[str]
) -> tuple[bytes, str]:
    me, them = area.frames, (llr.frames if llr else None)
    label, ics = _label(area), area.ics_code
    other = lambda name: None if them is None else them[name]  # noqa: E731
    if key == "population":
        return (
            charts.age_sex_pyramid(me["age_sex"], other("age_sex"), PYRAMID_BANDS, label, ics),
            "Population pyramid: share of patients in each five-year age band, men left, "
            "women right" + (f", with the {ics} shape outlined." if them else "."),
        )
    if key == "ethnicity":
        return (
            charts.share_bars(
                me["ethnicity"],
                other("ethnicity"),
                "ethnic_group",
                ETHNIC_GROUPS,
                label,
                "% of patients",
                ics,
            ),
            "Bar chart: share of patients in each ethnic group" + _beside(them, ics),
        )
    if key == "deprivation":
        return (
            charts.share_bars(
                me["deprivation"],
                other("deprivation"),
                "imd_quintile",
                IMD_QUINTILES,
                label,
                "% of patients",
                ics,
            ),
            "Bar chart: share of patients in each IMD quintile" + _beside(them, ics),
        )
    if key == "kaiser":
        return (
            charts.kaiser_triangle(me["kaiser"]),
            "Kaiser triangle: levels 3, 2 and 1 with patients and predicted admissions.",
        )
    if key == "ltc_count":
        return (
            charts.ltc_bars(me["ltc_count"], other("ltc_count"), LTC_BANDS, label, ics),
            "Bar charts: share of patients and mean predicted risk by number of long-term "
            "conditions" + _beside(them, ics),
        )
    if key == "prevalence":
        return (
            charts.prevalence_dots(me["prevalence"], other("prevalence"), ics),
            "Dot plot: recorded prevalence of each register with 95% confidence intervals"
            + (f", and the {ics} value as a tick." if them else "."),
        )
    if key == "multimorbidity":
        return (
            charts.multimorbidity_bars(
                me["multimorbidity"], other("multimorbidity"), MULTIMORBIDITY_BANDS, label, ics
            ),
            "Bar chart: share with two or more conditions by age band" + _beside(them, ics),
        )
    if key == "emergency_admissions":
        target = pcn_rows["llr_ratio"][0] if pcn_rows.height else 1.0
        return (
            charts.funnel_plot(pcn_rows, highlight, target, ics),
            f"Funnel plot: observed / expected emergency admissions for every PCN of {ics} "
            "against expected, with 95% and 99.8% control limits.",
        )
    if key == "cost_concentration":
        return (
            charts.cost_concentration_bars(
                me["cost_concentration"],
                other("cost_concentration"),
                [b for b, _ in COST_BANDS],
                label,
                ics,
            ),
            "Stacked bar: share of secondary-care cost by the top 0.5%, next 4.5%, next 15% "
            "and remaining 80% of patients" + _beside(them, ics),
        )
    if key == "inequalities":
        return (
            charts.inequality_bars(
                me["inequalities"], {"deprivation": IMD_QUINTILES, "ethnic group": ETHNIC_GROUPS}
            ),
            "Bar charts: mean predicted risk and share admitted last year by IMD quintile "
            "and by ethnic group.",
        )
    if key == "tier_movement":
        return (
            charts.movement_matrix(me["tier_movement"]),
            "Grid: patients by Kaiser level at the previous snapshot and now.",
        )
    raise KeyError(key)


def _beside(them, ics: str) -> str:
    return f", beside the {ics} average." if them is not None else "."


def _cards(area: Area) -> list[tuple[str, str]]:
    s = area.frames["summary"].row(0, named=True)
    items = [
        (s["registered_patients"], "registered patients"),
        (s["level3_patients"], "in Kaiser level 3"),
        (s["level2_patients"], "in Kaiser level 2"),
        (s["ilt_cohort_patients"], "Integrated Locality Teams cohort"),
        (s["rising_risk_patients"], "moved up into level 2 or 3"),
        (s["expected_emergency_admissions"], "expected emergency admissions next year"),
    ]
    return [(H.fmt(v, "count"), t) for v, t in items]


ILT_NOTE = (
    "Integrated Locality Teams cohort: adults with five or more long-term conditions and "
    "moderate or severe frailty (eFI above 0.24). The second criterion, predicted acute "
    "cost three times the average, is not yet included."
)
ILT_NOTE_FULL = (
    "Integrated Locality Teams cohort: adults with five or more long-term conditions "
    "and moderate or severe frailty (eFI above 0.24), or predicted next-year "
    "secondary-care cost at least three times the average."
)
FINDINGS_NOTE = (
    "Ranked by the comparison after allowing for age and sex: each area's observed count "
    "against the count expected from the ICS's rates in each five-year age band by sex "
    "(indirect standardisation, 95% confidence interval by Byar's method). Crude figures are "
    "given beside, for context."
)
STANDARDISED_COLUMNS = [
    Col("indicator_label", "indicator"),
    Col("observed", "observed", COUNT),
    Col("expected", "expected", COUNT),
    Col("ratio", "ratio", "ratio"),
    Col("lower", "95% CI low", "ratio"),
    Col("upper", "95% CI high", "ratio"),
    Col("compared_with_comparator", "compared with the ICS"),
]
TREND_COLUMNS = [
    Col("area_name", "area"),
    Col("snapshot_date", "snapshot"),
    Col("indicator_label", "indicator"),
    Col("patients", "patients", COUNT),
    Col("denominator_patients", "of", COUNT),
    Col("percent", "%", PCT),
]


def _newest(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.filter(pl.col("snapshot_date") == frame["snapshot_date"].max())
        if frame.height
        else frame
    )


def _spine_indicators(pcn_rows: pl.DataFrame) -> list[tuple[str, str]]:
    """The indicators in published order (registers, then admissions, level 3, 2+)."""
    seen: dict[str, str] = {}
    for ind, label in pcn_rows.select("indicator", "indicator_label").iter_rows():
        seen.setdefault(ind, label)
    return list(seen.items())


def deprivation_groups(areas: Mapping[str, Area], groups: int = 5) -> dict[str, int]:
    """Each PCN's fifth of PCNs (1 = most deprived) by its share of patients in the most
    deprived national IMD quintile: 'PCNs of similar deprivation' share a group."""
    shares = []
    for a in areas.values():
        if a.kind == "pcn":
            f = a.frames["deprivation"].filter(pl.col("imd_quintile") == IMD_QUINTILES[0])
            v = f["percent"][0] if f.height else None
            shares.append((-(v or 0.0), a.code))
    ranked = sorted(shares)
    return {code: i * groups // max(len(ranked), 1) + 1 for i, (_, code) in enumerate(ranked)}


def _standing(area: Area, spine: pl.DataFrame, peers: set[str]) -> pl.DataFrame:
    """This PCN's standardised rows with its rank (1 = highest ratio) among every PCN and
    among the PCNs of similar deprivation."""
    ranked = spine.filter(pl.col("ratio").is_not_null()).with_columns(
        pl.col("ratio").rank("min", descending=True).over("indicator").alias("_all"),
        pl.col("ratio")
        .rank("min", descending=True)
        .over("indicator", pl.col("area_code").is_in(list(peers)))
        .alias("_peer"),
        pl.len().over("indicator").alias("_n_all"),
        pl.len().over("indicator", pl.col("area_code").is_in(list(peers))).alias("_n_peer"),
    )
    mine = ranked.filter(pl.col("area_code") == area.code).select(
        "indicator",
        (pl.col("_all").cast(pl.String) + " of " + pl.col("_n_all").cast(pl.String)).alias(
            "rank_all"
        ),
        (pl.col("_peer").cast(pl.String) + " of " + pl.col("_n_peer").cast(pl.String)).alias(
            "rank_peers"
        ),
    )
    return _newest(area.frames["standardised"]).join(mine, on="indicator", how="left")


def _like_with_like(area: Area, ctx: dict, render: Callable) -> dict:
    """The spine chart (every PCN; this PCN marked among them) and the standardised table."""
    spine, groups = ctx["spine"], ctx["deprivation_groups"]
    indicators = _spine_indicators(spine)
    if area.kind == "pcn":
        focus = {area.code}
        group = groups.get(area.code)
        peers = {c for c, g in groups.items() if g == group and c != area.code}
    elif area.kind == "place":
        focus = {
            a.code for a in ctx["areas"].values() if a.kind == "pcn" and a.place_code == area.code
        }
        peers = set()
    else:
        focus, peers = set(), set()
    alt = (
        "Spine chart: for each indicator, every PCN's age-sex standardised ratio against the "
        "ICS (centre line at 1), coloured by whether it is significantly higher, lower or similar"
        + (
            "; this PCN is the large dot, PCNs of similar deprivation are ringed."
            if area.kind == "pcn"
            else "."
        )
    )
    columns = list(STANDARDISED_COLUMNS)
    if area.kind == "pcn":
        rows = _standing(area, spine, peers | {area.code})
        columns += [
            Col("rank_all", "rank among PCNs"),
            Col("rank_peers", "rank, similar deprivation"),
        ]
        higher = rows.filter(pl.col("compared_with_comparator") == "higher").height
        lower = rows.filter(pl.col("compared_with_comparator") == "lower").height
        takeaway = (
            f"After allowing for age and sex, this PCN is significantly higher than the ICS on "
            f"{higher} of {rows.height} indicators and lower on {lower}; it is compared with all "
            f"{spine['area_code'].n_unique()} PCNs and with the {len(peers)} others in the same "
            f"fifth of PCNs by deprivation (group {group} of 5, 1 = most deprived)."
        )
    else:
        rows = spine.filter(pl.col("area_code").is_in(list(focus))) if focus else spine
        rows = pl.concat([_newest(area.frames["standardised"]), rows], how="vertical_relaxed")
        columns = [Col("area_name", "area"), *columns]
        flagged = spine.filter(pl.col("compared_with_comparator").is_in(["higher", "lower"]))
        takeaway = (
            f"After allowing for age and sex, {flagged['area_code'].n_unique()} of "
            f"{spine['area_code'].n_unique()} PCNs differ significantly from the ICS on at "
            "least one indicator."
        )
    note = (
        "Indirectly age-sex standardised ratios: observed patients against those expected "
        "from the ICS's rates in each five-year age band by sex; 1 is the ICS. A dot is dark "
        "pink where the 95% confidence interval (Byar's method) lies above 1, blue where it "
        "lies below, grey otherwise. Each ratio is shown only where its observed count is 0 or "
        "at least 8. Similar deprivation: the same fifth of PCNs ranked by their share of "
        "patients in England's most deprived IMD quintile."
    )
    if area.kind == "ics" and not area.one_ics:
        note += " The ICS's own row compares it with every ICS of the extract pooled."
    return {
        "anchor": "like_with_like",
        "title": "Compared like with like: after allowing for age and sex",
        "takeaway": takeaway,
        "images": [],
        "svgs": [
            {
                **svg.spine_chart(spine, indicators, focus, peers, alt),
                "id": area.code,
                "kind": "spine",
            }
        ],
        "note": note,
        "tables": [H.table(rows, columns, "Standardised ratios")],
    }


def _trend_panels(trend: pl.DataFrame) -> list[tuple[str, list[tuple[str, str]]]]:
    registers = (
        _newest(trend)
        .filter(pl.col("indicator").str.starts_with("ltc_"), pl.col("percent").is_not_null())
        .sort("percent", descending=True)
        .head(4)
    )
    main = list(zip(registers["indicator"], registers["indicator_label"], strict=True))
    panels = [
        ("Kaiser level 3", [(LEVEL_3, "level 3")]),
        ("emergency admission", [(EMERGENCY, "admitted")]),
        ("moved up a level", [(MOVED_UP, "moved up")]),
    ]
    return panels + ([("main registers", main)] if main else [])


def _trends(area: Area, llr: Area | None, render: Callable) -> dict:
    me = area.frames["trend"]
    them = llr.frames["trend"] if llr else None
    panels = _trend_panels(llr.frames["trend"] if llr else me)
    snapshots = me["snapshot_date"].n_unique()
    rows = me if them is None else pl.concat([me, them], how="vertical_relaxed")
    alt = (
        "Line charts over the scored snapshots: level 3, emergency admissions, moving up a "
        "level and the main registers"
        + (", this area solid and the ICS dashed." if them is not None else ".")
    )
    chart = svg.trend_chart(me, them, panels, _label(area), alt)
    return {
        "anchor": "trends",
        "title": "Trends: every scored snapshot",
        "takeaway": text.trend(me, them, snapshots),
        "images": [],
        "svgs": [{**chart, "id": area.code, "kind": "trend"}],
        "note": "Crude percentages of registered patients at each scored snapshot (moving up: "
        "of those scored at the snapshot before). Register prevalence is over all ages.",
        "tables": [H.table(rows, TREND_COLUMNS, "Trends")],
    }


def _naming_ics(columns: list[Col], note: str, ics: str) -> tuple[list[Col], str]:
    """A section's headers and note with {ics} replaced by the page's ICS short name."""
    named = [dataclasses.replace(c, header=c.header.replace("{ics}", ics)) for c in columns]
    return named, note.replace("{ics}", ics)


def _section(key, title, columns, note, area, comparator, ctx, render) -> dict:
    columns, note = _naming_ics(columns, note, area.ics_code)
    png, alt = render(key, area, comparator, ctx["pcn_rows"], ctx["highlight"])
    rows = area.frames[SECTION_TABLE[key]]
    if comparator is not None:
        rows = pl.concat([rows, comparator.frames[SECTION_TABLE[key]]], how="vertical_relaxed")
    if key == "emergency_admissions" and area.kind != "pcn":
        pcn_rows = ctx["pcn_rows"]
        wanted = list(ctx["highlight"]) or pcn_rows["area_code"].to_list()
        rows = pl.concat(
            [rows, pcn_rows.filter(pl.col("area_code").is_in(wanted))], how="vertical_relaxed"
        )
    if key == "tier_movement":
        s = area.frames["summary"].row(0, named=True)
        note = note + " " + (ILT_NOTE_FULL if s["ilt_includes_cost_criterion"] else ILT_NOTE)
    takeaway = text.TAKEAWAYS[key](
        area.frames, comparator.frames if comparator else None, area.ics_code
    )
    return {
        "anchor": key,
        "title": title,
        "takeaway": takeaway,
        "images": [H.image(png, alt)],
        "note": note,
        "tables": [H.table(rows, columns, title)],
    }


def _area_page(area: Area, llr: Area, ctx: dict, render: Callable) -> tuple[str, int]:
    """One page; `llr` is the area's own ICS and `ctx` that ICS's PCN rows, spine and groups."""
    areas = ctx["areas"]
    comparator = None if area.kind == "ics" else llr
    if area.kind == "pcn":
        highlight = {area.code}
    elif area.kind == "place":
        highlight = {
            a.code for a in areas.values() if a.kind == "pcn" and a.place_code == area.code
        }
    else:
        highlight = set()
    ctx = {**ctx, "highlight": highlight}
    if area.kind == "ics":
        findings = _overview_findings(ctx["pcn_rows"], ctx["spine"], _in_ics(areas, area.code))
    else:
        findings = text.what_this_means(area.frames, comparator.frames, area.ics_code)
    practices = []
    if area.kind == "pcn" and _WORKER.get("practices") is not None:
        practices = (
            _WORKER["practices"]
            .filter(pl.col("pcn_code") == area.code)
            .sort("practice_name")["practice_name"]
            .to_list()
        )
    members = None
    if area.kind != "pcn":
        members = _pcn_rows(
            [
                a
                for a in areas.values()
                if a.kind == "pcn"
                and (a.ics_code == area.code if area.kind == "ics" else a.place_code == area.code)
            ]
        )
    sections = []
    if ctx["spine"].height:
        sections.append(_like_with_like(area, ctx, render))
    if area.frames["trend"].height:
        sections.append(_trends(area, comparator, render))
    for key, _, title, columns, note in SECTIONS:
        sections.append(_section(key, title, columns, note, area, comparator, ctx, render))
    s = area.frames["summary"].row(0, named=True)
    where = {"pcn": "Primary Care Network", "place": "Place", "ics": "Integrated Care System"}
    title = area.name if area.kind != "ics" else f"{area.name}: overview"
    content = H.render(
        "area.html.j2",
        title=title,
        kind_words=where[area.kind],
        snapshot=f"{s['snapshot_date']:%d %B %Y}",
        ics_short=area.ics_code,
        cards=_cards(area),
        findings=findings,
        findings_note=FINDINGS_NOTE if area.kind != "ics" else "",
        practices=practices,
        pcn_rows=members,
        sections=sections,
    )
    return content, sum(len(x["images"]) + len(x.get("svgs", [])) for x in sections)


def _pcn_rows(members: list[Area]) -> list[dict]:
    rows = []
    for a in sorted(members, key=lambda a: a.name):
        s = a.frames["summary"].row(0, named=True)
        cols = (
            "registered_patients",
            "level3_patients",
            "ilt_cohort_patients",
            "rising_risk_patients",
        )
        rows.append(
            {
                "href": a.file_name,
                "name": a.name,
                "code": a.code,
                "counts": [H.fmt(s[c], "count") for c in cols],
            }
        )
    return rows


def _overview_findings(
    pcn_rows: pl.DataFrame, spine: pl.DataFrame, areas: Mapping[str, Area]
) -> list[str]:
    out = text.overview_standardised(spine)
    if pcn_rows.height:
        pos = pcn_rows["funnel_position"].drop_nulls()
        above = int(pos.str.starts_with("above").sum())
        below = int(pos.str.starts_with("below").sum())
        out.append(
            f"{above} of {pcn_rows.height} PCNs had more emergency admissions than the "
            f"risk model expected beyond the 95% limit, and {below} fewer."
        )
    shares = []
    for a in areas.values():
        if a.kind == "pcn":
            s = a.frames["summary"].row(0, named=True)
            if s["level3_patients"] is not None and s["registered_patients"]:
                shares.append((s["level3_patients"] / s["registered_patients"] * 100, a.name))
    if shares:
        hi, lo = max(shares), min(shares)
        out.append(
            f"The crude share of patients in Kaiser level 3 ranges from {lo[0]:.1f}% "
            f"({lo[1]}) to {hi[0]:.1f}% ({hi[1]})."
        )
    return out


def _index_group(ics: Area, areas: Mapping[str, Area]) -> dict:
    """One ICS on the index: its page, its places, and each place's PCNs."""
    mine = _in_ics(areas, ics.code).values()
    places = sorted((a for a in mine if a.kind == "place"), key=lambda a: a.name)
    s = ics.frames["summary"].row(0, named=True)
    return {
        "href": ics.file_name,
        "name": ics.name,
        "short": ics.code,
        "registered": H.fmt(s["registered_patients"], "count"),
        "places": [
            {
                "href": p.file_name,
                "name": p.name,
                "rows": _pcn_rows([a for a in mine if a.kind == "pcn" and a.place_code == p.code]),
            }
            for p in places
        ],
    }


def _index_page(areas: Mapping[str, Area]) -> str:
    icss = sorted((a for a in areas.values() if a.kind == "ics"), key=lambda a: a.name)
    s = icss[0].frames["summary"].row(0, named=True)
    where = icss[0].name if len(icss) == 1 else f"{len(icss)} Integrated Care Systems"
    return H.render(
        "index.html.j2",
        title=f"Neighbourhood profiles: {where}",
        subtitle=f"Snapshot {s['snapshot_date']:%d %B %Y} · one profile per PCN and place",
        icss=[_index_group(ics, areas) for ics in icss],
    )


_WORKER: dict = {}


def _pcns_of(frame: pl.DataFrame, ics: str) -> pl.DataFrame:
    if frame.height == 0:
        return frame
    return frame.filter(pl.col("area_type") == "pcn", pl.col("ics_code") == ics)


def _ics_context(tables: Mapping[str, pl.DataFrame], areas: Mapping[str, Area], ics: str):
    """What every page of one ICS compares with: its PCNs' funnel rows, spine and deprivation
    groups (PCNs are ranked and grouped among their own ICS's PCNs only)."""
    ea = tables.get(PREFIX + "emergency_admissions", pl.DataFrame())
    st = tables.get(PREFIX + "standardised", pl.DataFrame())
    return {
        "pcn_rows": _pcns_of(ea, ics),
        "spine": _newest(_pcns_of(st, ics)),
        "deprivation_groups": deprivation_groups(_in_ics(areas, ics)),
    }


def _init_worker(tables: Mapping[str, pl.DataFrame], practices: pl.DataFrame | None = None) -> None:
    areas = _areas(tables)
    _WORKER["practices"] = practices
    icss = [a.code for a in areas.values() if a.kind == "ics"]
    _WORKER.update(areas=areas, by_ics={ics: _ics_context(tables, areas, ics) for ics in icss})


def _render(code: str) -> tuple[str, str, int]:
    areas = _WORKER["areas"]
    area = areas[code]
    ctx = {"areas": areas, **_WORKER["by_ics"][area.ics_code]}
    with mpl.rc_context(CHART_STYLE):
        content, n = _area_page(area, areas[area.ics_code], ctx, _chart)
    return area.file_name, content, n


def profile_page(
    tables: Mapping[str, pl.DataFrame], code: str, practices: pl.DataFrame | None = None
) -> str:
    """The HTML of one area's page (a PCN, place or ICS code), exactly as `write_profiles`
    writes it, without drawing the others: for a notebook, or a test about one page."""
    try:
        _init_worker(tables, practices)
        if code not in _WORKER["areas"]:
            raise KeyError(f"no area {code!r} in the profile tables")
        _, content, _ = _render(code)
        return content
    finally:
        _WORKER.clear()


def write_profiles(
    tables: Mapping[str, pl.DataFrame],
    folder: Path,
    workers: int | None = None,
    practices: pl.DataFrame | None = None,
) -> ReportFiles:
    """Write index.html, one page per ICS (overview.html for a one-ICS extract, else
    ics_<code>.html), place_<code>.html and pcn_<code>.html into `folder`, replacing its
    previous pages whole (phm/folders.py): none is left of an area no longer in the extract.

    Charts are the slow part (matplotlib is single-threaded), so pages are drawn by `workers`
    processes (default: one per CPU, at most 4); spawned, not forked, as polars requires.
    """
    folder = Path(folder)
    _init_worker(tables, practices)
    areas = _WORKER["areas"]
    workers = min(4, os.cpu_count() or 1) if workers is None else workers
    result = ReportFiles(folder)
    codes = list(areas)
    if workers > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(dict(tables), practices),
        ) as pool:
            rendered = list(pool.map(_render, codes))
    else:
        rendered = [_render(code) for code in codes]
    rendered.append(("index.html", _index_page(areas), 0))
    with replacing_folder(folder) as staging:  # the previous pages stay whole until the end
        for name, content, n in rendered:
            (staging / name).write_text(content, encoding="utf-8")
            result.pages[name] = folder / name
            result.charts += n
    _WORKER.clear()
    return result
