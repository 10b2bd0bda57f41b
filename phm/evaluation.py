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


def _highest_first(p: np.ndarray) -> np.ndarray:
    """Row order by score, highest first, ties by position (one sort shared by the metrics)."""
    return np.argsort(-p, kind="stable")


def top_share_ppv_sensitivity(
    y: np.ndarray, p: np.ndarray, share: float, order: np.ndarray | None = None
) -> tuple[float, float]:
    """PPV and sensitivity when the top `share` of patients by score are flagged (`order`:
    `_highest_first(p)`, if already computed)."""
    n = max(1, int(round(share * len(p))))
    order = _highest_first(p) if order is None else order
    flagged = y[order[:n]]
    events = y.sum()
    return float(flagged.mean()), float(flagged.sum() / events) if events else float("nan")


def auroc_interval(auroc: float, events: int, non_events: int) -> tuple[float, float]:
    """95% interval for AUROC by Hanley & McNeil (1982): exact enough at ICS scale, and O(1)
    where a bootstrap over a million patients would cost seconds per model."""
    q1 = auroc / (2 - auroc)
    q2 = 2 * auroc**2 / (1 + auroc)
    var = (
        auroc * (1 - auroc) + (events - 1) * (q1 - auroc**2) + (non_events - 1) * (q2 - auroc**2)
    ) / (events * non_events)
    half = 1.959964 * np.sqrt(max(var, 0.0))
    return float(max(0.0, auroc - half)), float(min(1.0, auroc + half))


def _auroc_auprc(y: np.ndarray, p: np.ndarray, order: np.ndarray) -> tuple[float, float]:
    """AUROC and average precision from one sort, equal to scikit-learn's `roc_auc_score`
    and `average_precision_score` (tied scores form one threshold): on 1.1M patients the two
    sklearn calls re-sorted and re-checked the labels, ~1 s of CPU per model."""
    if len(y) == 0 or y.min() == y.max():  # as scikit-learn: undefined, and an error
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined.")
    sorted_p = p[order]
    # the last row of each block of tied scores: one point of the ROC and PR curves each
    last = np.flatnonzero(np.append(sorted_p[1:] != sorted_p[:-1], True))
    tp = np.cumsum(y[order])[last].astype(np.float64)
    fp = (last + 1) - tp
    tpr, fpr = tp / tp[-1], fp / fp[-1]
    auroc = float(np.trapezoid(np.append(0.0, tpr), np.append(0.0, fpr)))
    auprc = float(np.sum(np.diff(np.append(0.0, tpr)) * tp / (last + 1)))
    return auroc, auprc


def evaluate_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every headline metric for one model on one evaluation set."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    slope, intercept = calibration_slope_intercept(y, p)
    order = _highest_first(p)
    auroc, auprc = _auroc_auprc(y, p, order)
    lo, hi = auroc_interval(auroc, int(y.sum()), int(len(y) - y.sum()))
    metrics = {
        "patients": float(len(y)),
        "events": float(y.sum()),
        "event_rate": float(y.mean()),
        "auroc": auroc,
        "auroc_ci_low": lo,
        "auroc_ci_high": hi,
        "auprc": auprc,
        "brier": float(np.mean((p - y) ** 2)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "observed_expected": float(y.sum() / p.sum()),
    }
    for share in TOP_SHARES:
        ppv, sens = top_share_ppv_sensitivity(y, p, share, order)
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
    order = _highest_first(p)
    flagged = [order[: max(1, int(round(s * n)))] for s in TOP_SHARES]  # rows, per top share
    rows = []
    for dimension, values in groups.items():
        codes, labels = _group_codes(values)
        # rows of each subgroup, by score (one pass over the population's order)
        by_group = order[::-1][np.argsort(codes[order[::-1]], kind="stable")]
        bounds = np.searchsorted(codes[by_group], np.arange(len(labels) + 1))
        rank_sum = _event_rank_sums(y, p, codes, by_group, bounds)
        patients = np.bincount(codes, minlength=len(labels))
        events, expected, squared_error = (
            np.bincount(codes, weights=w, minlength=len(labels)) for w in (y, p, (p - y) ** 2)
        )
        fls = [np.bincount(codes[f], minlength=len(labels)) for f in flagged]
        tps = [np.bincount(codes[f], weights=y[f], minlength=len(labels)) for f in flagged]
        for k, label in enumerate(labels):
            n_k, e_k = int(patients[k]), int(events[k])
            non_events = n_k - e_k
            out = {"dimension": dimension, "subgroup": label, "patients": n_k, "events": e_k}
            shown = min(n_k, e_k, non_events) >= min_count
            metrics: dict[str, float | None] = dict.fromkeys(
                [
                    "auroc",
                    "brier",
                    "calibration_slope",
                    "calibration_intercept",
                    "observed_expected",
                ]
                + [f"{m}_{share_key(s)}" for s in TOP_SHARES for m in ("ppv", "sensitivity")]
            )
            if shown:
                members = by_group[bounds[k] : bounds[k + 1]]
                slope, intercept = calibration_slope_intercept(y[members], p[members])
                metrics |= {
                    "auroc": (rank_sum[k] - e_k * (e_k + 1) / 2) / (e_k * non_events),
                    "brier": squared_error[k] / n_k,
                    "calibration_slope": slope,
                    "calibration_intercept": intercept,
                    "observed_expected": e_k / expected[k],
                }
                for i, s in enumerate(TOP_SHARES):
                    fl, tp = int(fls[i][k]), int(tps[i][k])
                    # a rate is shown only where its numerator (0 aside) and denominator are >= 8
                    if fl >= min_count and (tp == 0 or tp >= min_count):
                        metrics[f"ppv_{share_key(s)}"] = tp / fl
                        metrics[f"sensitivity_{share_key(s)}"] = tp / e_k
            rows.append(out | metrics)
    schema = {
        "dimension": pl.String,
        "subgroup": pl.String,
        "patients": pl.Int64,
        "events": pl.Int64,
    } | {k: pl.Float64 for k in rows[0] if k not in {"dimension", "subgroup", "patients", "events"}}
    return pl.DataFrame(rows, schema=schema)


def _group_codes(values: np.ndarray | pl.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's subgroup as an integer (nulls are "unknown"), and the sorted labels."""
    text = values if isinstance(values, pl.Series) else pl.Series(values)
    text = text.cast(pl.String).fill_null("unknown")
    labels = text.unique().sort().to_list()
    codes = text.cast(pl.Enum(labels)).to_physical().to_numpy()
    # small integers: numpy's stable sort of them is a radix sort, linear in the rows
    return codes.astype(np.int16 if len(labels) < 2**15 else np.int64), labels


def _event_rank_sums(
    y: np.ndarray, p: np.ndarray, codes: np.ndarray, by_group: np.ndarray, bounds: np.ndarray
) -> np.ndarray:
    """Per subgroup, the sum of its events' ranks by score within the subgroup (tied scores
    share their average rank): the Mann-Whitney statistic behind each subgroup's AUROC.

    `by_group` lists the rows by subgroup, then by score; `bounds` where each subgroup starts.
    """
    n = len(by_group)
    g, s = codes[by_group], p[by_group]
    is_start = np.append(True, (g[1:] != g[:-1]) | (s[1:] != s[:-1]))
    starts = np.flatnonzero(is_start)
    ends = np.append(starts[1:], n)  # each block of tied scores in one subgroup
    block = np.cumsum(is_start) - 1
    mid = (starts + ends - 1) / 2.0  # average position of each tied block
    ranks = mid[block] - bounds[:-1][g] + 1  # 1-based within the subgroup
    return np.bincount(g, weights=ranks * y[by_group], minlength=len(bounds) - 1)


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
        rows.append(
            {
                "threshold": float(t),
                "net_benefit": tp / n - fp / n * odds,
                "net_benefit_treat_all": prevalence - (1 - prevalence) * odds,
            }
        )
    return pl.DataFrame(rows)


def roc_points(y: np.ndarray, p: np.ndarray, points: int = 400) -> pl.DataFrame:
    """The ROC curve (fpr, tpr) at no more than `points` of its thresholds, evenly spaced
    along it: what the model card draws, a few hundred rows whatever the population."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), points)).astype(int))
    return pl.DataFrame({"fpr": fpr[keep], "tpr": tpr[keep]})


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 20) -> pl.DataFrame:
    """Mean predicted risk and observed event rate in each of `bins` equal-sized groups of
    patients ordered by risk (ties in the order given): the model card's calibration plot."""
    rows = pl.DataFrame({"risk": p, "outcome": y.astype(np.float64)})
    group = (pl.col("risk").rank("ordinal") * bins / pl.len()).ceil().cast(pl.Int64)
    return (
        rows.group_by(group.alias("bin"))
        .agg(pl.col("risk").mean(), pl.col("outcome").mean())
        .sort("bin")
    )


def log_odds_shift(p: np.ndarray, rate: float) -> float:
    """The constant that, added to every score's log-odds, makes their mean equal `rate`.

    Calibration-in-the-large: estimated where outcomes are known (`rate` observed there), it
    is the period effect the features do not explain. It keeps the ranking and the slope.
    """
    x = _logit(np.asarray(p, dtype=np.float64))
    delta = 0.0
    for _ in range(50):
        q = _expit(x + delta)
        gap = q.mean() - rate
        if abs(gap) < 1e-10:
            break
        delta -= gap / max((q * (1 - q)).mean(), 1e-12)
    return float(delta)


def shift_log_odds(p: np.ndarray, delta: float) -> np.ndarray:
    """Every score with `delta` added to its log-odds (0: unchanged)."""
    p = np.asarray(p, dtype=np.float64)
    return p if delta == 0.0 else _expit(_logit(p) + delta)


def auroc_difference(y: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> tuple[float, float, float]:
    """AUROC(p1) - AUROC(p2) on the same patients, with DeLong's 95% interval for correlated
    curves (DeLong, DeLong & Clarke-Pearson 1988): a few sorts, no bootstrap."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    m, n = int(y.sum()), int((~y).sum())
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    v10, v01 = [], []
    for p in (np.asarray(p1, np.float64), np.asarray(p2, np.float64)):
        everyone = rankdata(p)  # midranks: tied scores count one half
        v10.append((everyone[y] - rankdata(p[y])) / n)  # per event: share of non-events below
        v01.append(1.0 - (everyone[~y] - rankdata(p[~y])) / m)  # per non-event: events above
    diff = float(v10[0].mean() - v10[1].mean())
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    contrast = np.array([1.0, -1.0])
    var = contrast @ (s10 / m + s01 / n) @ contrast
    half = 1.959964 * np.sqrt(max(float(var), 0.0))
    return diff, diff - half, diff + half
