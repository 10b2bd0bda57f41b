"""The further Cambridge Multimorbidity Score conditions as two inputs, not one each.

The default extract carries 40 condition flags: the 19 QOF registers and 21 further CMS
conditions (anxiety, hearing loss, IBS, ...). Each of the 21 is rare or mild for emergency
admission, and as 21 more columns they made every fitted model's fit, and the whole run,
about a quarter slower (issue #11). The fitted models (logistic, boosting, the cost model)
therefore see them as

- `cms_further_score`: the sum of the published CMS 1-year unplanned-admission weights of the
  further conditions present (phm/reference/cms_conditions.csv, via phm.cms), and
- `cms_further_count`: how many of them are present,

while every QOF register, and any other configured flag, stays a column of its own. The
weights are Payne et al.'s, fixed, not fitted on our data; the models learn how much the score
and the count matter. The step sits inside each model's Pipeline, so the feature matrix, the
CMS baseline (which weights every condition itself) and the reasons for each score (a factor
set to absent changes the score it feeds) keep every flag by name. An extract of the 19
registers has none of the 21: the step is then a pass-through and the models are as before.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from phm.cms import cms_conditions
from phm.contract import CMS_CONDITIONS
from phm.features import FeatureSpec


def further_cms_weights(spec: FeatureSpec) -> dict[str, float]:
    """Each configured flag that is a further (non-register) CMS condition, with its weight."""
    weight = {col: c.weight for c in cms_conditions() for col in c.columns}
    return {c: weight[c] for c in spec.ltc_columns if c in CMS_CONDITIONS and c in weight}


class ConditionScore(TransformerMixin, BaseEstimator):
    """Replace some 0/1 columns of X by their weighted sum and their count (appended last).

    Parameters
    ----------
    columns : indices of the columns to replace (empty: X passes through unchanged).
    weights : the fixed weight of each, in the same order (None: 1 each).
    """

    def __init__(self, columns: tuple[int, ...] = (), weights: tuple[float, ...] | None = None):
        self.columns = columns
        self.weights = weights

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        columns = list(self.columns)
        if any(not 0 <= c < X.shape[1] for c in columns) or len(set(columns)) != len(columns):
            raise ValueError(f"X has {X.shape[1]} feature(s); columns {self.columns} do not fit it")
        w = np.ones(len(columns)) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (len(columns),):
            raise ValueError("weights and columns differ in length")
        self.weights_ = w
        self.kept_ = np.array([i for i in range(X.shape[1]) if i not in set(columns)], dtype=int)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        if not len(self.columns):
            return X
        # column by column into a column-major array: the feature matrix is column-major
        # (polars), and a row-major copy of a million rows cost more than the model saved
        out = np.empty((X.shape[0], len(self.kept_) + 2), order="F")
        for j, i in enumerate(self.kept_):
            out[:, j] = X[:, i]
        score, count = out[:, -2], out[:, -1]
        score[:], count[:] = 0.0, 0.0
        # one reused buffer, not two fresh arrays per flag: the arithmetic (and every bit of
        # the result) is unchanged, in about three quarters of the time on a million rows
        present = np.empty(X.shape[0])
        for i, weight in zip(self.columns, self.weights_, strict=True):
            np.greater(X[:, i], 0.5, out=present)  # a missing flag (NaN) counts as absent
            count += present
            present *= weight
            score += present
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing flag counts as absent; others pass through
        return tags


SCORE_NAMES = ("cms_further_score", "cms_further_count")


def scored_names(spec: FeatureSpec) -> list[str]:
    """The names of the columns `condition_score(spec)` puts out, in order."""
    further = further_cms_weights(spec)
    if not further:
        return list(spec.names)
    return [n for n in spec.names if n not in further] + list(SCORE_NAMES)


def condition_score(spec: FeatureSpec) -> ConditionScore:
    """The step for this feature spec: the further CMS conditions it has, with their weights."""
    further = further_cms_weights(spec)
    return ConditionScore(
        columns=tuple(spec.names.index(c) for c in further),
        weights=tuple(further.values()),
    )
