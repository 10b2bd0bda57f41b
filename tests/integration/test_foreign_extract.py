"""Extracts written by someone else to the contract run with no code change.

1. CSV with a byte-order mark, CRLF line endings and 1/0 flags, only two snapshots, extra
   columns, and only the 19 QOF registers (what most real extracts carry): the CMS baseline
   says which of its conditions were missing.
2. A population that grows sicker between snapshots (built here, with one true risk function
   for every year, so there is no period effect): the tiering model's observed/expected stays
   near 1 overall and in every IMD quintile, ethnic group and place. The step it replaces,
   which forced mean risk to the latest observed rate, under-predicted such an extract.
"""

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from phm.config import DEFAULT_CONFIG, REPO_ROOT, load_config
from phm.contract import ETHNIC_GROUPS, QOF_REGISTERS
from phm.extract import read_extract
from phm.features import feature_spec
from phm.outcomes import label_extract
from phm.risk import evaluate_models, score_snapshot, tiering_models
from phm.warehouse import read_table
from pipelines.runner import run_pipeline

pytestmark = pytest.mark.slow


def _write_like_a_bi_tool(frame: pl.DataFrame, path: Path) -> None:
    flags = [c for c, t in frame.schema.items() if t == pl.Boolean]
    text = frame.with_columns(pl.col(flags).cast(pl.Int8)).write_csv()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))


def _registers_only(frame: pl.DataFrame) -> pl.DataFrame:
    """The snapshot as a register-only extract holds it: the other ltc_ flags dropped."""
    others = [c for c in frame.columns if c.startswith("ltc_") and c != "ltc_count"]
    others = [c for c in others if c not in QOF_REGISTERS]
    return frame.drop(others).with_columns(
        pl.sum_horizontal([pl.col(c).cast(pl.Int64) for c in QOF_REGISTERS]).alias("ltc_count")
    )


@pytest.fixture(scope="module")
def foreign_extract(small_extract, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("foreign")
    snapshots = sorted(small_extract.glob("patients_*.parquet"))[-2:]
    for path in snapshots:
        frame = _registers_only(pl.read_parquet(path)).with_columns(
            pl.lit("x").alias("local_extra_column")
        )
        _write_like_a_bi_tool(frame, out / path.with_suffix(".csv").name)
    _write_like_a_bi_tool(pl.read_parquet(small_extract / "deaths.parquet"), out / "deaths.csv")
    (out / "practices.csv").write_bytes((small_extract / "practices.csv").read_bytes())
    return out


def test_a_two_snapshot_register_only_csv_extract_runs_and_says_what_it_lacked(
    foreign_extract, tmp_path
):
    warehouse = tmp_path / "foreign.duckdb"
    config = tmp_path / "registers.yaml"  # the shipped registers config; pages are not tested here
    config.write_text(
        f"extends: {REPO_ROOT / 'configs' / 'qof_registers.yaml'}\n"
        "outputs:\n  html_profiles: false\nvalidation:\n  data_docs: false\n"
    )
    outcome = run_pipeline(
        config_path=config,
        extract=foreign_extract,
        warehouse=warehouse,
        outputs=tmp_path / "outputs",
    )
    assert outcome.success, outcome
    evaluation = read_table(warehouse, "published.model_evaluation")
    assert set(evaluation["validation_design"]) == {"held_out_patients"}
    assert "held-out patients" in outcome.metadata["risk_model_evaluation"]["validation_design"]
    profile = read_table(warehouse, "published.pcn_profile")
    assert profile["snapshot_date"].n_unique() == 1
    assert profile.height == 25
    # the CMS baseline ran on the 17 conditions the registers give, and says which it lacked
    cms = evaluation.filter(pl.col("model") == "cms_age_sex").row(0, named=True)
    assert cms["inputs_missing"].startswith("20 of 37 CMS conditions not in the extract")
    assert "Hearing loss" in cms["inputs_missing"] and "ltc_anxiety" in cms["inputs_missing"]
    assert evaluation.filter(pl.col("model") != "cms_age_sex")["inputs_missing"].is_null().all()
    said = outcome.metadata["risk_model_evaluation"]["inputs_missing"]
    assert said.startswith("cms_age_sex: 20 of 37")
    card = (tmp_path / "outputs" / "model_card" / "index.md").read_text()
    assert "**Inputs the extract lacks:**" in card and "Painful condition" in card


# ---- a population that grows sicker ------------------------------------------------------

SNAPSHOTS = (date(2021, 4, 1), date(2022, 4, 1), date(2023, 4, 1))
PATIENTS = 150_000
PLACES = ("North", "Central", "South")
# ethnic groups in even-ish shares, so every group holds ~1,500 events a year
ETHNIC_SHARES = dict(zip(ETHNIC_GROUPS, (0.4, 0.15, 0.12, 0.11, 0.11, 0.11), strict=True))
ETHNIC_LOG_ODDS = dict(zip(ETHNIC_GROUPS, (0.0, 0.15, 0.1, 0.0, -0.05, -0.1), strict=True))


def _practices() -> pl.DataFrame:
    rows = []
    for p, place in enumerate(PLACES):
        for n in range(2):
            pcn = f"U{p * 10 + n + 10001:05d}"
            for k in range(5):
                rows.append(
                    {
                        "practice_code": f"X{p * 100 + n * 10 + k + 10001:05d}",
                        "practice_name": f"{place} practice {n}-{k}",
                        "pcn_code": pcn,
                        "pcn_name": f"{place} PCN {n}",
                        "place_code": f"P{p}",
                        "place_name": place,
                    }
                )
    return pl.DataFrame(rows)


def _true_log_odds(age, male, imd, ethnic_lo, flags, efi, care_home, prior) -> np.ndarray:
    """One risk function for every year: what changes between snapshots is the case mix."""
    count = flags.sum(axis=1)
    return (
        -4.1
        + 0.028 * np.clip(age - 40, 0, None)
        + 0.4 * (age < 2)
        + 0.12 * male
        + 0.06 * (10 - imd)
        + ethnic_lo
        + 0.18 * count
        + 0.5 * flags[:, QOF_REGISTERS.index("ltc_heart_failure")]
        + 0.4 * flags[:, QOF_REGISTERS.index("ltc_copd")]
        + 2.5 * efi
        + 0.5 * care_home
        + 0.45 * np.minimum(prior, 3)
    )


def _sicker_population(folder: Path, seed: int = 5) -> dict[date, float]:
    """Three annual snapshots of one cohort that ages and gathers conditions, fastest in the
    most deprived areas and in the South (a new care-home cluster); outcomes of snapshot k
    are the emergency admissions recorded in snapshot k+1. Returns each snapshot's mean true
    risk (the newest one's outcomes are not in the extract)."""
    rng = np.random.default_rng(seed)
    practices = _practices()
    folder.mkdir(parents=True)
    practices.write_csv(folder / "practices.csv")
    codes = practices["practice_code"].to_numpy()
    place_of = dict(zip(practices["practice_code"], practices["place_name"], strict=True))
    n = PATIENTS
    practice = rng.choice(codes, n)
    south = np.array([place_of[c] == "South" for c in practice])
    age = np.clip(rng.gamma(2.2, 18, n), 0, 100).astype(int)
    male = rng.random(n) < 0.49
    groups = list(ETHNIC_SHARES)
    ethnicity = rng.choice(groups, n, p=list(ETHNIC_SHARES.values()))
    ethnic_lo = np.array([ETHNIC_LOG_ODDS[g] for g in ethnicity])
    imd = rng.integers(1, 11, n)
    prevalence_lo = rng.normal(-3.2, 0.6, len(QOF_REGISTERS))
    flags = rng.random((n, len(QOF_REGISTERS))) < 1 / (
        1 + np.exp(-(prevalence_lo + 0.045 * (age[:, None] - 50) + 0.08 * (5 - imd[:, None])))
    )
    frailty = rng.beta(2, 12, n)
    care_home = (age > 75) & (rng.random(n) < 0.05)
    prior = rng.poisson(0.08, n)
    ids = np.array([f"q{i:07d}" for i in range(n)])
    true_mean_risk = {}
    for k, when in enumerate(SNAPSHOTS):
        if k:  # a year on: older, sicker; faster where deprived and in the South
            age = np.minimum(age + 1, 110)
            onset = 0.02 + 0.02 * k * ((imd <= 4) | south) + 0.002 * np.clip(age - 50, 0, None)
            flags |= rng.random(flags.shape) < onset[:, None] * 0.3
            care_home |= south & (age > 70) & (rng.random(n) < 0.06 * k)
            frailty = np.clip(frailty + rng.normal(0.01 + 0.02 * k * south, 0.01, n), 0, 1)
        efi = np.where(age >= 65, frailty, np.nan)
        risk_lo = _true_log_odds(
            age, male, imd, ethnic_lo, flags, np.nan_to_num(efi), care_home, prior
        )
        count = flags.sum(axis=1)
        frame = pl.DataFrame(
            {
                "patient_id": ids,
                "practice_code": practice,
                "age": age,
                "sex": np.where(male, "M", "F"),
                "ethnicity": ethnicity,
                "imd_decile": imd,
                "care_home": care_home,
                "efi_score": efi,
                **{c: flags[:, j] for j, c in enumerate(QOF_REGISTERS)},
                "ltc_count": count,
                "emergency_admissions_12m": prior,
                "elective_admissions_12m": rng.poisson(0.05 + 0.03 * count),
                "ae_attendances_12m": rng.poisson(0.2 + 0.8 * prior),
                "outpatient_attendances_12m": rng.poisson(0.5 + 0.4 * count),
                "prescription_types_12m": rng.poisson(1 + 1.5 * count),
                "secondary_care_cost_12m": prior * rng.gamma(2, 1200, n),
            }
        ).with_columns(pl.col("efi_score").fill_nan(None))
        frame.write_parquet(folder / f"patients_{when}.parquet")
        # the next year's emergency admissions, drawn from this snapshot's true risk
        true_mean_risk[when] = float(np.mean(1 / (1 + np.exp(-risk_lo))))
        admitted = rng.random(n) < 1 / (1 + np.exp(-risk_lo))
        prior = np.where(admitted, 1 + rng.poisson(0.3, n), 0)
    return true_mean_risk


@pytest.fixture(scope="module")
def sicker_extract(tmp_path_factory) -> tuple[Path, dict[date, float]]:
    folder = tmp_path_factory.mktemp("sicker") / "extract"
    return folder, _sicker_population(folder)


def test_a_population_that_grows_sicker_keeps_observed_expected_near_one(sicker_extract):
    folder, true_mean_risk = sicker_extract
    m = load_config(DEFAULT_CONFIG).model  # the default tiering model and its recalibration
    extract = read_extract(folder, QOF_REGISTERS)
    labelled = label_extract(extract, feature_spec(QOF_REGISTERS)).labelled
    train_rate, evaluation_rate = (ls.outcome_rate for ls in labelled)
    # the case mix really changed: a step forcing mean risk to the training snapshot's rate
    # (the latest known on the scoring date) would under-predict by this much
    assert evaluation_rate / train_rate > 1.08
    evaluation = evaluate_models(
        labelled,
        feature_spec(QOF_REGISTERS),
        [m.tiering_model],
        m.seed,
        practices=extract.practices,
        recalibrate=tuple(r for r in m.recalibrate if r == m.tiering_model),
        period_shift=m.period_shift,
    )
    overall = evaluation.metrics.row(0, named=True)
    assert overall["observed_expected"] == pytest.approx(1.0, abs=0.03)
    sub = evaluation.subgroups.filter(
        pl.col("dimension").is_in(["imd_quintile", "ethnicity", "place"])
        & (pl.col("subgroup") != "unknown")
    )
    assert sorted(sub.filter(pl.col("dimension") == "place")["subgroup"]) == sorted(PLACES)
    assert sub.filter(pl.col("dimension") == "imd_quintile").height == 5
    assert sub.filter(pl.col("dimension") == "ethnicity").height == len(ETHNIC_GROUPS)
    worst = sub.with_columns((pl.col("observed_expected") - 1).abs().alias("off")).sort("off")
    assert worst["observed_expected"].is_not_null().all()
    assert worst["off"].max() < 0.10, worst.tail(3).select("dimension", "subgroup", "off")


def test_the_newest_snapshot_is_scored_with_its_own_case_mix(sicker_extract):
    """The newest snapshot has no outcomes yet; its scores' mean must follow its (sicker)
    case mix, which the generator knows, not the latest observed event rate."""
    folder, true_mean_risk = sicker_extract
    m = load_config(DEFAULT_CONFIG).model
    spec = feature_spec(QOF_REGISTERS)
    extract = read_extract(folder, QOF_REGISTERS)
    labelled = label_extract(extract, spec).labelled
    newest = SNAPSHOTS[-1]
    model = tiering_models(
        [newest],
        labelled,
        spec,
        m.tiering_model,
        m.seed,
        recalibrate=m.tiering_model in m.recalibrate,
        period_shift=m.period_shift,
    )[newest]
    scored = score_snapshot(extract.snapshots[newest], newest, spec, model)
    latest_observed = labelled[-1].outcome_rate
    assert true_mean_risk[newest] / latest_observed > 1.05  # the population grew sicker again
    assert scored["risk"].mean() == pytest.approx(true_mean_risk[newest], rel=0.03)
