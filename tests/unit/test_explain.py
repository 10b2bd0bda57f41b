"""Reasons for a score: the factors named are the ones the fitted model says add most."""

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from phm.explain import risk_reasons
from phm.features import feature_spec

LTCS = ("ltc_heart_failure", "ltc_copd", "ltc_asthma")


def _patients(n: int, rng) -> pl.DataFrame:
    flags = {c: rng.random(n) < 0.3 for c in LTCS}
    return pl.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(n)],
            "age": rng.integers(20, 95, n),
            "sex": rng.choice(["F", "M"], n),
            "ethnicity": rng.choice(["White", "Asian"], n),
            "imd_decile": rng.integers(1, 11, n),
            "care_home": rng.random(n) < 0.02,
            "efi_score": rng.random(n) * 0.5,
            **flags,
            "ltc_count": sum(f.astype(int) for f in flags.values()),
            "emergency_admissions_12m": rng.poisson(0.3, n),
            "elective_admissions_12m": rng.poisson(0.1, n),
            "ae_attendances_12m": rng.poisson(0.3, n),
            "outpatient_attendances_12m": rng.poisson(1.0, n),
            "prescription_types_12m": rng.poisson(3, n),
            "secondary_care_cost_12m": rng.gamma(1.0, 500, n),
        }
    )


def test_reasons_name_the_factors_the_model_weights_most():
    rng = np.random.default_rng(0)
    spec = feature_spec(LTCS)
    frame = _patients(4000, rng)
    X = spec.matrix(frame)
    names = spec.names
    logit = (
        -3
        + 2.5 * X[:, names.index("ltc_heart_failure")]
        + 0.8 * X[:, names.index("emergency_admissions_12m")]
    )
    y = rng.random(len(frame)) < 1 / (1 + np.exp(-logit))
    model = LogisticRegression(max_iter=2000).fit(X, y)

    # a patient with heart failure and two admissions, nothing else notable
    one = frame.head(1).with_columns(
        pl.lit(True).alias("ltc_heart_failure"),
        pl.lit(False).alias("ltc_copd"),
        pl.lit(False).alias("ltc_asthma"),
        pl.lit(1).alias("ltc_count"),
        pl.lit(2).alias("emergency_admissions_12m"),
        pl.lit(45).alias("age"),
        pl.lit(0.05).alias("efi_score"),
        pl.lit(False).alias("care_home"),
    )
    reasons = risk_reasons(model, spec, one)
    assert reasons["reason_1"][0] == "heart failure"
    assert reasons["reason_2"][0] == "2 emergency admissions last year"


def test_a_patient_with_nothing_adding_to_risk_has_no_reasons():
    rng = np.random.default_rng(1)
    spec = feature_spec(LTCS)
    frame = _patients(2000, rng)
    X = spec.matrix(frame)
    y = rng.random(len(frame)) < 1 / (1 + np.exp(3 - 2 * X[:, spec.names.index("ltc_copd")]))
    model = LogisticRegression(max_iter=2000).fit(X, y)
    healthy = frame.head(1).with_columns(
        *[pl.lit(False).alias(c) for c in LTCS],
        pl.lit(0).alias("ltc_count"),
        pl.lit(0).alias("emergency_admissions_12m"),
        pl.lit(0).alias("elective_admissions_12m"),
        pl.lit(0).alias("ae_attendances_12m"),
        pl.lit(0).alias("outpatient_attendances_12m"),
        pl.lit(0).alias("prescription_types_12m"),
        pl.lit(0.0).alias("secondary_care_cost_12m"),
        pl.lit(30).alias("age"),
        pl.lit(0.0).alias("efi_score"),
        pl.lit(False).alias("care_home"),
    )
    reasons = risk_reasons(model, spec, healthy)
    assert reasons.row(0) == ("P00000", None, None, None)
