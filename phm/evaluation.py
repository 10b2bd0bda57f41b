"""How good a risk score is, measured on patients the model never saw.

Discrimination (AUROC with a bootstrap interval, AUPRC), accuracy (Brier), calibration
(slope and intercept of the logistic recalibration model, observed/expected) and the figures
a practice team feels: PPV and sensitivity among the top 0.5%, 1%, 5% and 20% by score.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

TOP_SHARES = (0.005, 0.01, 0.05, 0.20)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of logit(P(y)) on logit(p); (1, 0) is perfect calibration."""
    model = LogisticRegression(C=1e6, max_iter=1000)  # effectively unpenalised
    model.fit(_logit(p).reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def top_share_ppv_sensitivity(y: np.ndarray, p: np.ndarray, share: float) -> tuple[float, float]:
    """PPV and sensitivity when the top `share` of patients by score are flagged."""
    n = max(1, int(round(share * len(p))))
    order = np.lexsort((np.arange(len(p)), -p))  # highest score first, ties by position
    flagged = y[order[:n]]
    events = y.sum()
    return float(flagged.mean()), float(flagged.sum() / events) if events else float("nan")


def auroc_interval(
    y: np.ndarray, p: np.ndarray, seed: int, n_boot: int = 200
) -> tuple[float, float]:
    """95% percentile bootstrap interval for AUROC (resampling patients)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    size = min(n, 200_000)  # a subsample per replicate keeps this to seconds on 1M patients
    scale = np.sqrt(size / n)  # widen back to the full-sample interval
    full = roc_auc_score(y, p)
    stats = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size)
        if y[idx].min() != y[idx].max():
            stats.append(roc_auc_score(y[idx], p[idx]))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(full - (full - lo) * scale), float(full + (hi - full) * scale)


def evaluate_scores(y: np.ndarray, p: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Every headline metric for one model on one evaluation set."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    slope, intercept = calibration_slope_intercept(y, p)
    lo, hi = auroc_interval(y, p, seed)
    metrics = {
        "patients": float(len(y)),
        "events": float(y.sum()),
        "event_rate": float(y.mean()),
        "auroc": float(roc_auc_score(y, p)),
        "auroc_ci_low": lo,
        "auroc_ci_high": hi,
        "auprc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "observed_expected": float(y.sum() / p.sum()),
    }
    for share in TOP_SHARES:
        ppv, sens = top_share_ppv_sensitivity(y, p, share)
        key = f"top{share * 100:g}pct".replace(".", "_")
        metrics[f"ppv_{key}"] = ppv
        metrics[f"sensitivity_{key}"] = sens
    return metrics
