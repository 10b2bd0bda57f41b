"""Profiles that compare like with like: age-sex standardised ratios and trends over snapshots.

Indirect standardisation (PHE / OHID technical guidance): an area's expected count is the sum,
over five-year age bands by sex, of its patients times the rate in its comparator (the ICS it
belongs to; an ICS against every ICS of the extract). The ratio is observed / expected, with a
95% confidence interval by Byar's approximation to the Poisson. A young PCN with the ICS's
age-specific prevalence of a register then has a ratio near 1, whatever its crude prevalence.

Written once with Narwhals: the patient rows may be a polars LazyFrame (the embedded engine) or
any Narwhals-supported frame (PySpark); the first aggregation to one row per area, snapshot,
age band and sex is the only step that touches patient rows, and what comes back is small.
"""

from __future__ import annotations

import narwhals as nw
import polars as pl

from phm.contract import QOF_REGISTERS, ltc_label
from phm.disclosure import DisclosurePolicy
from phm.engines import collect, distinct, lazy
from phm.extract import practice_areas

Z95 = 1.959964
AGE_BAND_WIDTH, TOP_AGE_BAND = 5, 18  # 0-4 .. 85-89, and 90+ as band 18
AREA_LEVELS = ("ics", "place", "pcn")
# Indicators beyond the registers (each a 0/1 per patient, so a ratio counts people).
EMERGENCY, LEVEL_3, TWO_OR_MORE, MOVED_UP = (
    "emergency_admissions",
    "kaiser_level_3",
    "two_or_more_conditions",
    "moved_up_a_level",
)
REGISTERED = "registered_patients"
LABELS = {
    EMERGENCY: "emergency admission in the last year",
    LEVEL_3: "Kaiser level 3 (very high risk)",
    TWO_OR_MORE: "two or more long-term conditions",
    MOVED_UP: "moved up a Kaiser level since the previous snapshot",
    REGISTERED: "registered patients",
}
_CELL = ["ics_code", "ics_name", "place_code", "place_name", "pcn_code", "pcn_name"]


def indicator_label(indicator: str) -> str:
    return LABELS.get(indicator) or ltc_label(indicator)


def standardised_indicators(ltc_columns) -> tuple[str, ...]:
    """Every configured condition, then admissions, level 3 and multimorbidity."""
    return (*ltc_columns, EMERGENCY, LEVEL_3, TWO_OR_MORE)


def trend_indicators(ltc_columns) -> tuple[str, ...]:
    """The key indicators over time: the QOF registers among the configured conditions."""
    registers = tuple(c for c in ltc_columns if c in QOF_REGISTERS)
    return (REGISTERED, LEVEL_3, EMERGENCY, MOVED_UP, *registers)


def history_rows(patient_risk, extract):
    """Every scored snapshot's patients with their practice, age, sex, conditions, admissions
    and Kaiser level now and at the previous scored snapshot (restricted; lazy where it can be).
    The practice's areas are joined to the cells, not to every patient (age_sex_cells).

    `patient_risk` is restricted.patient_risk (any Narwhals frame); `extract` the read extract.
    """
    ltcs = list(extract.ltc_columns)
    risk = lazy(patient_risk)  # lazy: joining every snapshot's rows never holds them all at once
    dates = distinct(risk, "snapshot_date")
    tiers = risk.select("patient_id", "snapshot_date", nw.col("kaiser_tier").cast(nw.Int64))
    parts = []
    for i, d in enumerate(dates):
        if d not in extract.snapshots:
            continue
        snap = lazy(extract.snapshots[d]).select(
            "patient_id", "practice_code", "age", "sex", "ltc_count",
            "emergency_admissions_12m", *ltcs,
        )  # fmt: skip
        now = tiers.filter(nw.col("snapshot_date") == d).select("patient_id", "kaiser_tier")
        rows = snap.join(now, on="patient_id", how="inner")
        if i > 0:
            before = tiers.filter(nw.col("snapshot_date") == dates[i - 1]).select(
                "patient_id", nw.col("kaiser_tier").alias("from_level")
            )
            rows = rows.join(before, on="patient_id", how="left")
        else:
            rows = rows.with_columns(nw.lit(None, nw.Int64).alias("from_level"))
        parts.append(rows.with_columns(nw.lit(d, nw.Date).alias("snapshot_date")))
    return nw.concat(parts, how="vertical").to_native() if parts else None


def five_year_band(age):
    """Five-year age bands as codes: 0 (0-4) .. 17 (85-89), 18 (90+); a polars or Narwhals
    expression (phm.profiles.PYRAMID_BANDS labels them)."""
    return (age // AGE_BAND_WIDTH).clip(0, TOP_AGE_BAND)


def moved_up() -> nw.Expr:
    """A higher Kaiser level than at the previous scored snapshot (false where not scored
    then): so into level 2 or 3, the profiles' rising risk."""
    moved = ~nw.col("from_level").is_null() & (nw.col("kaiser_tier") > nw.col("from_level"))
    return moved.fill_null(False)


def _flags(ltc_columns) -> dict[str, nw.Expr]:
    """Each indicator as a 0/1 integer per patient."""
    flags = {c: nw.col(c).cast(nw.Int64) for c in ltc_columns}
    flags[EMERGENCY] = (nw.col("emergency_admissions_12m") >= 1).cast(nw.Int64)
    flags[LEVEL_3] = (nw.col("kaiser_tier") == 3).cast(nw.Int64)
    flags[TWO_OR_MORE] = (nw.col("ltc_count") >= 2).cast(nw.Int64)
    flags[MOVED_UP] = moved_up().cast(nw.Int64)
    return flags


def age_sex_cells(history, ltc_columns, practices) -> pl.DataFrame:
    """Patients and each indicator's count per PCN, snapshot, five-year age band and sex: the
    one pass over patient rows. Small (areas x snapshots x 19 bands x sexes); polars out.

    Counted per practice first, then summed to its PCN (whole numbers: exact in any order), so
    the six area names are joined to a few thousand cells, not carried by every patient."""
    flags = _flags(ltc_columns)
    band = five_year_band(nw.col("age")).cast(nw.Int64)
    counts = ["_n", "_scored_before", *flags]
    per_practice = (
        nw.from_native(history)
        .with_columns(band.alias("age_band"))
        .group_by("practice_code", "snapshot_date", "age_band", "sex")
        .agg(
            nw.len().cast(nw.Int64).alias("_n"),
            (~nw.col("from_level").is_null()).cast(nw.Int64).sum().alias("_scored_before"),
            *(f.sum().alias(name) for name, f in flags.items()),
        )
    )
    if isinstance(per_practice, nw.LazyFrame):
        per_practice = collect(per_practice)
    areas = nw.from_native(practice_areas(practices))
    cells = (
        nw.from_native(_to_polars(per_practice))
        .join(areas, on="practice_code", how="left")
        .group_by(*_CELL, "snapshot_date", "age_band", "sex")
        .agg(*(nw.col(c).sum() for c in counts))
    )
    return cells.to_native()


def _to_polars(frame) -> pl.DataFrame:
    native = frame.to_native()
    return native if isinstance(native, pl.DataFrame) else pl.from_arrow(frame.to_arrow())


def _long(cells, indicators, keep: list[str] | None = None) -> nw.DataFrame:
    """One row per cell and indicator: patients (_n) and observed (_o).

    Sorted by the cell's key first: expected counts are sums of non-integer floats, whose last
    bits depend on the order of addition, and the cells come from a group-by in no set order.
    Without it two runs on the same extract published different bits."""
    return (
        nw.from_native(cells)
        .sort(*_CELL, "snapshot_date", "age_band", "sex")
        .unpivot(
            on=list(indicators),
            index=[*_CELL, "snapshot_date", "age_band", "sex", "_n", *(keep or [])],
            variable_name="indicator",
            value_name="_o",
        )
        .with_columns(nw.col("_o").cast(nw.Float64), nw.col("_n").cast(nw.Float64))
    )


def _area_level(frame: nw.DataFrame, kind: str, values: list[str]) -> nw.DataFrame:
    """Sum `values` up to one level of area (ics, place or pcn) per snapshot and indicator."""
    code, name = f"{kind}_code", f"{kind}_name"
    keys = [code, name, "snapshot_date", "indicator"]
    if kind != "ics":
        keys.insert(0, "ics_code")
    out = frame.group_by(*keys).agg(*(nw.col(v).sum() for v in values))
    if kind == "ics":
        out = out.with_columns(nw.col(code).alias("ics_code"))
    return out.select(
        nw.lit(kind).alias("area_type"),
        nw.col(code).alias("area_code"),
        nw.col(name).alias("area_name"),
        "ics_code",
        "snapshot_date",
        "indicator",
        *values,
    )


def byar_interval(observed: nw.Expr, expected: nw.Expr, z: float = Z95):
    """Byar's 95% limits for observed / expected (PHE technical guidance); lower 0 at O = 0."""
    o1 = observed + 1
    upper = o1 * (1 - 1 / (9 * o1) + z / (3 * o1.sqrt())) ** 3 / expected
    lower_pos = observed * (1 - 1 / (9 * observed) - z / (3 * observed.sqrt())) ** 3 / expected
    lower = nw.when(observed > 0).then(lower_pos).otherwise(nw.lit(0.0))
    return lower, upper


def standardised_table(cells: pl.DataFrame, ltc_columns, policy: DisclosurePolicy) -> pl.DataFrame:
    """published.profile_standardised from the age-sex cells (see phm/warehouse/tables.py)."""
    indicators = standardised_indicators(ltc_columns)
    long = _long(cells, indicators)
    strata = ["snapshot_date", "indicator", "age_band", "sex"]
    # The comparator's rates: each ICS's for its places and PCNs; all ICSs pooled for an ICS.
    ics_rate = long.group_by("ics_code", *strata).agg(
        (nw.col("_o").sum() / nw.col("_n").sum()).alias("_rate")
    )
    all_rate = long.group_by(*strata).agg(
        (nw.col("_o").sum() / nw.col("_n").sum()).alias("_all_rate")
    )
    long = (
        long.join(ics_rate, on=["ics_code", *strata], how="left")
        .join(all_rate, on=strata, how="left")
        .with_columns(
            (nw.col("_n") * nw.col("_rate")).alias("_e"),
            (nw.col("_n") * nw.col("_all_rate")).alias("_e_all"),
        )
    )
    ics = _area_level(long, "ics", ["_o", "_e_all"]).rename({"_e_all": "_e"})
    ics = ics.with_columns(nw.lit("all").alias("comparator_code"))
    below = [
        _area_level(long, kind, ["_o", "_e"]).with_columns(
            nw.col("ics_code").alias("comparator_code")
        )
        for kind in ("place", "pcn")
    ]
    raw = nw.concat([ics.select(below[0].columns), *below], how="vertical")
    o, e = nw.col("_o"), nw.col("_e")
    lower, upper = byar_interval(o, e)
    shown = e > 0
    if policy.enabled:  # a ratio would disclose a small count: withheld where O is 1-7
        shown = shown & ((o == 0) | (o >= policy.suppress_below))
    ratio = nw.when(shown).then(o / e)
    low = nw.when(shown).then(lower)
    high = nw.when(shown).then(upper)
    out = raw.with_columns(
        ratio.alias("ratio"),
        low.alias("lower"),
        high.alias("upper"),
    ).with_columns(
        nw.when(nw.col("lower") > 1)
        .then(nw.lit("higher"))
        .when(nw.col("upper") < 1)
        .then(nw.lit("lower"))
        .when(~nw.col("ratio").is_null())
        .then(nw.lit("similar"))
        .alias("compared_with_comparator"),
    )
    return _finish(
        out,
        indicators,
        [policy.count(pl.col(f"_{c[0]}")).alias(c) for c in ("observed", "expected")],
        [
            "comparator_code", "indicator", "indicator_label", "observed", "expected",
            "ratio", "lower", "upper", "compared_with_comparator",
        ],
    )  # fmt: skip


def _finish(out: nw.DataFrame, indicators, counts: list[pl.Expr], columns) -> pl.DataFrame:
    """Disclosure control of the counts, labels, the published column order and the profiles'
    sort (ICS, places, PCNs): on the small aggregate, back in one process."""
    frame = _to_polars(out).with_columns(
        *counts,
        pl.col("indicator")
        .replace_strict({i: indicator_label(i) for i in indicators})
        .alias("indicator_label"),
    )
    kind = pl.col("area_type").replace_strict({k: i for i, k in enumerate(AREA_LEVELS)})
    order = pl.col("indicator").replace_strict({v: i for i, v in enumerate(indicators)})
    return frame.sort(kind, "area_code", "snapshot_date", order).select(
        "area_type", "area_code", "area_name", "ics_code", "snapshot_date", *columns
    )


def trend_table(cells: pl.DataFrame, ltc_columns, policy: DisclosurePolicy) -> pl.DataFrame:
    """published.profile_trend: the key indicators at every scored snapshot (crude)."""
    indicators = trend_indicators(ltc_columns)
    with_total = nw.from_native(cells).with_columns(nw.col("_n").alias(REGISTERED))
    long = _long(with_total, indicators, ["_scored_before"]).with_columns(
        nw.col("_scored_before").cast(nw.Float64)
    )
    # moving up is counted among the patients scored at both snapshots
    long = long.with_columns(
        nw.when(nw.col("indicator") == MOVED_UP)
        .then(nw.col("_scored_before"))
        .otherwise(nw.col("_n"))
        .alias("_d")
    )
    parts = [_area_level(long, kind, ["_o", "_d"]) for kind in AREA_LEVELS]
    raw = nw.concat(parts, how="vertical")
    o, d = pl.col("_o"), pl.col("_d")
    percent = pl.when((d > 0) & (pl.col("indicator") != REGISTERED)).then(policy.ratio(o, d) * 100)
    return _finish(
        raw,
        indicators,
        [
            percent.round(3).alias("percent"),
            policy.count(o).alias("patients"),
            policy.count(d).alias("denominator_patients"),
        ],
        ["indicator", "indicator_label", "patients", "denominator_patients", "percent"],
    )
