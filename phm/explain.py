"""Reasons for a score: the few factors that add most to one patient's predicted risk.

Model-agnostic and honest: for each factor a patient has (a condition, frailty, a care home,
prior hospital use, older age), the fitted model is asked again with that factor set to its
reference value (condition absent and the LTC count one lower; no admissions; eFI 0.12, the
top of "fit"; age 50), and the fall in predicted risk is the factor's contribution. The
factors with the largest falls are named in clinical words. One extra prediction per factor
present, for the level-3 patients only: cheap even for gradient boosting.

This module touches patient rows; its output belongs in the restricted schema only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from phm.features import EFI_MODERATE, EFI_SEVERE, FeatureSpec, feature_label

N_REASONS = 3
REASONS = {"patient_id": pl.String} | {f"reason_{k + 1}": pl.String for k in range(N_REASONS)}
REFERENCE_AGE = 50.0
REFERENCE_EFI = 0.12
_COUNTS = {
    "emergency_admissions_12m": ("emergency admission", "emergency admissions"),
    "elective_admissions_12m": ("elective admission", "elective admissions"),
    "ae_attendances_12m": ("A&E attendance", "A&E attendances"),
    "outpatient_attendances_12m": ("outpatient attendance", "outpatient attendances"),
}


def _count_words(n: float, one: str, many: str) -> str:
    k = int(round(n))
    return f"{k} {one if k == 1 else many} last year"


def _efi_words(efi: float) -> str:
    return f"{'severe' if efi > EFI_SEVERE else 'moderate'} frailty (eFI {efi:.2f})"


def _factors(spec: FeatureSpec) -> list[tuple[str, Callable, Callable, Callable]]:
    """(factor, present(X) -> mask, to_reference(X rows) -> X rows, words(row) -> str)."""
    idx = {n: i for i, n in enumerate(spec.names)}
    out = []
    for ltc in spec.ltc_columns:
        i, c = idx[ltc], idx["ltc_count"]

        def drop(X, i=i, c=c):
            X[:, i] = 0.0
            X[:, c] = np.maximum(X[:, c] - 1, 0)
            return X

        out.append(
            (ltc, lambda X, i=i: X[:, i] >= 0.5, drop, lambda row, ltc=ltc: feature_label(ltc))
        )
    for name, (one, many) in _COUNTS.items():
        i = idx[name]
        out.append(
            (
                name,
                lambda X, i=i: X[:, i] >= 1,
                lambda X, i=i: _set(X, i, 0.0),
                lambda row, i=i, one=one, many=many: _count_words(row[i], one, many),
            )
        )
    i = idx["care_home"]
    out.append(
        (
            "care_home",
            lambda X, i=i: X[:, i] >= 0.5,
            lambda X, i=i: _set(X, i, 0.0),
            lambda row: feature_label("care_home"),
        )
    )
    i = idx["efi_score"]
    out.append(
        (
            "efi_score",
            lambda X, i=i: X[:, i] > EFI_MODERATE,
            lambda X, i=i: _set(X, i, REFERENCE_EFI),
            lambda row, i=i: _efi_words(row[i]),
        )
    )
    i = idx["prescription_types_12m"]
    out.append(
        (
            "prescription_types_12m",
            lambda X, i=i: X[:, i] >= 10,
            lambda X, i=i: _set(X, i, 0.0),
            lambda row, i=i: f"{int(row[i])} prescription types last year",
        )
    )
    i = idx["log_cost_12m"]
    out.append(
        (
            "log_cost_12m",
            lambda X, i=i: X[:, i] > 0,
            lambda X, i=i: _set(X, i, 0.0),
            lambda row, i=i: f"£{np.expm1(row[i]):,.0f} hospital cost last year",
        )
    )
    i = idx["age"]
    out.append(
        (
            "age",
            lambda X, i=i: X[:, i] >= 65,
            lambda X, i=i: _set(X, i, REFERENCE_AGE),
            lambda row, i=i: f"age {int(row[i])}",
        )
    )
    return out


def _set(X: np.ndarray, i: int, value: float) -> np.ndarray:
    X[:, i] = value
    return X


def contributions(
    estimator, spec: FeatureSpec, X: np.ndarray
) -> tuple[list[str], np.ndarray, list]:
    """Each factor's contribution (fall in risk when set to reference; 0 where absent)."""
    base = estimator.predict_proba(X)[:, 1]
    factors = _factors(spec)
    contrib = np.zeros((X.shape[0], len(factors)))
    for j, (_, present, to_reference, _) in enumerate(factors):
        rows = np.flatnonzero(present(X))
        if rows.size:
            counterfactual = to_reference(X[rows].copy())
            contrib[rows, j] = base[rows] - estimator.predict_proba(counterfactual)[:, 1]
    return [f[0] for f in factors], contrib, factors


def risk_reasons(
    estimator, spec: FeatureSpec, frame: pl.DataFrame, n_reasons: int = N_REASONS
) -> pl.DataFrame:
    """patient_id and reason_1..reason_n: the factors adding most to each patient's risk
    (only factors that add to it; NULL where fewer do)."""
    X = spec.matrix(frame)
    _, contrib, factors = contributions(estimator, spec, X)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :n_reasons]
    reasons: list[list[str | None]] = [[None] * frame.height for _ in range(n_reasons)]
    for r in range(frame.height):
        for k, j in enumerate(order[r]):
            if contrib[r, j] > 0:
                reasons[k][r] = factors[j][3](X[r])
    return pl.DataFrame(
        {"patient_id": frame["patient_id"]}
        | {f"reason_{k + 1}": pl.Series(reasons[k], dtype=pl.String) for k in range(n_reasons)}
    )
