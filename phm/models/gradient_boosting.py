"""Histogram gradient boosting: learns interactions (conditions x age x frailty) by itself."""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from phm.features import FeatureSpec
from phm.models.registry import register


@register("gradient_boosting")
def gradient_boosting(spec: FeatureSpec, seed: int) -> Pipeline:
    return Pipeline(
        [
            (
                "classifier",
                HistGradientBoostingClassifier(
                    max_iter=200,
                    learning_rate=0.1,
                    max_leaf_nodes=31,
                    min_samples_leaf=200,
                    l2_regularization=1.0,
                    early_stopping=False,  # a fixed budget keeps runs deterministic and timed
                    random_state=seed,
                ),
            )
        ]
    )
