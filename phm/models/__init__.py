"""Risk models: each a scikit-learn estimator, registered by name.

Adding a model is one module in this package that calls `register`, plus its name in
`model.candidates` in configs/default.yaml. Modules here are imported automatically.
"""

from __future__ import annotations

import importlib
import pkgutil

from phm.models.registry import MODELS, ModelFactory, build_model, model_notes, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["MODELS", "ModelFactory", "build_model", "model_notes", "register"]
