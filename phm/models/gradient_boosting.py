"""Histogram gradient boosting: learns interactions (conditions x age x frailty) by itself.

Shallow trees (15 leaves), large leaves (1,000 patients) and 63 bins: on a million patients
this ranks as well as deeper settings at about half the cost (measured on the synthetic LLR
population; a fixed budget keeps runs deterministic and timed).
"""

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
                    max_iter=120,
                    learning_rate=0.1,
                    max_leaf_nodes=15,
                    min_samples_leaf=1000,
                    max_bins=63,
                    l2_regularization=1.0,
                    early_stopping=False,
                    random_state=seed,
                ),
            )
        ]
    )
