"""Regularised logistic regression, with a spline on age (risk is not linear in age).

Fitted on a stratified 300,000-row sample of the training snapshot: some 25,000 events for
about 45 coefficients is far more than enough, and a fit on a million rows cost ~11 s of CPU
on the 2-core machine (its slow BLAS makes every pass over the data count). The 21 further CMS
conditions enter as their CMS-weighted score and count (phm/models/condition_score.py).
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from phm.features import FeatureSpec
from phm.models.condition_score import condition_score, scored_names
from phm.models.registry import register
from phm.models.sampled import TRAINING_ROWS, FitOnStratifiedSample


@register("logistic")
def logistic(spec: FeatureSpec, seed: int) -> FitOnStratifiedSample:
    names = scored_names(spec)  # the further CMS conditions enter as their score and count
    age = [names.index("age")]
    rest = [i for i in range(len(names)) if i not in age]
    features = ColumnTransformer(
        [
            ("age_spline", SplineTransformer(n_knots=6, degree=3), age),
            ("scaled", StandardScaler(), rest),
        ]
    )
    model = Pipeline(
        [
            ("conditions", condition_score(spec)),
            ("features", features),
            ("classifier", LogisticRegression(C=1.0, max_iter=1000)),
        ]
    )
    return FitOnStratifiedSample(model, max_rows=TRAINING_ROWS, random_state=seed)
