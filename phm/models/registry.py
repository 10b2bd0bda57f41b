"""The name -> estimator registry that configuration refers to."""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import ClassifierMixin

from phm.errors import ConfigError
from phm.features import FeatureSpec

# A factory takes the feature spec (to locate named columns) and a seed.
ModelFactory = Callable[[FeatureSpec, int], ClassifierMixin]

# What a model could not use of this extract, in words (None: nothing to say).
ModelNotes = Callable[[FeatureSpec], str | None]

MODELS: dict[str, ModelFactory] = {}
NOTES: dict[str, ModelNotes] = {}


def register(name: str, notes: ModelNotes | None = None) -> Callable[[ModelFactory], ModelFactory]:
    """Register a model factory under `name`; `notes` says what inputs it lacked (e.g. the
    CMS conditions an extract does not carry), for the model card and model_evaluation."""

    def add(factory: ModelFactory) -> ModelFactory:
        if name in MODELS:
            raise ValueError(f"model '{name}' is registered twice")
        MODELS[name] = factory
        if notes is not None:
            NOTES[name] = notes
        return factory

    return add


def model_notes(name: str, spec: FeatureSpec) -> str | None:
    """What model `name` lacked in this extract's features, or None."""
    return NOTES[name](spec) if name in NOTES else None


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
