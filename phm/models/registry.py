"""The name -> estimator registry that configuration refers to."""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import ClassifierMixin

from phm.errors import ConfigError
from phm.features import FeatureSpec

# A factory takes the feature spec (to locate named columns) and a seed.
ModelFactory = Callable[[FeatureSpec, int], ClassifierMixin]

MODELS: dict[str, ModelFactory] = {}


def register(name: str) -> Callable[[ModelFactory], ModelFactory]:
    def add(factory: ModelFactory) -> ModelFactory:
        if name in MODELS:
            raise ValueError(f"model '{name}' is registered twice")
        MODELS[name] = factory
        return factory

    return add


def build_model(
    name: str, spec: FeatureSpec, seed: int, recalibrate: bool = False
) -> ClassifierMixin:
    """The registered estimator, optionally with a Platt step fitted on held-out training rows."""
    if name not in MODELS:
        known = ", ".join(sorted(MODELS))
        raise ConfigError(f"Unknown model '{name}' in the configuration; known models: {known}.")
    model = MODELS[name](spec, seed)
    if recalibrate:
        from phm.models.recalibrated import PlattRecalibrated

        model = PlattRecalibrated(model, random_state=seed)
    return model
