"""How good a risk score is, measured on patients the model never saw.

Discrimination (AUROC with an interval, AUPRC), accuracy (Brier), calibration (slope and
intercept of the logistic recalibration model, observed/expected) and the figures a practice
team feels: PPV and sensitivity among the top 0.5%, 1%, 5% and 20% by score. The same again
within each subgroup (IMD quintile, ethnicity, sex, age band, place, PCN), and the decision
curve (net benefit against the threshold probability, Vickers & Elkin 2006).

Pure numpy/polars: this module sees scores and outcomes, never an identifier.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

TOP_SHARES = (0.005, 0.01, 0.05, 0.20)
DECISION_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.01, 0.51, 0.01))
MIN_SUBGROUP = 8  # a subgroup metric is shown only where patients, events and non-events >= 8


def share_key(share: float) -> str:
    """0.005 -> 'top0_5pct', 0.05 -> 'top5pct': the suffix of the PPV/sensitivity columns."""
    return f"top{share * 100:g}pct".replace(".", "_")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35.0, 35.0)))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of logit(P(y)) on logit(p); (1, 0) is perfect calibration.

    Unpenalised logistic regression of y on logit(p), by Newton-Raphson (IRLS): a few passes
    over the data, cheap enough to repeat in every subgroup.
    """
    x = _logit(np.asarray(p, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64)
    beta = np.array([0.0, 1.0])  # intercept, slope: start at "perfectly calibrated"
    for _ in range(25):
        q = _expit(beta[0] + beta[1] * x)
        w = q * (1 - q)
        r = y - q
        grad = np.array([r.sum(), (r * x).sum()])
        h = np.array([[w.sum(), (w * x).sum()], [(w * x).sum(), (w * x * x).sum()]])
        try:
            step = np.linalg.solve(h, grad)
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        beta = beta + step
        if not np.isfinite(beta).all() or np.abs(beta).max() > 1e3:
            return float("nan"), float("nan")  # separable: no finite maximum
        if np.abs(step).max() < 1e-8:
            break
    return float(beta[1]), float(beta[0])


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
        "brier": float(np.mean((p - y) ** 2)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "observed_expected": float(y.sum() / p.sum()),
    }
    for share in TOP_SHARES:
        ppv, sens = top_share_ppv_sensitivity(y, p, share)
        metrics[f"ppv_{share_key(share)}"] = ppv
        metrics[f"sensitivity_{share_key(share)}"] = sens
    return metrics


def subgroup_metrics(
    y: np.ndarray,
    p: np.ndarray,
    groups: dict[str, np.ndarray | pl.Series],
    min_count: int = MIN_SUBGROUP,
) -> pl.DataFrame:
    """The headline metrics within each subgroup of each dimension (e.g. "imd_quintile").

    PPV and sensitivity use the population-wide top shares (the patients a team would be
    sent), counted within the subgroup. A subgroup with fewer than `min_count` patients,
    events or non-events gets its counts only, every metric null; PPV and sensitivity are
    null too where 1-7 flagged patients had the outcome or fewer than 8 were flagged.
    Returns dimension, subgroup, patients, events and the metrics, one row per subgroup.
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    n = len(p)
    order = np.argsort(-p, kind="stable")  # highest first, ties by position
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    flagged = {s: rank < max(1, int(round(s * n))) for s in TOP_SHARES}
    frame = pl.DataFrame(
        {"_y": y, "_p": p, **{f"_f{i}": f for i, f in enumerate(flagged.values())}}
    )
    rows = []
    for dimension, values in groups.items():
        values = values if isinstance(values, pl.Series) else pl.Series(values)
        g = frame.with_columns(values.alias("_g").cast(pl.String).fill_null("unknown"))
        g = g.with_columns(pl.col("_p").rank("average").over("_g").alias("_r"))
        agg = g.group_by("_g").agg(
            pl.len().alias("patients"),
            pl.col("_y").sum().alias("events"),
            pl.col("_p").sum().alias("expected"),
            ((pl.col("_p") - pl.col("_y")) ** 2).mean().alias("brier"),
            pl.col("_r").filter(pl.col("_y") == 1).sum().alias("_rank_sum"),
            *[
                (pl.col("_y") * pl.col(f"_f{i}")).sum().alias(f"_tp{i}")
                for i in range(len(TOP_SHARES))
            ],
            *[pl.col(f"_f{i}").sum().alias(f"_fl{i}") for i in range(len(TOP_SHARES))],
        )
        codes = (g["_g"].rank("dense").to_numpy() - 1).astype(np.int64)
        labels = g["_g"].unique().sort().to_list()  # the dense rank's order
        order_by_group = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order_by_group], np.arange(len(labels) + 1))
        rows_of = {lab: order_by_group[bounds[k]:bounds[k + 1]] for k, lab in enumerate(labels)}
        for row in agg.sort("_g").to_dicts():
            events, patients = int(row["events"]), int(row["patients"])
            non_events = patients - events
            out = {"dimension": dimension, "subgroup": row["_g"], "patients": patients,
                   "events": events}
            shown = min(patients, events, non_events) >= min_count
            metrics: dict[str, float | None] = dict.fromkeys(
                ["auroc", "brier", "calibration_slope", "calibration_intercept",
                 "observed_expected"]
                + [f"{m}_{share_key(s)}" for s in TOP_SHARES for m in ("ppv", "sensitivity")]
            )
            if shown:
                members = rows_of[row["_g"]]
                slope, intercept = calibration_slope_intercept(y[members], p[members])
                metrics |= {
                    "auroc": (row["_rank_sum"] - events * (events + 1) / 2) / (events * non_events),
                    "brier": row["brier"],
                    "calibration_slope": slope,
                    "calibration_intercept": intercept,
                    "observed_expected": events / row["expected"],
                }
                for i, s in enumerate(TOP_SHARES):
                    fl, tp = row[f"_fl{i}"], row[f"_tp{i}"]
                    # a rate is shown only where its numerator (0 aside) and denominator are >= 8
                    if fl >= min_count and (tp == 0 or tp >= min_count):
                        metrics[f"ppv_{share_key(s)}"] = tp / fl
                        metrics[f"sensitivity_{share_key(s)}"] = tp / events
            rows.append(out | metrics)
    schema = {"dimension": pl.String, "subgroup": pl.String, "patients": pl.Int64,
              "events": pl.Int64} | {k: pl.Float64 for k in rows[0] if k not in
                                     {"dimension", "subgroup", "patients", "events"}}
    return pl.DataFrame(rows, schema=schema)


def net_benefit(
    y: np.ndarray, p: np.ndarray, thresholds: tuple[float, ...] = DECISION_THRESHOLDS
) -> pl.DataFrame:
    """The decision curve: net benefit of acting on patients with risk >= each threshold,
    beside acting on everyone (treat all); acting on no one has net benefit 0."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    n = len(y)
    order = np.argsort(-p, kind="stable")
    sorted_p, cum_events = p[order], np.cumsum(y[order])
    prevalence = y.mean()
    rows = []
    for t in thresholds:
        k = int(np.searchsorted(-sorted_p, -t, side="right"))  # patients with p >= t
        tp = int(cum_events[k - 1]) if k else 0
        fp = k - tp
        odds = t / (1 - t)
        rows.append({
            "threshold": float(t),
            "net_benefit": tp / n - fp / n * odds,
            "net_benefit_treat_all": prevalence - (1 - prevalence) * odds,
        })
    return pl.DataFrame(rows)


def recalibrate_to_rate(p: np.ndarray, rate: float) -> np.ndarray:
    """Shift every score's log-odds by one constant so that their mean equals `rate`.

    Calibration-in-the-large to a known event rate: it keeps the ranking and the slope.
    Used with the latest *observed* rate (the training outcomes), never evaluation outcomes.
    """
    x = _logit(np.asarray(p, dtype=np.float64))
    delta = 0.0
    for _ in range(50):
        q = _expit(x + delta)
        gap = q.mean() - rate
        if abs(gap) < 1e-10:
            break
        delta -= gap / max((q * (1 - q)).mean(), 1e-12)
    return _expit(x + delta)
