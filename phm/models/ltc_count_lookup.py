"""The baseline a commissioner already has: risk looked up from the number of LTCs.

The LLR five-year plan tabulates the risk of emergency admission by LTC count (0..8+); this
estimator learns that table from training data and predicts each patient's band rate.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from phm.features import FeatureSpec
from phm.models.registry import register


class LtcCountLookup(ClassifierMixin, BaseEstimator):
    """Predicts the observed event rate of the patient's LTC-count band (0..top_band+).

    Parameters
    ----------
    ltc_count_index : column of X holding the LTC count.
    top_band : counts at or above this share one band ("8+").
    prior_strength : pseudo-patients pulling a sparse band's rate toward the overall rate.
    """

    def __init__(self, ltc_count_index: int = 0, top_band: int = 8, prior_strength: float = 1.0):
        self.ltc_count_index = ltc_count_index
        self.top_band = top_band
        self.prior_strength = prior_strength

    def _bands(self, X: np.ndarray) -> np.ndarray:
        counts = np.nan_to_num(X[:, self.ltc_count_index], nan=0.0)
        return np.clip(np.floor(counts), 0, self.top_band).astype(np.int64)

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) > 2:
            # sklearn's contract checks expect this wording for binary-only classifiers
            raise ValueError("Only binary classification is supported.")
        positive = encoded == len(self.classes_) - 1
        bands = self._bands(X)
        overall = positive.mean()
        events = np.bincount(bands, weights=positive, minlength=self.top_band + 1)
        patients = np.bincount(bands, minlength=self.top_band + 1)
        pooled = patients + self.prior_strength
        self.band_rate_ = np.divide(
            events + self.prior_strength * overall,
            pooled,
            out=np.full(self.top_band + 1, overall, dtype=float),  # an empty band: the overall rate
            where=pooled > 0,
        )
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        p = self.band_rate_[self._bands(X)]
        if len(self.classes_) == 1:
            return np.ones((X.shape[0], 1))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True  # one column, by design: it is the baseline
        return tags


@register("ltc_count_lookup")
def ltc_count_lookup(spec: FeatureSpec, seed: int) -> LtcCountLookup:
    return LtcCountLookup(ltc_count_index=spec.names.index("ltc_count"))
