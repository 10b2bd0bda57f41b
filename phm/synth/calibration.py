"""Does a generated extract look like LLR? One row per published target, with its tolerance.

Cross-sectional targets (sections 2, 4, 5 and cost) are measured on the first snapshot;
outcomes and tier movement on every pair of consecutive snapshots, pooled. The next-year
"risk of emergency admission" per LTC band is compared with the observed next-year outcome
(an emergency admission or death, the pipeline's definition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from phm.contract import snapshot_date
from phm.synth import targets as T

SECTIONS = ("ltc_table", "cost", "prevalence", "demography", "ethnicity", "deprivation",
            "outcomes")
REPORT_SCHEMA = {"section": pl.String, "target": pl.String, "source_value": pl.Float64,
                 "generated_value": pl.Float64, "tolerance": pl.String, "within": pl.Boolean}


@dataclass(frozen=True)
class Extract:
    """The parts of a generated extract the report reads."""

    practices: pl.DataFrame
    snapshots: dict[date, pl.DataFrame]  # with place_code joined
    deaths: pl.DataFrame
    truth: pl.DataFrame

    @property
    def first(self) -> pl.DataFrame:
        return self.snapshots[min(self.snapshots)]


def read_extract(extract_dir: Path, truth_path: Path) -> Extract:
    extract_dir = Path(extract_dir)
    practices = pl.read_csv(extract_dir / "practices.csv")
    places = practices.select("practice_code", "place_code")
    snapshots = {}
    for path in sorted(extract_dir.iterdir()):
        d = snapshot_date(path.name)
        if d is not None:
            snapshots[d] = _read(path).join(places, on="practice_code", how="left")
    deaths_path = next(extract_dir.glob("deaths.*"))
    return Extract(practices, snapshots, _read(deaths_path), pl.read_parquet(truth_path))


def _read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(
        path, try_parse_dates=True, schema_overrides={"patient_id": pl.String})


# -- rows ----------------------------------------------------------------------------------
def _pct_points(section, target, source, generated, points) -> dict:
    return dict(section=section, target=target, source_value=source, generated_value=generated,
                tolerance=f"+-{points:g} points", within=abs(generated - source) <= points)


def _relative(section, target, source, generated, rel, floor=None) -> dict:
    if floor is not None and source < 0.25:
        return dict(section=section, target=target, source_value=source,
                    generated_value=generated, tolerance=f"+-{floor:g} absolute",
                    within=abs(generated - source) <= floor + 1e-9)
    return dict(section=section, target=target, source_value=source, generated_value=generated,
                tolerance=f"+-{rel:.0%} relative",
                within=abs(generated - source) <= rel * abs(source))


def _range(section, target, lo, hi, generated) -> dict:
    return dict(section=section, target=target, source_value=(lo + hi) / 2,
                generated_value=generated, tolerance=f"{lo:g} to {hi:g}",
                within=lo <= generated <= hi)


# -- outcomes --------------------------------------------------------------------------------
def outcome_pairs(extract: Extract) -> list[pl.DataFrame]:
    """For each snapshot with a later one: its patients with a known next-year outcome."""
    dates = sorted(extract.snapshots)
    pairs = []
    for s, nxt in zip(dates, dates[1:], strict=False):
        now, later = extract.snapshots[s], extract.snapshots[nxt]
        died = extract.deaths.filter((pl.col("date_of_death") > s)
                                     & (pl.col("date_of_death") <= nxt))
        frame = (
            now.join(later.select("patient_id", next_em=pl.col("emergency_admissions_12m")),
                     on="patient_id", how="left")
            .join(died.select("patient_id", died=pl.lit(True)), on="patient_id", how="left")
            .with_columns(pl.col("died").fill_null(False))
            .filter(pl.col("next_em").is_not_null() | pl.col("died"))
            .with_columns(outcome=pl.col("died") | (pl.col("next_em").fill_null(0) >= 1))
            .join(extract.truth.filter(pl.col("snapshot_date") == s)
                  .select("patient_id", "true_risk"), on="patient_id", how="left")
        )
        pairs.append(frame)
    return pairs


def _band(col: str = "ltc_count") -> pl.Expr:
    return pl.min_horizontal(pl.col(col), pl.lit(8))


def ltc_table_rows(extract: Extract, pairs: list[pl.DataFrame]) -> list[dict]:
    city = extract.first.filter(pl.col("place_code") == "04C").with_columns(band=_band())
    bands = city.group_by("band").agg(
        n=pl.len(), **{c: pl.col(c).mean() for c in _TABLE_COLUMNS}).sort("band")
    rows = []
    for b, label in enumerate(T.LTC_BANDS):
        got = bands.filter(pl.col("band") == b)
        share = 100 * (got["n"].sum() / city.height)
        rows.append(_pct_points("ltc_table", f"Leicester City: share with {label} LTCs",
                                T.LTC_TABLE["share"][b], share, 1.5))
        for col, what in _TABLE_COLUMNS.items():
            value = float(got[col][0]) if got.height else float("nan")
            rows.append(_relative("ltc_table", f"Leicester City, {label} LTCs: mean {what}",
                                  T.LTC_TABLE[col][b], value, 0.20, floor=0.05))
    if pairs:
        first = pairs[0].filter(pl.col("place_code") == "04C").with_columns(band=_band())
        rates = first.group_by("band").agg(rate=100 * pl.col("outcome").mean())
        for b, label in enumerate(T.LTC_BANDS):
            got = rates.filter(pl.col("band") == b)["rate"]
            rows.append(_pct_points(
                "ltc_table", f"Leicester City, {label} LTCs: next-year emergency admission "
                "or death %", T.LTC_TABLE["risk"][b], float(got[0]) if got.len() else np.nan, 3))
    return rows


_TABLE_COLUMNS = {
    "emergency_admissions_12m": "emergency admissions",
    "elective_admissions_12m": "elective admissions",
    "ae_attendances_12m": "A&E attendances",
    "outpatient_attendances_12m": "outpatient attendances",
    "prescription_types_12m": "prescription types",
    "secondary_care_cost_12m": "APC cost (pounds)",
}


# The published concentration is of all secondary-care cost; the extract carries admitted
# care cost plus outpatient and A&E counts, costed here at rough national average unit costs.
OUTPATIENT_UNIT_COST = 110.0
AE_UNIT_COST = 150.0


def cost_rows(extract: Extract) -> list[dict]:
    cost = np.sort(extract.first.select(
        pl.col("secondary_care_cost_12m") + OUTPATIENT_UNIT_COST
        * pl.col("outpatient_attendances_12m") + AE_UNIT_COST * pl.col("ae_attendances_12m")
    ).to_series().to_numpy())[::-1]
    total, n = cost.sum(), cost.size
    rows = []
    for label, (share, source, points) in T.COST_CONCENTRATION.items():
        k = round(share * n)
        part = cost[n - k:].sum() if label.startswith("bottom") else cost[:k].sum()
        rows.append(_pct_points("cost", f"Whole population: {label} of patients, % of "
                                "secondary-care cost (APC + outpatient + A&E)",
                                source, 100 * part / total, points))
    return rows


def prevalence_rows(extract: Extract) -> list[dict]:
    from phm.synth.conditions import target_prevalence
    from phm.synth.geography import build_place, rutland_share

    rutland = rutland_share(extract.practices.with_columns(
        pl.col("registered_patients").cast(pl.Int64)))
    snap, rows = extract.first, []
    for place in T.PLACES:
        target = target_prevalence(build_place(place, rutland)) * 100
        people = snap.filter(pl.col("place_code") == place)
        for k, (name, (min_age, *_)) in enumerate(T.QOF_PREVALENCE.items()):
            if name not in people.columns:
                continue
            got = 100 * people.filter(pl.col("age") >= min_age)[name].mean()
            rows.append(_relative("prevalence", f"{T.PLACE_NAMES[place]}: {name} % "
                                  f"({min_age}+)" if min_age else
                                  f"{T.PLACE_NAMES[place]}: {name} % (all ages)",
                                  float(target[k]), got, 0.15))
    return rows


def demography_rows(extract: Extract) -> list[dict]:
    rows = []
    for place in T.PLACES:
        people = extract.first.filter(pl.col("place_code") == place)
        share_65, share_18, mean_age, male = T.AGE_SEX[place]
        name = T.PLACE_NAMES[place]
        rows += [
            _pct_points("demography", f"{name}: % aged 65+", 100 * share_65,
                        100 * (people["age"] >= 65).mean(), 1.5),
            _pct_points("demography", f"{name}: % aged 18+", 100 * share_18,
                        100 * (people["age"] >= 18).mean(), 1.5),
            dict(section="demography", target=f"{name}: mean age", source_value=mean_age,
                 generated_value=people["age"].mean(), tolerance="+-1 year",
                 within=abs(people["age"].mean() - mean_age) <= 1),
            _pct_points("demography", f"{name}: % male", 100 * male,
                        100 * (people["sex"] == "M").mean(), 1.5),
        ]
    return rows


def _shares_rows(extract: Extract, section: str, column: str, levels, table, what) -> list:
    from phm.synth.geography import rutland_share

    rutland = rutland_share(extract.practices.with_columns(
        pl.col("registered_patients").cast(pl.Int64)))
    rows = []
    for place in T.PLACES:
        mix = T.area_mix(place, rutland)
        source = sum(w * np.asarray(table[a], float) / np.sum(table[a]) for a, w in mix.items())
        people = extract.first.filter((pl.col("place_code") == place)
                                      & pl.col(column).is_in(list(levels)))
        for i, level in enumerate(levels):
            got = 100 * (people[column] == level).mean()
            rows.append(_pct_points(section, f"{T.PLACE_NAMES[place]}: % {what} {level}",
                                    100 * float(source[i]), got, 3))
    return rows


def outcome_rows(extract: Extract, pairs: list[pl.DataFrame]) -> list[dict]:
    if not pairs:
        return []
    pooled = pl.concat([p.select("outcome", "true_risk") for p in pairs])
    rows = [
        _range("outcomes", "12-month emergency admission or death, % (all snapshots)",
               *T.OUTCOME_RATE, 100 * pooled["outcome"].mean()),
        _range("outcomes", "Oracle AUROC (true risk vs outcome)", *T.ORACLE_AUROC,
               float(roc_auc_score(pooled["outcome"], pooled["true_risk"]))),
    ]
    stay, up = tier_movement(extract.truth)
    rows += [_range("outcomes", "Top 5% by true risk still top 5% a year later, %",
                    *T.TIER_STAY_TOP5, stay),
             _range("outcomes", "Next 15% by true risk moving up into the top 5%, %",
                    *T.TIER_UP_NEXT15, up)]
    return rows


def tier_movement(truth: pl.DataFrame) -> tuple[float, float]:
    """Pooled over consecutive snapshots: % of top 5% staying, % of next 15% moving up."""
    ranked = truth.with_columns(
        pct=pl.col("true_risk").rank("ordinal", descending=True).over("snapshot_date")
        / pl.len().over("snapshot_date"))
    ranked = ranked.with_columns(tier=pl.when(pl.col("pct") <= 0.05).then(3)
                                 .when(pl.col("pct") <= 0.20).then(2).otherwise(1))
    dates = sorted(ranked["snapshot_date"].unique())
    stay, up = [], []
    for s, nxt in zip(dates, dates[1:], strict=False):
        both = ranked.filter(pl.col("snapshot_date") == s).join(
            ranked.filter(pl.col("snapshot_date") == nxt).select("patient_id", next_tier="tier"),
            on="patient_id")
        stay.append(both.filter(pl.col("tier") == 3)["next_tier"] == 3)
        up.append(both.filter(pl.col("tier") == 2)["next_tier"] == 3)
    return 100 * pl.concat(stay).mean(), 100 * pl.concat(up).mean()


def calibration_report(extract_dir: Path, truth_path: Path) -> pl.DataFrame:
    """One row per target: section, target, source and generated values, tolerance, within."""
    extract = read_extract(extract_dir, truth_path)
    pairs = outcome_pairs(extract)
    builders: list[Callable[[], list[dict]]] = [
        lambda: ltc_table_rows(extract, pairs),
        lambda: cost_rows(extract),
        lambda: prevalence_rows(extract),
        lambda: demography_rows(extract),
        lambda: _shares_rows(extract, "ethnicity", "ethnicity", T.ETHNIC_GROUPS_KNOWN,
                             T.ETHNICITY, "(of known ethnicity)"),
        lambda: _shares_rows(extract.__class__(
            extract.practices, {min(extract.snapshots): extract.first.with_columns(
                pl.col("imd_decile").cast(pl.String))}, extract.deaths, extract.truth),
            "deprivation", "imd_decile", tuple(str(d) for d in range(1, 11)), T.IMD_LSOAS,
            "(of known decile) in IMD decile"),
        lambda: outcome_rows(extract, pairs),
    ]
    rows = [row for build in builders for row in build()]
    return pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row").with_columns(
        pl.col("within").fill_null(False))


def write_calibration_report(report: pl.DataFrame, md_path: Path, duckdb_path: Path, *,
                             seed: int | None = None, scale: float | None = None) -> None:
    """The report as a Markdown table and as the DuckDB table `calibration_report`."""
    header = f"# Synthetic population calibration (seed {seed}, scale {scale})\n\n"
    missed = report.filter(~pl.col("within")).height
    lines = [header, f"{report.height} targets, {report.height - missed} within tolerance.\n\n",
             "| section | target | source | generated | tolerance | within |\n",
             "|---|---|---:|---:|---|---|\n"]
    for r in report.iter_rows(named=True):
        lines.append(f"| {r['section']} | {r['target']} | {r['source_value']:.4g} | "
                     f"{r['generated_value']:.4g} | {r['tolerance']} | "
                     f"{'yes' if r['within'] else '**no**'} |\n")
    Path(md_path).write_text("".join(lines), encoding="utf-8")
    with duckdb.connect(str(duckdb_path)) as con:
        con.register("report_arrow", report.to_arrow())
        con.execute("CREATE OR REPLACE TABLE calibration_report AS SELECT * FROM report_arrow")
        con.unregister("report_arrow")
