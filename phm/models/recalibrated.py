"""A Platt step fitted on a held-out part of the training data: for models whose
probabilities come out too extreme (or too timid) though their ranking is good.

Configuration names the models to wrap (`model.recalibrate`). The wrapped model is fitted on
(1 - calibration_share) of the training rows; the logistic recalibration of its log-odds on
the rest. Nothing from the evaluation snapshot is used.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from phm.evaluation import calibration_slope_intercept

CALIBRATION_SHARE = 0.2  # of the training rows, held out for the Platt step


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class PlattRecalibrated(ClassifierMixin, BaseEstimator):
    """`estimator` with its log-odds recalibrated (slope and intercept) on held-out rows.

    Parameters
    ----------
    estimator : a binary classifier with predict_proba.
    calibration_share : share of training rows held out for the recalibration.
    random_state : seed of the held-out split.
    """

    def __init__(
        self, estimator=None, calibration_share: float = CALIBRATION_SHARE, random_state: int = 0
    ):
        self.estimator = estimator
        self.calibration_share = calibration_share
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) > 2:
            raise ValueError("Only binary classification is supported.")
        rng = np.random.default_rng(self.random_state)
        held = rng.random(len(y)) < self.calibration_share
        if held.all() or not held.any() or len(np.unique(encoded[~held])) < len(self.classes_):
            held = np.zeros(len(y), dtype=bool)  # too few rows to hold any out: no recalibration
        self.estimator_ = clone(self.estimator).fit(X[~held], y[~held])
        self.slope_, self.intercept_ = 1.0, 0.0
        if held.any() and len(self.classes_) == 2 and len(np.unique(encoded[held])) == 2:
            p = self.estimator_.predict_proba(X[held])[:, 1]
            slope, intercept = calibration_slope_intercept(encoded[held], p)
            if np.isfinite(slope) and np.isfinite(intercept) and slope > 0:
                self.slope_, self.intercept_ = slope, intercept
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        raw = self.estimator_.predict_proba(X)
        if raw.shape[1] == 1:
            return raw
        p = 1.0 / (1.0 + np.exp(-(self.intercept_ + self.slope_ * _logit(raw[:, 1]))))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        if self.estimator is not None:  # as good (or as poor, by design) as what it wraps
            tags.classifier_tags.poor_score = get_tags(self.estimator).classifier_tags.poor_score
        return tags
