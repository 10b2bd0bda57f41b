"""Histogram gradient boosting: learns interactions (conditions x age x frailty) by itself.

Shallow trees (15 leaves), leaves of at least 300 patients and 63 bins, fitted on a stratified
300,000-row sample with 60 rounds at learning rate 0.2. On the synthetic LLR population under
temporal validation this ranked as well as 120 rounds at 0.1 on every training row (AUROC
0.7743 against 0.7751, oracle 0.788; calibration slope 1.00 after the Platt step) at a fifth of
the fitting cost and half the prediction cost (every patient crosses half as many trees). A
fixed budget (no early stopping) keeps runs deterministic and timed. The 21 further CMS conditions
enter as their CMS-weighted score and count (phm/models/condition_score.py), the registers one
column each.
"""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from phm.features import FeatureSpec
from phm.models.condition_score import condition_score
from phm.models.registry import register
from phm.models.sampled import TRAINING_ROWS, FitOnStratifiedSample


@register("gradient_boosting")
def gradient_boosting(spec: FeatureSpec, seed: int) -> Pipeline:
    return Pipeline(
        [
            (
                "classifier",
                FitOnStratifiedSample(
                    Pipeline(
                        [
                            # the further CMS conditions enter as their score and count
                            ("conditions", condition_score(spec)),
                            (
                                "boosting",
                                HistGradientBoostingClassifier(
                                    max_iter=60,
                                    learning_rate=0.2,
                                    max_leaf_nodes=15,
                                    min_samples_leaf=300,
                                    max_bins=63,
                                    l2_regularization=1.0,
                                    early_stopping=False,
                                    random_state=seed,
                                ),
                            ),
                        ]
                    ),
                    max_rows=TRAINING_ROWS,
                    random_state=seed,
                ),
            )
        ]
    )
