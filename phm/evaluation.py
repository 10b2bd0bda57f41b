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


def auroc_interval(auroc: float, events: int, non_events: int) -> tuple[float, float]:
    """95% interval for AUROC by Hanley & McNeil (1982): exact enough at ICS scale, and O(1)
    where a bootstrap over a million patients would cost seconds per model."""
    q1 = auroc / (2 - auroc)
    q2 = 2 * auroc**2 / (1 + auroc)
    var = (
        auroc * (1 - auroc)
        + (events - 1) * (q1 - auroc**2)
        + (non_events - 1) * (q2 - auroc**2)
    ) / (events * non_events)
    half = 1.959964 * np.sqrt(max(var, 0.0))
    return float(max(0.0, auroc - half)), float(min(1.0, auroc + half))


def evaluate_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every headline metric for one model on one evaluation set."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    slope, intercept = calibration_slope_intercept(y, p)
    auroc = float(roc_auc_score(y, p))
    lo, hi = auroc_interval(auroc, int(y.sum()), int(len(y) - y.sum()))
    metrics = {
        "patients": float(len(y)),
        "events": float(y.sum()),
        "event_rate": float(y.mean()),
        "auroc": auroc,
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
