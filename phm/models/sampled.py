"""Fit a model on a stratified random sample of a large training snapshot.

A million patients hold far more information than a model with a few dozen inputs (or shallow
trees with leaves of hundreds of patients) can use: on the synthetic LLR population, boosting
fitted on 300,000 rows ranked within 0.001 AUROC of the fit on all 880,000 (0.7743 against
0.7751, oracle 0.788) at a third of the cost. The sample keeps each class's share, so the
event rate the model learns is the training snapshot's; small populations are used whole.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

TRAINING_ROWS = 300_000  # the most training rows a model is fitted on (phm.risk.training_xy)


def stratified_sample(y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row indices: at most `max_rows`, each class in its share of `y` (all rows if
    there are no more than `max_rows`)."""
    if len(y) <= max_rows:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        take = max(1, int(round(max_rows * len(rows) / len(y))))
        picked.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(picked))


class FitOnStratifiedSample(ClassifierMixin, BaseEstimator):
    """`estimator` fitted on at most `max_rows` training rows, sampled within each class.

    Parameters
    ----------
    estimator : a classifier with predict_proba.
    max_rows : the largest number of training rows it is fitted on.
    random_state : seed of the sample.
    """

    def __init__(self, estimator=None, max_rows: int = 300_000, random_state: int = 0):
        self.estimator = estimator
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        rows = stratified_sample(y, self.max_rows, self.random_state)
        self.n_rows_fitted_ = len(rows)
        self.estimator_ = clone(self.estimator).fit(X[rows], y[rows])
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.estimator is not None:  # as good (or as poor, by design) as what it wraps
            inner = get_tags(self.estimator)
            tags.classifier_tags.poor_score = inner.classifier_tags.poor_score
            tags.classifier_tags.multi_class = inner.classifier_tags.multi_class
        return tags
