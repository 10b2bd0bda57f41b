"""The Cambridge Multimorbidity Score (CMS) with age and sex: the published-score baseline.

Payne et al. (CMAJ 2020;192:E107) weight 37 conditions for four outcomes; this model uses the
1-year unplanned-admission weights (`weight_unplanned_admission` in
phm/reference/cms_conditions.csv, from the paper's appendix 5). It is what a commissioner could
use without any model of ours, so the model card states what ours add over it.

CAUTION: the CSV's unplanned-admission column was transcribed once and not independently
checked (its general-outcome and mortality columns agree with two other implementations).

What is fitted, and why only that. The paper's C = 0.742 for unplanned admission is "age and
sex adjusted": the score enters a logistic model beside age and sex. So the published weights
fix the relative importance of the conditions, and the fit learns only
    logit(p) = a + b * CMS/100 + s(age) + c * male
- a: the event rate of this population (calibration-in-the-large);
- b: the scale of the score here (the weights' units are the paper's, from another
  population; b is the calibration slope of the score, not a re-weighting of conditions);
- s(age), c: the age and sex adjustment the paper's discrimination figure includes. Age is a
  cubic spline (5 knots) because admission risk is U-shaped in age (infants, the old); one
  straight line would penalise the baseline for our choice, not for the score.
About nine numbers, against ~45 in the fitted logistic model and thousands of leaves in
boosting. Nothing per condition is fitted.

Where the extract lacks CMS conditions (most carry only the 19 QOF registers), the score sums
those it has; `cms_coverage` says which were missing, and the model card and
published.model_evaluation report it. Anxiety-or-depression (ANX+DEP) counts once if either
`ltc_anxiety` or `ltc_depression` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from phm.cms import CmsCondition, cms_conditions
from phm.features import FeatureSpec
from phm.models.registry import register
from phm.models.sampled import TRAINING_ROWS, FitOnStratifiedSample

SCORE_UNIT = 100.0  # only to keep the fitted slope of order 1; b absorbs the units


@dataclass(frozen=True)
class CmsCoverage:
    """Which CMS conditions an extract's flags can count."""

    used: tuple[CmsCondition, ...]
    missing: tuple[CmsCondition, ...]
    partial: tuple[tuple[CmsCondition, tuple[str, ...]], ...]  # (condition, absent columns)

    def describe(self) -> str | None:
        """One sentence for the model card and published.model_evaluation; None if complete."""
        if not self.missing and not self.partial:
            return None
        total = len(self.used) + len(self.missing)
        parts = []
        if self.missing:
            names = ", ".join(c.name for c in self.missing)
            parts.append(
                f"{len(self.missing)} of {total} CMS conditions not in the extract: {names}"
            )
        for condition, absent in self.partial:
            parts.append(f"{condition.name} counted without {', '.join(absent)}")
        return "; ".join(parts)


def cms_coverage(feature_names: Sequence[str]) -> CmsCoverage:
    present = set(feature_names)
    used, missing, partial = [], [], []
    for condition in cms_conditions():
        have = [c for c in condition.columns if c in present]
        if not have:
            missing.append(condition)
            continue
        used.append(condition)
        if len(have) < len(condition.columns):
            partial.append((condition, tuple(c for c in condition.columns if c not in present)))
    return CmsCoverage(tuple(used), tuple(missing), tuple(partial))


class CambridgeMultimorbidityScore(ClassifierMixin, BaseEstimator):
    """Logistic model of the outcome on a fixed-weight condition score, age and sex.

    Parameters
    ----------
    condition_columns : per condition, the X columns any one of which (value > 0.5) counts it;
        None: every column but age and sex is a condition.
    weights : the fixed weight of each condition (None: 1 each).
    age_index, male_index : columns of age and male sex (None: no such adjustment).
    age_knots : knots of the cubic spline on age.
    """

    def __init__(
        self,
        condition_columns: tuple[tuple[int, ...], ...] | None = None,
        weights: tuple[float, ...] | None = None,
        age_index: int | None = None,
        male_index: int | None = None,
        age_knots: int = 5,
    ):
        self.condition_columns = condition_columns
        self.weights = weights
        self.age_index = age_index
        self.male_index = male_index
        self.age_knots = age_knots

    def _conditions(self, n_features: int) -> tuple[tuple[tuple[int, ...], ...], np.ndarray]:
        if self.condition_columns is not None:
            groups = tuple(tuple(g) for g in self.condition_columns)
        else:
            adjust = {self.age_index, self.male_index}
            groups = tuple((i,) for i in range(n_features) if i not in adjust)
        w = np.ones(len(groups)) if self.weights is None else np.asarray(self.weights, float)
        if len(w) != len(groups):
            raise ValueError("weights and condition_columns differ in length")
        needed = max([i for g in groups for i in g] + [self.age_index or 0, self.male_index or 0])
        if needed >= n_features:
            raise ValueError(f"X has {n_features} feature(s); the configured columns need more")
        return groups, w

    def cms_score(self, X) -> np.ndarray:
        """The score: the sum of the weights of the conditions present (in published units)."""
        X = np.asarray(X, dtype=np.float64)
        groups, w = self._conditions(X.shape[1])
        score = np.zeros(X.shape[0])
        # reused buffers, not fresh arrays per condition (37 of them on a million rows): the
        # same arithmetic, every bit of the score unchanged
        present, weighted = np.empty(X.shape[0], dtype=bool), np.empty(X.shape[0])
        for columns, weight in zip(groups, w, strict=True):
            if not columns:
                continue  # a condition the extract lacks: never present
            np.greater(X[:, columns[0]], 0.5, out=present)  # NaN (missing) counts as absent
            for i in columns[1:]:  # a condition of several flags: any of them
                present |= X[:, i] > 0.5
            np.multiply(present, weight, out=weighted)
            score += weighted
        return score

    def _design(self, X: np.ndarray) -> np.ndarray:
        parts = [self.cms_score(X)[:, None] / SCORE_UNIT]
        if self.age_index is not None:
            parts.append(self.age_spline_.transform(X[:, [self.age_index]]))
        if self.male_index is not None:
            parts.append(X[:, [self.male_index]])
        return np.hstack(parts)

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self._conditions(X.shape[1])  # the configured columns exist
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) > 2:
            raise ValueError("Only binary classification is supported.")
        if self.age_index is not None:
            self.age_spline_ = SplineTransformer(n_knots=self.age_knots, degree=3).fit(
                X[:, [self.age_index]]
            )
        self.adjustment_ = None
        if len(self.classes_) == 2:
            self.adjustment_ = Pipeline(
                [("scaled", StandardScaler()), ("logit", LogisticRegression(max_iter=1000))]
            ).fit(self._design(X), encoded)
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        if self.adjustment_ is None:
            return np.ones((X.shape[0], 1))
        return self.adjustment_.predict_proba(self._design(X))

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True  # fixed weights, by design: it is a baseline
        return tags


def _coverage_note(spec: FeatureSpec) -> str | None:
    return cms_coverage(spec.names).describe()


@register("cms_age_sex", notes=_coverage_note)
def cms_age_sex(spec: FeatureSpec, seed: int) -> FitOnStratifiedSample:
    names = spec.names
    used = cms_coverage(names).used
    model = CambridgeMultimorbidityScore(
        condition_columns=tuple(
            tuple(names.index(c) for c in condition.columns if c in names) for condition in used
        ),
        weights=tuple(condition.weight for condition in used),
        age_index=names.index("age"),
        male_index=names.index("male"),
    )
    return FitOnStratifiedSample(model, max_rows=TRAINING_ROWS, random_state=seed)
