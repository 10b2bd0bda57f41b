"""Does a generated extract look like LLR? One row per published target, with its tolerance.

The extract is read as the pipeline reads it (`phm.extract.read_extract`), its outcomes are
the pipeline's (`phm.outcomes`: an emergency admission or death in the 12 months after a
snapshot) and its LTC bands are the profiles' (`phm.profiles.ltc_band`). Cross-sectional
targets (sections 1, 2, 4, 5, 8, 9 and cost) are measured on the first snapshot; outcomes and tier
movement on every labelled snapshot, pooled; the model gap fits the pipeline's gradient
boosting on the second-newest labelled snapshot and evaluates it on the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from phm.extract import Extract, read_extract
from phm.outcomes import OUTCOME, LabelledSnapshot, label_snapshot, outcome_pairs
from phm.profiles import LTC_BANDS, ltc_band
from phm.synth import targets as T
from phm.synth.conditions import target_prevalence
from phm.synth.geography import build_place, load_reference_practices, rutland_share

SECTIONS = (
    "geography",
    "ltc_table",
    "cost",
    "prevalence",
    "multimorbidity",
    "frailty",
    "demography",
    "ethnicity",
    "deprivation",
    "outcomes",
)
REPORT_SCHEMA = {
    "section": pl.String,
    "target": pl.String,
    "source_value": pl.Float64,
    "generated_value": pl.Float64,
    "tolerance": pl.String,
    "within": pl.Boolean,
}


@dataclass(frozen=True)
class Generated:
    """A generated extract as the pipeline reads it, with what only the generator knows.

    `snapshots` and `labelled` carry `place_code` (joined from the extract's practices) and,
    for the labelled ones, `true_risk` from the truth file; the outcome is the pipeline's own
    (`phm.outcomes.label_snapshot`), so "outcome" here means what the models learn.
    """

    extract: Extract
    snapshots: dict[date, pl.DataFrame]
    labelled: list[LabelledSnapshot]
    truth: pl.DataFrame

    @property
    def first(self) -> pl.DataFrame:
        return self.snapshots[min(self.snapshots)]


def read_generated(extract_dir: Path, truth_path: Path) -> Generated:
    """Read an extract with `phm.extract.read_extract` and label it like the pipeline does."""
    extract = read_extract(extract_dir)
    places = extract.practices.select("practice_code", "place_code")
    snapshots = {
        d: frame.join(places, on="practice_code", how="left")
        for d, frame in extract.snapshots.items()
    }
    truth = pl.read_parquet(truth_path)
    labelled = []
    for s, later in outcome_pairs(list(snapshots)):
        done = label_snapshot(snapshots[s], snapshots[later], extract.deaths, s, later)
        risk = truth.filter(pl.col("snapshot_date") == s).select("patient_id", "true_risk")
        labelled.append(replace(done, rows=done.frame.join(risk, on="patient_id", how="left")))
    return Generated(extract, snapshots, labelled, truth)


# -- rows ----------------------------------------------------------------------------------
def _pct_points(section, target, source, generated, points) -> dict:
    return dict(
        section=section,
        target=target,
        source_value=source,
        generated_value=generated,
        tolerance=f"+-{points:g} points",
        within=abs(generated - source) <= points,
    )


def _relative(section, target, source, generated, rel, floor=None) -> dict:
    if floor is not None and source < 0.25:
        return dict(
            section=section,
            target=target,
            source_value=source,
            generated_value=generated,
            tolerance=f"+-{floor:g} absolute",
            within=abs(generated - source) <= floor + 1e-9,
        )
    return dict(
        section=section,
        target=target,
        source_value=source,
        generated_value=generated,
        tolerance=f"+-{rel:.0%} relative",
        within=abs(generated - source) <= rel * abs(source),
    )


def _range(section, target, lo, hi, generated) -> dict:
    return dict(
        section=section,
        target=target,
        source_value=(lo + hi) / 2,
        generated_value=generated,
        tolerance=f"{lo:g} to {hi:g}",
        within=lo <= generated <= hi,
    )


# -- the Leicester City LTC-count table ------------------------------------------------------
_BANDS = dict(zip(LTC_BANDS, T.LTC_BANDS, strict=True))  # "8plus" -> "8+"


def _with_band(frame: pl.DataFrame) -> pl.DataFrame:
    """The pipeline's LTC band (`phm.profiles.ltc_band`), labelled as in the plan's table."""
    return frame.with_columns(band=ltc_band(pl.col("ltc_count")).replace_strict(_BANDS))


def ltc_table_rows(gen: Generated) -> list[dict]:
    city = _with_band(gen.first.filter(pl.col("place_code") == "04C"))
    bands = city.group_by("band").agg(n=pl.len(), **{c: pl.col(c).mean() for c in _TABLE_COLUMNS})
    rows = []
    for b, label in enumerate(T.LTC_BANDS):
        got = bands.filter(pl.col("band") == label)
        share = 100 * (got["n"].sum() / city.height)
        rows.append(
            _pct_points(
                "ltc_table",
                f"Leicester City: share with {label} LTCs",
                T.LTC_TABLE["share"][b],
                share,
                1.5,
            )
        )
        for col, what in _TABLE_COLUMNS.items():
            value = float(got[col][0]) if got.height else float("nan")
            rows.append(
                _relative(
                    "ltc_table",
                    f"Leicester City, {label} LTCs: mean {what}",
                    T.LTC_TABLE[col][b],
                    value,
                    0.20,
                    floor=0.05,
                )
            )
    if gen.labelled:
        first = _with_band(gen.labelled[0].frame.filter(pl.col("place_code") == "04C"))
        rates = first.group_by("band").agg(rate=100 * pl.col(OUTCOME).mean())
        for b, label in enumerate(T.LTC_BANDS):
            got = rates.filter(pl.col("band") == label)["rate"]
            rows.append(
                _pct_points(
                    "ltc_table",
                    f"Leicester City, {label} LTCs: next-year emergency admission or death %",
                    T.LTC_TABLE["risk"][b],
                    float(got[0]) if got.len() else np.nan,
                    3,
                )
            )
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


def cost_rows(gen: Generated) -> list[dict]:
    cost = np.sort(
        gen.first.select(
            pl.col("secondary_care_cost_12m")
            + OUTPATIENT_UNIT_COST * pl.col("outpatient_attendances_12m")
            + AE_UNIT_COST * pl.col("ae_attendances_12m")
        )
        .to_series()
        .to_numpy()
    )[::-1]
    total, n = cost.sum(), cost.size
    rows = []
    for label, (share, source, points) in T.COST_CONCENTRATION.items():
        k = round(share * n)
        part = cost[n - k :].sum() if label.startswith("bottom") else cost[:k].sum()
        rows.append(
            _pct_points(
                "cost",
                f"Whole population: {label} of patients, % of "
                "secondary-care cost (APC + outpatient + A&E)",
                source,
                100 * part / total,
                points,
            )
        )
    return rows


def _rutland_share() -> float:
    return rutland_share(load_reference_practices())


def prevalence_rows(gen: Generated) -> list[dict]:
    rutland = _rutland_share()
    rows = []
    for place in T.PLACES:
        target = target_prevalence(build_place(place, rutland)) * 100
        people = gen.first.filter(pl.col("place_code") == place)
        for k, (name, (min_age, *_)) in enumerate(T.QOF_PREVALENCE.items()):
            if name not in people.columns:
                continue
            got = 100 * people.filter(pl.col("age") >= min_age)[name].mean()
            ages = f"{min_age}+" if min_age else "all ages"
            rows.append(
                _relative(
                    "prevalence",
                    f"{T.PLACE_NAMES[place]}: {name} % ({ages})",
                    float(target[k]),
                    got,
                    0.15,
                )
            )
    return rows


def geography_rows(gen: Generated) -> list[dict]:
    """Section 1: practices, PCNs, each place's share of the list, the spread of PCN sizes."""
    first, practices = gen.first, gen.extract.practices
    rows = [
        _range("geography", "Practices", T.PRACTICE_COUNT, T.PRACTICE_COUNT, practices.height),
        _range("geography", "PCNs", T.PCN_COUNT, T.PCN_COUNT, practices["pcn_code"].n_unique()),
    ]
    total = sum(T.PLACE_POPULATION.values())
    for place, population in T.PLACE_POPULATION.items():
        rows.append(
            _pct_points(
                "geography",
                f"{T.PLACE_NAMES[place]}: % of the registered population",
                100 * population / total,
                100 * (first["place_code"] == place).mean(),
                1.5,
            )
        )
    sizes = first.join(practices.select("practice_code", "pcn_code"), on="practice_code")
    sizes = sizes.group_by("pcn_code").len()["len"]
    smallest, largest = T.PCN_SIZE_RANGE
    rows.append(
        _relative(
            "geography",
            "Largest PCN list over the smallest",
            largest / smallest,
            sizes.max() / sizes.min(),
            0.05,
        )
    )
    return rows


def multimorbidity_rows(gen: Generated) -> list[dict]:
    """Section 8: 2+ conditions among adults and among 85+; the City's non-register load."""
    first = gen.first
    rows = []
    for label, (min_age, source, points) in T.MULTIMORBIDITY.items():
        people = first.filter(pl.col("age") >= min_age)
        rows.append(
            _pct_points(
                "multimorbidity",
                f"Whole population, {label}: % with 2+ long-term conditions",
                source,
                100 * (people["ltc_count"] >= 2).mean(),
                points,
            )
        )
    non_register = [c for c in gen.extract.ltc_columns if c not in T.QOF_PREVALENCE]
    if non_register:
        city = first.filter(pl.col("place_code") == "04C")
        per_head = city.select(pl.sum_horizontal(non_register).mean()).item()
        source, tolerance = T.CITY_NON_REGISTER_PER_HEAD
        rows.append(
            dict(
                section="multimorbidity",
                target="Leicester City: non-register conditions a head",
                source_value=source,
                generated_value=per_head,
                tolerance=f"+-{tolerance:g} absolute",
                within=abs(per_head - source) <= tolerance,
            )
        )
    return rows


def _frailty_category() -> pl.Expr:
    fit, mild, moderate = T.EFI_CUTS
    efi = pl.col("efi_score")
    return (
        pl.when(efi <= fit)
        .then(pl.lit("fit"))
        .when(efi <= mild)
        .then(pl.lit("mild"))
        .when(efi <= moderate)
        .then(pl.lit("moderate"))
        .otherwise(pl.lit("severe"))
    )


def frailty_rows(gen: Generated) -> list[dict]:
    """Section 9: eFI categories among 65+, and next-year outcome rate ratios against fit."""
    old = gen.first.filter((pl.col("age") >= 65) & pl.col("efi_score").is_not_null())
    category = old.select(_frailty_category().alias("c"))["c"]
    rows = [
        _pct_points(
            "frailty", f"Aged 65+: % {name} (eFI)", source, 100 * (category == name).mean(), pts
        )
        for name, (source, pts) in T.FRAILTY_65.items()
    ]
    rows.append(
        _range(
            "frailty",
            "Aged 65+: % with any frailty (eFI above 0.12)",
            *T.ANY_FRAILTY_65,
            100 * (category != "fit").mean(),
        )
    )
    if gen.labelled:
        labelled = gen.labelled[0].frame.filter(
            (pl.col("age") >= 65) & pl.col("efi_score").is_not_null()
        )
        ratios = age_adjusted_ratios(labelled.with_columns(_frailty_category().alias("c")))
        for name, source in T.FRAILTY_HAZARD.items():
            ratio = ratios.get(name, np.nan)
            rows.append(
                _relative(
                    "frailty",
                    f"Aged 65+, {name} against fit: next-year emergency admission or death, "
                    "age-adjusted rate ratio (published: hazard ratio)",
                    source,
                    ratio,
                    0.30,
                )
            )
    return rows


def age_adjusted_ratios(frame: pl.DataFrame) -> dict[str, float]:
    """Observed outcomes of each frailty category `c` over those expected at the fit's rate in
    the same age group (65-74, 75-84, 85+): a rate ratio adjusted for age, as the published
    hazard ratios are (Clegg et al. 2016 adjust for age and sex)."""
    grouped = frame.with_columns(g=pl.col("age").clip(65, 85) // 10).group_by("c", "g")
    cells = grouped.agg(n=pl.len(), events=pl.col(OUTCOME).sum())
    fit = cells.filter(pl.col("c") == "fit").select("g", fit_rate=pl.col("events") / pl.col("n"))
    cells = (
        cells.join(fit, on="g", how="left")
        .group_by("c")
        .agg(ratio=pl.col("events").sum() / (pl.col("n") * pl.col("fit_rate")).sum())
    )
    return dict(zip(cells["c"], cells["ratio"], strict=True))


def demography_rows(gen: Generated) -> list[dict]:
    rows = []
    for place in T.PLACES:
        people = gen.first.filter(pl.col("place_code") == place)
        share_65, share_18, mean_age, male = T.AGE_SEX[place]
        name = T.PLACE_NAMES[place]
        rows += [
            _pct_points(
                "demography",
                f"{name}: % aged 65+",
                100 * share_65,
                100 * (people["age"] >= 65).mean(),
                1.5,
            ),
            _pct_points(
                "demography",
                f"{name}: % aged 18+",
                100 * share_18,
                100 * (people["age"] >= 18).mean(),
                1.5,
            ),
            dict(
                section="demography",
                target=f"{name}: mean age",
                source_value=mean_age,
                generated_value=people["age"].mean(),
                tolerance="+-1 year",
                within=abs(people["age"].mean() - mean_age) <= 1,
            ),
            _pct_points(
                "demography",
                f"{name}: % male",
                100 * male,
                100 * (people["sex"] == "M").mean(),
                1.5,
            ),
        ]
    return rows


def _shares_rows(gen: Generated, section: str, values: pl.Expr, levels, table, what) -> list:
    """Per place, the share of each level among the known values, against the area mix."""
    rutland = _rutland_share()
    rows = []
    for place in T.PLACES:
        mix = T.area_mix(place, rutland)
        source = sum(w * np.asarray(table[a], float) / np.sum(table[a]) for a, w in mix.items())
        got = gen.first.filter(pl.col("place_code") == place).select(values.alias("v"))["v"]
        got = got.filter(got.is_in(list(levels)))
        for i, level in enumerate(levels):
            rows.append(
                _pct_points(
                    section,
                    f"{T.PLACE_NAMES[place]}: % {what} {level}",
                    100 * float(source[i]),
                    100 * (got == level).mean(),
                    3,
                )
            )
    return rows


def outcome_rows(gen: Generated, with_model: bool = True) -> list[dict]:
    if not gen.labelled:
        return []
    pooled = pl.concat([s.frame.select(OUTCOME, "true_risk") for s in gen.labelled])
    rows = [
        _range(
            "outcomes",
            "12-month emergency admission or death, % (all snapshots)",
            *T.OUTCOME_RATE,
            100 * pooled[OUTCOME].mean(),
        ),
        _range(
            "outcomes",
            "Emergency admissions per 1,000 patients a year (first snapshot)",
            *T.EMERGENCY_PER_1000,
            1000 * gen.first["emergency_admissions_12m"].mean(),
        ),
        _range(
            "outcomes",
            "Oracle AUROC (true risk vs outcome)",
            *T.ORACLE_AUROC,
            float(roc_auc_score(pooled[OUTCOME], pooled["true_risk"])),
        ),
    ]
    stay, up = tier_movement(gen.truth)
    rows += [
        _range(
            "outcomes", "Top 5% by true risk still top 5% a year later, %", *T.TIER_STAY_TOP5, stay
        ),
        _range(
            "outcomes", "Next 15% by true risk moving up into the top 5%, %", *T.TIER_UP_NEXT15, up
        ),
    ]
    if with_model and len(gen.labelled) >= 2:
        oracle, model = model_gap(gen.extract, gen.labelled[-2], gen.labelled[-1])
        rows.append(
            _range(
                "outcomes",
                "Oracle AUROC minus the pipeline's gradient boosting "
                "AUROC (fitted on snapshot s-1, evaluated on s)",
                -T.MODEL_GAP,
                T.MODEL_GAP,
                oracle - model,
            )
        )
    return rows


def model_gap(
    extract: Extract, train: LabelledSnapshot, test: LabelledSnapshot, seed: int = 0
) -> tuple[float, float]:
    """AUROC on `test` of the true risk and of the pipeline's gradient boosting fitted on `train`.

    A well-specified generator lets a good model come within T.MODEL_GAP of the oracle; a
    wider gap means the risk hangs on something the extract does not show.
    """
    from phm.features import feature_spec
    from phm.models import build_model

    spec = feature_spec(extract.ltc_columns)
    model = build_model("gradient_boosting", spec, seed)
    model.fit(spec.matrix(train.frame), train.frame[OUTCOME].to_numpy())
    scored = model.predict_proba(spec.matrix(test.frame))[:, 1]
    y = test.frame[OUTCOME].to_numpy()
    return float(roc_auc_score(y, test.frame["true_risk"])), float(roc_auc_score(y, scored))


def tier_movement(truth: pl.DataFrame) -> tuple[float, float]:
    """Pooled over consecutive snapshots: % of top 5% staying, % of next 15% moving up."""
    ranked = truth.with_columns(
        pct=pl.col("true_risk").rank("ordinal", descending=True).over("snapshot_date")
        / pl.len().over("snapshot_date")
    )
    ranked = ranked.with_columns(
        tier=pl.when(pl.col("pct") <= 0.05).then(3).when(pl.col("pct") <= 0.20).then(2).otherwise(1)
    )
    dates = sorted(ranked["snapshot_date"].unique())
    stay, up = [], []
    for s, nxt in zip(dates, dates[1:], strict=False):
        both = ranked.filter(pl.col("snapshot_date") == s).join(
            ranked.filter(pl.col("snapshot_date") == nxt).select("patient_id", next_tier="tier"),
            on="patient_id",
        )
        stay.append(both.filter(pl.col("tier") == 3)["next_tier"] == 3)
        up.append(both.filter(pl.col("tier") == 2)["next_tier"] == 3)
    return 100 * pl.concat(stay).mean(), 100 * pl.concat(up).mean()


def calibration_report(
    extract_dir: Path, truth_path: Path, *, with_model: bool = True
) -> pl.DataFrame:
    """One row per target: section, target, source and generated values, tolerance, within.

    `with_model=False` leaves out the model-gap row (fitting the model is most of the time a
    report takes; on a small sample the gap says more about the sample than the generator).
    """
    gen = read_generated(extract_dir, truth_path)
    builders: list[Callable[[], list[dict]]] = [
        lambda: geography_rows(gen),
        lambda: ltc_table_rows(gen),
        lambda: cost_rows(gen),
        lambda: prevalence_rows(gen),
        lambda: multimorbidity_rows(gen),
        lambda: frailty_rows(gen),
        lambda: demography_rows(gen),
        lambda: _shares_rows(
            gen,
            "ethnicity",
            pl.col("ethnicity"),
            T.ETHNIC_GROUPS_KNOWN,
            T.ETHNICITY,
            "(of known ethnicity)",
        ),
        lambda: _shares_rows(
            gen,
            "deprivation",
            pl.col("imd_decile").cast(pl.String),
            tuple(str(d) for d in range(1, 11)),
            T.IMD_LSOAS,
            "(of known decile) in IMD decile",
        ),
        lambda: outcome_rows(gen, with_model),
    ]
    rows = [row for build in builders for row in build()]
    return pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row").with_columns(
        pl.col("within").fill_null(False)
    )


def write_calibration_report(
    report: pl.DataFrame,
    md_path: Path,
    duckdb_path: Path,
    *,
    seed: int | None = None,
    scale: float | None = None,
) -> None:
    """The report as a Markdown table and as the DuckDB table `calibration_report`.

    Every line of the calibration targets has a row; the Markdown opens with the count within
    tolerance and lists any line that is not.
    """
    missed = report.filter(~pl.col("within"))
    lines = [
        f"# Synthetic population calibration (seed {seed}, scale {scale})\n\n",
        f"{report.height} targets, {report.height - missed.height} within tolerance.\n\n",
    ]
    if missed.height:
        lines.append("Out of tolerance:\n\n")
        lines += [f"- {t}\n" for t in missed["target"]]
        lines.append("\n")
    lines += [
        "| section | target | source | generated | tolerance | within |\n",
        "|---|---|---:|---:|---|---|\n",
    ]
    for r in report.iter_rows(named=True):
        within = "yes" if r["within"] else "**no**"
        lines.append(
            f"| {r['section']} | {r['target']} | {r['source_value']:.4g} | "
            f"{r['generated_value']:.4g} | {r['tolerance']} | {within} |\n"
        )
    Path(md_path).write_text("".join(lines), encoding="utf-8")
    with duckdb.connect(str(duckdb_path)) as con:
        con.register("report_arrow", report.to_arrow())
        con.execute("CREATE OR REPLACE TABLE calibration_report AS SELECT * FROM report_arrow")
        con.unregister("report_arrow")
