"""Regularised logistic regression, with a spline on age (risk is not linear in age)."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from phm.features import FeatureSpec
from phm.models.registry import register


@register("logistic")
def logistic(spec: FeatureSpec, seed: int) -> Pipeline:
    age = [spec.names.index("age")]
    rest = [i for i in range(len(spec.names)) if i not in age]
    features = ColumnTransformer(
        [
            ("age_spline", SplineTransformer(n_knots=6, degree=3), age),
            ("scaled", StandardScaler(), rest),
        ]
    )
    return Pipeline(
        [("features", features), ("classifier", LogisticRegression(C=1.0, max_iter=1000))]
    )
