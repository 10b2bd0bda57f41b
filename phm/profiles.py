"""Neighbourhood (PCN) profiles: patient rows in, disclosure-controlled aggregates out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import narwhals as nw
import polars as pl

from phm.cohorts import adult, frail_multimorbid
from phm.columns import beside
from phm.contract import ETHNIC_GROUPS, ltc_label
from phm.disclosure import DisclosurePolicy
from phm.engines import alike, collect_small, distinct, held, lazy, row_count, to_polars
from phm.exact import MONEY_DECIMALS, RISK_DECIMALS, exact_sum, from_units, in_units
from phm.extract import practice_areas
from phm.outcomes import OUTCOME, label_snapshot
from phm.standardised import (
    age_sex_cells,
    five_year_band,
    history_rows,
    moved_up,
    standardised_table,
    trend_table,
)

LTC_BANDS = ("0", "1", "2", "3", "4", "5", "6", "7", "8plus")


def ltc_band_code(count):
    """0..7 as themselves, 8 or more as 8 (a polars or Narwhals expression): LTC_BANDS[code]."""
    return count.clip(upper_bound=8)


def ltc_band(count: pl.Expr) -> pl.Expr:
    """0..7 as themselves, 8 or more as `8plus` (the LLR plan's table), as text."""
    return _label(ltc_band_code(count), LTC_BANDS)


def _label(code: pl.Expr, labels: tuple[str, ...] | dict[int, str]) -> pl.Expr:
    """A band's code (as counted from patient rows) as its label, on the small aggregate."""
    mapping = labels if isinstance(labels, dict) else dict(enumerate(labels))
    return code.replace_strict(mapping, return_dtype=pl.String)


def pcn_profile(patient_risk, practices, policy: DisclosurePolicy):
    """One row per PCN per scored snapshot (see PCN_PROFILE in phm/warehouse/tables.py).

    Written once with Narwhals: polars or PySpark frames in, the same kind out (an eager one
    sorted by snapshot, ICS and PCN). The practices may be a polars frame whatever the
    engine of `patient_risk`."""
    keys = ["ics_code", "pcn_code"]
    pcns = (
        nw.from_native(practice_areas(alike(patient_risk, practices)))
        .select(*keys, "ics_name", "pcn_name", "place_code", "place_name")
        .unique(subset=keys, keep="any")
    )
    band = ltc_band_code(nw.col("ltc_count"))
    bands = [(label, band == code) for code, label in enumerate(LTC_BANDS)]
    rows = nw.from_native(patient_risk)
    if "ics_code" not in rows.columns:  # scored rows from before the extract carried an ICS
        rows = rows.join(pcns.select(keys), on="pcn_code", how="left")
    raw = (
        rows.group_by(*keys, "snapshot_date")
        .agg(
            nw.len().alias("registered_population"),
            *(
                (nw.col("kaiser_tier") == t).cast(nw.Int64).sum().alias(f"level{t}_patients")
                for t in (3, 2, 1)
            ),
            # halves up on every engine (polars' round() rounds them to even, Spark's up)
            (exact_sum(nw.col("risk"), RISK_DECIMALS) + 0.5)
            .floor()
            .alias("expected_emergency_admissions"),
            *(cond.cast(nw.Int64).sum().alias(f"ltc_{b}_patients") for b, cond in bands),
        )
        .join(pcns, on=keys, how="left")
    )
    counts = [c for c in raw.columns if c.endswith("_patients")] + [
        "registered_population",
        "expected_emergency_admissions",
    ]
    out = raw.with_columns([policy.count(nw.col(c)).alias(c) for c in counts])
    if isinstance(out, nw.DataFrame):
        out = out.sort("snapshot_date", *keys)
    return out.to_native()


# --------------------------------------------------------------------------------------------
# The neighbourhood profile tables (issue 5): every chart of the HTML profiles is drawn from
# one of these frames, each computed once for every area (each ICS, each place, each PCN), put
# through disclosure control, published to the warehouse and rendered from that same frame.
# An extract may hold several ICSs (practice_areas): the ICS level is one row per ics_code,
# every row carries its ics_code, and an area is compared with its own ICS, never a pool.
# This part touches patient rows (restricted.patient_risk joined to the extract); what it
# returns is aggregate only, apart from `case_finding_list`, which is restricted.
# --------------------------------------------------------------------------------------------

AREA_KEYS = ("area_type", "area_code", "area_name", "snapshot_date")
AREA_HEAD = ("area_type", "area_code", "area_name", "ics_code", "snapshot_date")  # published

# Calibration-targets section 6: assumptions until a predicted-cost model is available.
BED_DAYS_PER_ADMISSION = 6.0
COST_PER_ADMISSION_GBP = 2400.0

PYRAMID_BANDS = tuple(f"{a}-{a + 4}" for a in range(0, 90, 5)) + ("90+",)
MULTIMORBIDITY_BANDS = ("0-17", "18-44", "45-64", "65-74", "75-84", "85+")
UNDER_65, OVER_65 = "all under 65", "all 65 and over"
IMD_QUINTILES = ("1 most deprived", "2", "3", "4", "5 least deprived", "unknown")
COST_BANDS = (("top 0.5%", 0.005), ("next 4.5%", 0.05), ("next 15%", 0.20), ("remaining 80%", 1.0))
# QOF register denominators: the youngest age counted (all ages where not listed).
REGISTER_MIN_AGE = {
    "ltc_diabetes": 17,
    "ltc_ckd": 18,
    "ltc_depression": 18,
    "ltc_epilepsy": 18,
    "ltc_osteoporosis": 50,
    "ltc_rheumatoid_arthritis": 16,
    "ltc_obesity": 18,
}
Z95, Z998 = 1.959964, 3.090232


def multimorbidity_band(age):
    """MULTIMORBIDITY_BANDS[code]: how many of the bands' lower edges the age has reached."""
    code = nw.lit(0)
    for edge in (18, 45, 65, 75, 85):
        code = code + (age >= edge).cast(nw.Int64)
    return code


def imd_quintile(decile):
    """IMD_QUINTILES[code]: deciles 1-2 are quintile 1 (code 0) .. 9-10 quintile 5 (code 4);
    a missing decile is code 5, unknown."""
    return ((decile + 1) // 2 - 1).fill_null(len(IMD_QUINTILES) - 1)


def _count(condition: nw.Expr) -> nw.Expr:
    """Patients for whom `condition` holds (Spark sums no booleans: counted as 0/1)."""
    return condition.cast(nw.Int64).sum()


@dataclass(frozen=True)
class ProfileInputs:
    """The patient rows the profile tables are computed from (restricted; never published).

    Frames of one engine: eager polars on the embedded engine (an aligned frame of each
    snapshot, its columns shared, not copied), PySpark DataFrames on Spark."""

    # latest scored snapshot: extract columns + risk, tier, ILT flag, and from_level (the tier
    # at the previous scored snapshot) where there is one; areas are joined to the per-practice
    # aggregates (by_area), not carried by every patient
    current: object
    snapshot_date: date
    previous_date: date | None  # the scored snapshot a year (or so) before, if any
    movement: object | None  # practice_code, from_level, to_level per patient
    outcomes: object | None  # previous snapshot: risk and outcome (null: unknown) per patient
    ltc_columns: tuple[str, ...]
    ilt_cost_criterion: bool  # whether the ILT flag includes the predicted-cost criterion
    areas: pl.DataFrame  # practice_code with its PCN, place and ICS (small)
    # every scored snapshot's patients and indicator counts per PCN, age band and sex
    # (phm.standardised.age_sex_cells): aggregate, for the standardised ratios and trends
    cells: pl.DataFrame


AREA_COLUMNS = ("ics_code", "ics_name", "pcn_code", "pcn_name", "place_code", "place_name")
# Each area level: its type, the columns naming it, and the columns it is grouped by (every
# level by its ICS, so that each row carries the ICS it belongs to).
LEVELS = (
    ("ics", "ics_code", "ics_name", ["ics_code", "ics_name"]),
    ("place", "place_code", "place_name", ["ics_code", "place_code", "place_name"]),
    ("pcn", "pcn_code", "pcn_name", ["ics_code", "pcn_code", "pcn_name"]),
)


def _areas(practices: pl.DataFrame) -> pl.DataFrame:
    """practice_code with its PCN, place and ICS (one ICS, LLR, without the ICS columns), each
    area column an Enum: a byte or two a patient where a string took 16 or more, so that the ten
    million rows of a region carry their areas cheaply (Spark is sent them as text)."""
    areas = practice_areas(practices).select("practice_code", *AREA_COLUMNS)
    return areas.with_columns(
        pl.col(c).cast(pl.Enum(sorted(areas[c].drop_nulls().unique()))) for c in AREA_COLUMNS
    )


def _with_date(frame, when: date):
    return nw.from_native(frame).with_columns(nw.lit(when, nw.Date).alias("snapshot_date"))


def profile_inputs(
    patient_risk,
    extract,
    *,
    predicted_cost=None,
    ilt_cohort=None,
) -> ProfileInputs:
    """Join the latest scored snapshot to the extract; pair it with the previous one.

    Written once with Narwhals: `patient_risk` (restricted.patient_risk) and the extract's
    snapshots and deaths are polars frames or PySpark DataFrames, all of one engine; the
    practices are a small polars frame. `predicted_cost` (patient_id, predicted_cost) and
    `ilt_cohort` (patient_id, the Integrated Locality Teams cohort with its cost criterion:
    restricted.integrated_locality_cohort) come from the cost model when it ran: frames of the
    same engine, or polars frames.
    Without a cohort, the first criterion is computed here (adults, 5+ LTCs, eFI > 0.24) and
    the profile says the cost criterion is missing.

    Each per-patient frame is the snapshot with columns set beside it (phm.columns.beside):
    on polars, not a joined copy (at ten times LLR a copy of the snapshot is over a gigabyte).
    """
    ltcs = tuple(extract.ltc_columns)
    dates = distinct(patient_risk, "snapshot_date")
    latest = dates[-1]
    previous = dates[-2] if len(dates) > 1 else None
    # first, while no other patient rows of this step are held: its joins are the step's
    # largest transient (a hash table of every scored patient), its result small
    cells = age_sex_cells(history_rows(patient_risk, extract), ltcs, extract.practices)
    areas = _areas(extract.practices)
    risk = nw.from_native(patient_risk)
    # the columns first, then the rows: a filter copies what it keeps
    scored = (
        risk.select("snapshot_date", "patient_id", "risk", "risk_rank", "kaiser_tier")
        .filter(nw.col("snapshot_date") == latest)
        .drop("snapshot_date")
    )
    current = beside(
        extract.snapshots[latest], scored.to_native(), "patient_id", required="kaiser_tier"
    )
    current = _with_date(current, latest).to_native()
    if predicted_cost is not None and row_count(predicted_cost):
        cost = nw.from_native(predicted_cost).select("patient_id", "predicted_cost")
        current = beside(current, cost.to_native(), "patient_id")
    ilt_cost = ilt_cohort is not None  # the cost model ran: its cohort, even if empty
    if ilt_cost:
        cohort = (
            nw.from_native(ilt_cohort)
            .select("patient_id")
            .unique()
            .with_columns(nw.lit(True).alias("ilt_cohort"))
        )
        flagged = nw.from_native(beside(current, cohort.to_native(), "patient_id"))
        current = flagged.with_columns(nw.col("ilt_cohort").fill_null(False)).to_native()
    else:
        current = (
            nw.from_native(current)
            .with_columns((adult() & frail_multimorbid()).alias("ilt_cohort"))
            .to_native()
        )
    movement = outcomes = None
    if previous is not None:
        before = risk.select("snapshot_date", "patient_id", "kaiser_tier", "risk").filter(
            nw.col("snapshot_date") == previous
        )
        from_level = before.select("patient_id", nw.col("kaiser_tier").alias("from_level"))
        current = beside(current, from_level.to_native(), "patient_id")
        if latest in extract.snapshots and previous in extract.snapshots:
            labelled = label_snapshot(
                nw.from_native(extract.snapshots[previous])
                .select("patient_id", "practice_code")
                .to_native(),
                extract.snapshots[latest],
                extract.deaths,
                previous,
                latest,
            )
            risk_then = before.select("patient_id", "risk").to_native()
            # every patient of the previous snapshot, OUTCOME null where unknown (the table
            # counts the known ones): a filtered copy of the rows would cost a region a gigabyte
            outcomes = beside(labelled.rows, risk_then, "patient_id", required="risk")
            outcomes = held(_with_date(outcomes, latest).to_native())
    current = held(current)  # read by every table: on Spark, joined once
    if previous is not None:
        movement = (
            nw.from_native(current)
            .select(
                "patient_id",
                "practice_code",
                "snapshot_date",
                nw.col("kaiser_tier").alias("to_level"),
                "from_level",
            )
            .to_native()
        )
    return ProfileInputs(
        current, latest, previous, movement, outcomes, ltcs, ilt_cost, areas, cells
    )


def _grouped(rows, level, dims: list[str], aggs: list[nw.Expr]):
    """One area level's aggregation of patient rows (a LazyFrame, not yet run): each row
    carries its area as text and the ics_code of the ICS the area belongs to."""
    kind, code, name, keys = level
    return (
        rows.group_by("snapshot_date", *keys, *dims)
        .agg(*aggs)
        .select(
            nw.lit(kind).alias("area_type"),
            nw.col(code).cast(nw.String).alias("area_code"),
            nw.col(name).cast(nw.String).alias("area_name"),
            nw.col("ics_code").cast(nw.String),
            "snapshot_date",
            *dims,
            nw.exclude("snapshot_date", *{*keys, "ics_code"}, *dims),
        )
    )


@dataclass(frozen=True)
class Total:
    """An exact sum of a real-valued column (phm/exact.py): whole units added per practice,
    then up to each area, then divided back, so that it is the same in any order."""

    name: str
    value: nw.Expr
    decimals: int


@dataclass(frozen=True)
class Mean(Total):
    """An exact mean of the column's non-null values: its Total over their count."""


def _per_practice(measures) -> list[nw.Expr]:
    """Each measure as sums that add up across practices: counts as they are, a Total as its
    whole units, a Mean as its units and its count."""
    aggs = []
    for m in measures:
        if isinstance(m, Total):
            aggs.append(in_units(m.value, m.decimals).sum().alias(m.name))
            if isinstance(m, Mean):
                aggs.append(m.value.count().alias(f"{m.name}__n"))
        else:
            aggs.append(m)
    return aggs


def _finished(frame: pl.DataFrame, measures) -> pl.DataFrame:
    """Totals and means back from whole units (phm.exact.from_units)."""
    done = [
        from_units(pl.col(m.name), m.decimals)
        / (pl.col(f"{m.name}__n") if isinstance(m, Mean) else 1)
        for m in measures
        if isinstance(m, Total)
    ]
    means = [f"{m.name}__n" for m in measures if isinstance(m, Mean)]
    return frame.with_columns(done).drop(means) if done else frame


@dataclass(frozen=True)
class PracticeSums:
    """Each measure summed per practice, snapshot and dims: a few thousand rows at a region,
    whole numbers (a Total or Mean in its units), so they add up exactly in any order."""

    rows: pl.DataFrame  # snapshot_date, practice_code, *dims, a sum per measure
    dims: tuple[str, ...]
    measures: tuple

    def regrouped(self, **dims: pl.Expr) -> PracticeSums:
        """The same sums over other dims, each an expression of the present ones (a literal
        sums over them all: an "all" row), without another pass over the patient rows."""
        keys = ("snapshot_date", "practice_code", *self.dims)
        sums = [c for c in self.rows.columns if c not in keys]
        rows = self.rows.group_by(
            "snapshot_date", "practice_code", *(e.alias(k) for k, e in dims.items())
        ).agg(pl.col(sums).sum())
        return PracticeSums(rows, tuple(dims), self.measures)

    def stacked(self, other: PracticeSums) -> PracticeSums:
        return PracticeSums(
            pl.concat([self.rows, other.rows.select(self.rows.columns)], how="vertical_relaxed"),
            self.dims,
            self.measures,
        )

    def by_area(self, areas: pl.DataFrame) -> pl.DataFrame:
        """The practices' sums added up to each ICS, place and PCN, stacked; every row carries
        the ics_code of the ICS its area belongs to. Means and Totals back from units."""
        keys = ("snapshot_date", "practice_code", *self.dims)
        sums = [c for c in self.rows.columns if c not in keys]
        cells = lazy(self.rows.join(areas, on="practice_code", how="left"))
        aggs = [nw.col(*sums).sum()]
        levels = [_grouped(cells, level, list(self.dims), aggs) for level in LEVELS]
        return _finished(collect_small(levels), self.measures)


def practice_sums(frame, measures: list, **dims) -> PracticeSums:
    """One pass over the patient rows, on their engine: each measure (a count, or a Total or
    Mean) summed per practice, snapshot and dims (an expression each, or `nw.col` of an
    existing column), brought back small."""
    rows = lazy(frame)
    if dims:
        rows = rows.with_columns(**dims)
    keys = ["snapshot_date", "practice_code", *dims]
    found = collect_small([rows.group_by(*keys).agg(*_per_practice(measures))])
    return PracticeSums(found, tuple(dims), tuple(measures))


def by_area(frame, areas: pl.DataFrame, measures: list, **dims) -> pl.DataFrame:
    """The same aggregation for each ICS, each place and each PCN, stacked: one pass over the
    patient rows, summed per practice on their engine (practice_sums), then added up to each
    area here."""
    return practice_sums(frame, measures, **dims).by_area(areas)


def _totals() -> pl.Expr:
    return pl.col("patients").sum().over(list(AREA_KEYS)).alias("_total")


def _pct(policy: DisclosurePolicy, num: str, den: str) -> pl.Expr:
    return (policy.ratio(pl.col(num), pl.col(den)) * 100).round(1)


def _sort(frame: pl.DataFrame, order: dict[str, tuple]) -> pl.DataFrame:
    kind = pl.col("area_type").replace_strict({"ics": 0, "place": 1, "pcn": 2})
    keys = [kind, pl.col("area_code")] + [
        pl.col(c).replace_strict({v: i for i, v in enumerate(vals)}, default=len(vals))
        for c, vals in order.items()
    ]
    return frame.sort(keys)


def age_sex_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """The population pyramid at the latest snapshot, added up from the age-sex cells the
    standardised ratios use (the same patients: those scored), not another pass over them."""
    latest = lazy(inp.cells.filter(pl.col("snapshot_date") == inp.snapshot_date))
    patients = [nw.col("_n").sum().alias("patients")]
    raw = collect_small(
        [_grouped(latest, level, ["age_band", "sex"], patients) for level in LEVELS]
    )
    out = raw.with_columns(
        _label(pl.col("age_band"), PYRAMID_BANDS),
        policy.count(pl.col("patients")).alias("patients"),
    )
    return _sort(out, {"age_band": PYRAMID_BANDS, "sex": ("F", "M", "U")})


def _share_table(inp, policy, dim, expr, labels) -> pl.DataFrame:
    raw = by_area(inp.current, inp.areas, [nw.len().alias("patients")], **{dim: expr})
    if labels is not None:
        raw = raw.with_columns(_label(pl.col(dim), labels))
    out = (
        raw.with_columns(_totals())
        .with_columns(
            _pct(policy, "patients", "_total").alias("percent"),
            policy.count(pl.col("patients")).alias("patients"),
        )
        .drop("_total")
    )
    return _sort(out, {dim: labels or ETHNIC_GROUPS})


def ethnicity_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    return _share_table(inp, policy, "ethnic_group", nw.col("ethnicity"), None)


def deprivation_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    return _share_table(
        inp, policy, "imd_quintile", imd_quintile(nw.col("imd_decile")), IMD_QUINTILES
    )


def _columns(frame) -> list[str]:
    return nw.from_native(frame).columns


def kaiser_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Levels 3, 2, 1 with next year's predicted admissions, bed days and cost."""
    has_cost = "predicted_cost" in _columns(inp.current)
    aggs = [nw.len().alias("patients"), Total("_adm", nw.col("risk"), RISK_DECIMALS)]
    if has_cost:
        aggs.append(Total("_cost", nw.col("predicted_cost"), MONEY_DECIMALS))
    raw = by_area(inp.current, inp.areas, aggs, kaiser_tier=nw.col("kaiser_tier")).with_columns(
        _totals()
    )
    adm = policy.count(pl.col("_adm").round())
    cost = (
        pl.when(pl.col("patients") >= policy.suppress_below).then(
            (pl.col("_cost") / 1000).round() * 1000
        )
        if has_cost
        else adm.cast(pl.Float64) * COST_PER_ADMISSION_GBP
    )
    out = raw.with_columns(
        pl.col("kaiser_tier").cast(pl.Int64).alias("kaiser_level"),
        _pct(policy, "patients", "_total").alias("percent"),
        policy.count(pl.col("patients")).alias("patients"),
        adm.alias("predicted_emergency_admissions"),
        policy.count(pl.col("_adm") * BED_DAYS_PER_ADMISSION).alias("predicted_bed_days"),
        cost.alias("predicted_cost_gbp"),
    ).drop("kaiser_tier", "_total", "_adm", *(["_cost"] if has_cost else []))
    return _sort(out, {"kaiser_level": (3, 2, 1)})


_LTC_MEANS = {
    "mean_emergency_admissions": "emergency_admissions_12m",
    "mean_elective_admissions": "elective_admissions_12m",
    "mean_ae_attendances": "ae_attendances_12m",
    "mean_outpatient_attendances": "outpatient_attendances_12m",
    "mean_secondary_care_cost_gbp": "secondary_care_cost_12m",
}


def ltc_count_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """The LLR plan's table: 0..8+ conditions, and all."""
    aggs = [
        nw.len().alias("patients"),
        _count(nw.col("emergency_admissions_12m") >= 1).alias("_admitted"),
        Mean("_risk", nw.col("risk"), RISK_DECIMALS),
        *(
            Mean(f"_{name}", nw.col(src), MONEY_DECIMALS if "cost" in src else 0)
            for name, src in _LTC_MEANS.items()
        ),
    ]
    banded = practice_sums(inp.current, aggs, ltc_band=ltc_band_code(nw.col("ltc_count")))
    everyone = banded.regrouped(ltc_band=pl.lit(len(LTC_BANDS)))  # the "all" row, summed
    labels = (*LTC_BANDS, "all")
    raw = (
        banded.stacked(everyone)
        .by_area(inp.areas)
        .with_columns(_label(pl.col("ltc_band"), labels))
        .with_columns(
            (pl.col("patients") * (pl.col("ltc_band") != "all"))
            .sum()
            .over(list(AREA_KEYS))
            .alias("_total")
        )
    )
    n = pl.col("patients")
    out = raw.with_columns(
        _pct(policy, "patients", "_total").alias("percent"),
        *(
            policy.mean(pl.col(f"_{name}"), n).round(2 if "cost" not in name else 0).alias(name)
            for name in _LTC_MEANS
        ),
        (policy.ratio(pl.col("_admitted"), n) * 100).round(1).alias("emergency_admission_pct"),
        (policy.mean(pl.col("_risk"), n) * 100).round(1).alias("mean_predicted_risk_pct"),
        policy.count(n).alias("patients"),
    ).drop("_total", "_admitted", "_risk", *(f"_{m}" for m in _LTC_MEANS))
    return _sort(out, {"ltc_band": labels})


def wilson(x: pl.Expr, n: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score interval for a proportion x/n."""
    x, n = x.cast(pl.Float64), n.cast(pl.Float64)  # 4 n^2 is past 32 bits from n = 32,768
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)).sqrt()) / (1 + z * z / n)
    # at x = 0 the lower limit is 0 exactly; computed, it can be a rounding error above 0,
    # which called a PCN with none on a register "higher" than an ICS with none
    return pl.when(x == 0).then(0.0).otherwise(centre - half), centre + half


def prevalence_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Recorded prevalence of each register, 95% CI, and whether it differs from the area's
    ICS."""

    # One pass over the patients for all registers (not one per register), then one row each.
    aggs = []
    for i, col in enumerate(inp.ltc_columns):
        eligible = nw.col("age") >= REGISTER_MIN_AGE.get(col, 0)
        aggs += [_count(nw.col(col) & eligible).alias(f"_x{i}"), _count(eligible).alias(f"_n{i}")]
    wide = by_area(inp.current, inp.areas, aggs)
    raw = pl.concat(
        [
            wide.select(
                *AREA_HEAD,
                pl.col(f"_x{i}").alias("_x"),
                pl.col(f"_n{i}").alias("_n"),
                pl.lit(col).alias("register"),
                pl.lit(ltc_label(col)).alias("register_label"),
            )
            for i, col in enumerate(inp.ltc_columns)
        ],
        how="vertical_relaxed",
    )
    low, high = wilson(pl.col("_x"), pl.col("_n"))
    shown = (pl.col("_x") >= policy.suppress_below) & (pl.col("_n") >= policy.suppress_below)
    if not policy.enabled:
        shown = pl.lit(True)
    # each area against its own ICS's prevalence (the column keeps its published name)
    own_ics = raw.filter(pl.col("area_type") == "ics").select(
        "ics_code", "register", (pl.col("_x") / pl.col("_n")).alias("_llr")
    )
    raw = raw.join(own_ics, on=["ics_code", "register"], how="left").with_columns(
        low.alias("_low"), high.alias("_high")
    )
    compared = (
        pl.when(pl.col("area_type") == "ics")
        .then(None)
        .when(pl.col("_low") > pl.col("_llr"))
        .then(pl.lit("higher"))
        .when(pl.col("_high") < pl.col("_llr"))
        .then(pl.lit("lower"))
        .otherwise(pl.lit("similar"))
    )
    out = (
        raw.with_columns(
            pl.when(shown).then(pl.col("_x") / pl.col("_n") * 100).round(2).alias("prevalence_pct"),
            pl.when(shown).then(pl.col("_low") * 100).round(2).alias("ci_low_pct"),
            pl.when(shown).then(pl.col("_high") * 100).round(2).alias("ci_high_pct"),
            pl.when(shown).then(compared).alias("compared_with_llr"),
            policy.count(pl.col("_x")).alias("register_patients"),
            policy.count(pl.col("_n")).alias("denominator_patients"),
        )
        .with_columns(
            pl.col("register")
            .replace_strict(REGISTER_MIN_AGE, default=0)
            .alias("denominator_min_age")
        )
        .drop("_x", "_n", "_llr", "_low", "_high")
    )
    return _sort(out, {"register": inp.ltc_columns})


def multimorbidity_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """People living with 2+ conditions by age band, and under / over 65."""
    aggs = [nw.len().alias("patients"), _count(nw.col("ltc_count") >= 2).alias("_mm")]
    banded = practice_sums(inp.current, aggs, age_band=multimorbidity_band(nw.col("age")))
    # 65 is a band's lower edge: under / over 65 are sums of the bands
    over = pl.col("age_band") >= MULTIMORBIDITY_BANDS.index("65-74")
    split = banded.regrouped(age_band=over.cast(pl.Int64) + len(MULTIMORBIDITY_BANDS))
    labels = (*MULTIMORBIDITY_BANDS, UNDER_65, OVER_65)
    raw = banded.stacked(split).by_area(inp.areas).with_columns(_label(pl.col("age_band"), labels))
    out = raw.with_columns(
        _pct(policy, "_mm", "patients").alias("multimorbid_pct"),
        policy.count(pl.col("_mm")).alias("multimorbid_patients"),
        policy.count(pl.col("patients")).alias("patients"),
    ).drop("_mm")
    return _sort(out, {"age_band": labels})


def emergency_admissions_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Observed against expected (sum of predicted risk) over the last year, with funnel limits.

    The funnel's target is the ratio of the area's own ICS (published as `llr_ratio`, its name
    from when an extract was one ICS); limits are target * (1 +/- z / sqrt(expected)), the
    usual normal approximation to Poisson control limits (Spiegelhalter 2005).
    """
    if inp.outcomes is None:
        return pl.DataFrame()

    known = ~nw.col(OUTCOME).is_null()  # absent a year later and no death: unknown
    raw = by_area(
        inp.outcomes,
        inp.areas,
        [
            _count(known).alias("_n"),
            _count(nw.col(OUTCOME).fill_null(False)).alias("_o"),
            Total("_e", nw.when(known).then(nw.col("risk")), RISK_DECIMALS),
        ],
    ).filter(pl.col("_n") > 0)
    targets = raw.filter(pl.col("area_type") == "ics").select(
        "ics_code", (pl.col("_o") / pl.col("_e")).alias("_t")
    )
    raw = raw.join(targets, on="ics_code", how="left")
    e, target = pl.col("_e"), pl.col("_t")
    limit = {
        f"{name}_{side}": (target * (1 + sign * z / e.sqrt())).clip(0).round(3)
        for name, z in (("limit95", Z95), ("limit998", Z998))
        for side, sign in (("low", -1), ("high", 1))
    }
    ratio = policy.ratio(pl.col("_o"), e)
    position = (
        pl.when(ratio.is_null())
        .then(None)
        .when(ratio > limit["limit998_high"])
        .then(pl.lit("above 99.8% limit"))
        .when(ratio > limit["limit95_high"])
        .then(pl.lit("above 95% limit"))
        .when(ratio < limit["limit998_low"])
        .then(pl.lit("below 99.8% limit"))
        .when(ratio < limit["limit95_low"])
        .then(pl.lit("below 95% limit"))
        .otherwise(pl.lit("within limits"))
    )
    out = raw.with_columns(
        pl.lit(inp.previous_date).alias("risk_snapshot_date"),
        policy.count(pl.col("_n")).alias("patients"),
        policy.count(pl.col("_o")).alias("observed_patients"),
        policy.count(e.round()).alias("expected_patients"),
        ratio.round(3).alias("observed_expected_ratio"),
        target.round(3).alias("llr_ratio"),
        *(v.alias(k) for k, v in limit.items()),
        position.alias("funnel_position"),
    ).drop("_n", "_o", "_e", "_t")
    return _sort(out, {})


def cost_concentration_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Share of last year's secondary-care cost in the top 0.5%, next 4.5%, 15% and 80%.

    A patient's band is its cost's rank within its area (a window over the area, on any
    engine); which of two equal costs ranks first changes no band's count or cost, so no
    tie-breaker is needed.
    """
    cost = nw.col("secondary_care_cost_12m")
    costs = nw.from_native(inp.current).select(
        "snapshot_date", "practice_code", "secondary_care_cost_12m"
    )
    rows = lazy(beside(costs.to_native(), inp.areas, "practice_code"))
    # in pence, so that each band's share of the area's total is exact in any order
    aggs = [nw.len().alias("patients"), in_units(cost, MONEY_DECIMALS).sum().alias("_cost")]
    parts = []
    for level in LEVELS:
        code = level[1]
        share = cost.rank("ordinal", descending=True).over(code) / cost.count().over(code)
        band = nw.lit(len(COST_BANDS) - 1)
        for i, (_, upto) in reversed(list(enumerate(COST_BANDS[:-1]))):
            band = nw.when(share <= upto).then(nw.lit(i)).otherwise(band)
        parts.append(
            _grouped(rows.with_columns(population_band=band), level, ["population_band"], aggs)
        )
    bands = tuple(b for b, _ in COST_BANDS)
    raw = collect_small(parts).with_columns(
        _label(pl.col("population_band"), bands),
        pl.col("_cost").sum().over(list(AREA_KEYS)).alias("_all"),
    )
    out = raw.with_columns(
        pl.when(pl.col("patients") >= policy.suppress_below if policy.enabled else True)
        .then(pl.col("_cost") / pl.col("_all") * 100)
        .round(1)
        .alias("cost_share_pct"),
        policy.count(pl.col("patients")).alias("patients"),
    ).drop("_cost", "_all")
    out = _sort(out, {"population_band": bands})
    return out.with_columns(
        pl.col("cost_share_pct")
        .cum_sum()
        .over(["area_type", "area_code"])
        .round(1)
        .alias("cumulative_cost_share_pct")
    )


def inequalities_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Predicted risk and last year's emergency admissions by IMD quintile and ethnic group."""

    aggs = [
        nw.len().alias("patients"),
        _count(nw.col("emergency_admissions_12m") >= 1).alias("_admitted"),
        Mean("_risk", nw.col("risk"), RISK_DECIMALS),
    ]
    both = practice_sums(
        inp.current, aggs, quintile=imd_quintile(nw.col("imd_decile")), ethnic=nw.col("ethnicity")
    )  # one pass; each dimension is then the sum over the other
    quintiles = both.regrouped(group_name=pl.col("quintile")).by_area(inp.areas)
    ethnic = both.regrouped(group_name=pl.col("ethnic")).by_area(inp.areas)
    raw = pl.concat(
        [
            quintiles.with_columns(_label(pl.col("group_name"), IMD_QUINTILES)).with_columns(
                dimension=pl.lit("deprivation")
            ),
            ethnic.with_columns(dimension=pl.lit("ethnic group")),
        ],
        how="vertical_relaxed",
    ).select(
        *AREA_HEAD, "dimension", "group_name", pl.exclude(*AREA_HEAD, "dimension", "group_name")
    )
    n = pl.col("patients")
    out = raw.with_columns(
        (policy.mean(pl.col("_risk"), n) * 100).round(1).alias("mean_predicted_risk_pct"),
        (policy.ratio(pl.col("_admitted"), n) * 100).round(1).alias("emergency_admission_pct"),
        policy.count(pl.col("_admitted")).alias("admitted_patients"),
        policy.count(n).alias("patients"),
    ).drop("_admitted", "_risk")
    return _sort(
        out,
        {
            "dimension": ("deprivation", "ethnic group"),
            "group_name": (*IMD_QUINTILES, *ETHNIC_GROUPS),
        },
    )


def tier_movement_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """Patients by Kaiser level now and at the previous scored snapshot."""
    if inp.movement is None:
        return pl.DataFrame()
    raw = by_area(
        inp.movement,
        inp.areas,
        [nw.len().alias("patients")],
        from_level=nw.col("from_level"),
        to_level=nw.col("to_level"),
    )
    out = raw.with_columns(
        pl.col("from_level").cast(pl.String).fill_null("not scored"),
        pl.lit(inp.previous_date).alias("previous_snapshot_date"),
        policy.count(pl.col("patients")).alias("patients"),
    )
    return _sort(out, {"from_level": ("3", "2", "1", "not scored"), "to_level": (3, 2, 1)})


def summary_table(inp: ProfileInputs, policy: DisclosurePolicy) -> pl.DataFrame:
    """One row per area: the headline figures on each profile and the index."""
    tier = nw.col("kaiser_tier")
    aggs = [
        nw.len().alias("registered_patients"),
        _count(nw.col("age") >= 65).alias("aged_65_plus_patients"),
        _count(nw.col("ltc_count") >= 2).alias("multimorbid_patients"),
        *(_count(tier == t).alias(f"level{t}_patients") for t in (3, 2, 1)),
        _count(nw.col("ilt_cohort")).alias("ilt_cohort_patients"),
        Total("expected_emergency_admissions", nw.col("risk"), RISK_DECIMALS),
    ]
    if inp.movement is not None:  # current carries from_level
        aggs.insert(-1, _count(moved_up()).alias("rising_risk_patients"))
    raw = by_area(inp.current, inp.areas, aggs).with_columns(
        (pl.col("expected_emergency_admissions") + 0.5).floor()  # halves up, as pcn_profile
    )
    if inp.movement is None:  # no previous snapshot: unknown, not none
        at = raw.columns.index("expected_emergency_admissions")
        unknown = pl.repeat(None, raw.height, dtype=pl.Int64, eager=True)
        raw = raw.insert_column(at, unknown.alias("rising_risk_patients"))
    counts = [c for c in raw.columns if c.endswith("_patients") or c.startswith("expected_")]
    place = _areas_places(inp.areas)
    out = raw.with_columns(
        pl.lit(inp.previous_date).alias("previous_snapshot_date"),
        pl.lit(inp.ilt_cost_criterion).alias("ilt_includes_cost_criterion"),
        *(policy.count(pl.col(c)).alias(c) for c in counts),
    )
    return _sort(out.join(place, on="area_code", how="left"), {})


def _areas_places(areas: pl.DataFrame) -> pl.DataFrame:
    """area_code -> the place it sits in (a place sits in itself; the ICS in none)."""
    pcns = areas.select(pl.col("pcn_code").alias("area_code"), "place_code").unique()
    places = areas.select(pl.col("place_code").alias("area_code"), "place_code").unique()
    both = pl.concat([p.select(pl.all().cast(pl.String)) for p in (pcns, places)])
    return both.unique("area_code")


PROFILE_TABLE_BUILDERS = {
    "published.profile_summary": summary_table,
    "published.profile_age_sex": age_sex_table,
    "published.profile_ethnicity": ethnicity_table,
    "published.profile_deprivation": deprivation_table,
    "published.profile_kaiser": kaiser_table,
    "published.profile_ltc_count": ltc_count_table,
    "published.profile_prevalence": prevalence_table,
    "published.profile_multimorbidity": multimorbidity_table,
    "published.profile_emergency_admissions": emergency_admissions_table,
    "published.profile_cost_concentration": cost_concentration_table,
    "published.profile_inequalities": inequalities_table,
    "published.profile_tier_movement": tier_movement_table,
    "published.profile_standardised": lambda inp, policy: standardised_table(
        inp.cells, inp.ltc_columns, policy
    ),
    "published.profile_trend": lambda inp, policy: trend_table(inp.cells, inp.ltc_columns, policy),
}


def profile_tables(inp: ProfileInputs, policy: DisclosurePolicy) -> dict[str, pl.DataFrame]:
    """Every published profile table, keyed by warehouse table name, disclosure-controlled."""
    return {name: build(inp, policy) for name, build in PROFILE_TABLE_BUILDERS.items()}


def _listed_rows(snapshot, case_finding: pl.DataFrame, ltcs) -> pl.DataFrame:
    """The snapshot's rows of the listed patients, in this process, whatever its engine."""
    rows = nw.from_native(snapshot).select("patient_id", "age", "sex", "ltc_count", *ltcs)
    ids = nw.from_native(alike(snapshot, case_finding.select("patient_id")))
    return to_polars(rows.join(ids, on="patient_id", how="semi"))


def case_finding_rows(case_finding, extract) -> pl.DataFrame:
    """The level-3 list for MDT review (restricted): restricted.case_finding with practice
    name, age band, sex and conditions added from the snapshot it was scored on. The list
    and the extract's snapshots may be on Spark: the list (5% of the patients) and their
    snapshot rows come to this process, nothing more."""
    case_finding = to_polars(case_finding)
    ltcs = tuple(extract.ltc_columns)
    conditions = (
        pl.concat_list([pl.when(pl.col(c)).then(pl.lit(ltc_label(c))) for c in ltcs])
        .list.drop_nulls()
        .list.join("; ")
    )
    scored_on = case_finding["snapshot_date"].unique().to_list()
    listed = (
        pl.concat(  # only the listed patients' rows: a few thousand, not the population
            [_listed_rows(extract.snapshots[d], case_finding, ltcs) for d in scored_on]
        )
        if scored_on  # else no one: the newest snapshot's columns, no rows
        else _listed_rows(extract.snapshots[max(extract.snapshots)], case_finding, ltcs)
    )
    about = listed.select(
        "patient_id",
        _label(five_year_band(pl.col("age")), PYRAMID_BANDS).alias("age_band"),
        "sex",
        "ltc_count",
        conditions.alias("conditions"),
    )
    practices = extract.practices
    reasons = [c for c in ("reason_1", "reason_2", "reason_3") if c in case_finding.columns]
    extra = [c for c in ("predicted_cost", "integrated_locality_team") if c in case_finding.columns]
    return (
        case_finding.join(about, on="patient_id", how="left")
        .join(practices.select("practice_code", "practice_name"), on="practice_code", how="left")
        .select(
            "snapshot_date",
            "pcn_code",
            "practice_code",
            "practice_name",
            "patient_id",
            "age_band",
            "sex",
            "ltc_count",
            "conditions",
            pl.col("risk").round(4),
            "risk_rank",
            *reasons,
            *(pl.col(c).round(0) if c == "predicted_cost" else pl.col(c) for c in extra),
        )
        .sort("pcn_code", "risk_rank")
    )
