"""docs/extending-models.md's worked example, run as written: one module registers a model,
and it is evaluated beside the others and shown in the model card."""

import re
from pathlib import Path

import pytest

from phm.contract import DEFAULT_LTCS
from phm.disclosure import DisclosurePolicy
from phm.extract import read_extract
from phm.features import feature_spec
from phm.model_card import render
from phm.models import MODELS
from phm.outcomes import label_extract
from phm.risk import evaluate_models
from phm.synth import generate_extract

pytestmark = pytest.mark.slow  # generates a small extract: ~3 s idle, 40 s on a busy machine

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending-models.md"


@pytest.fixture
def example_model():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    exec(compile(code, str(DOC), "exec"), {"__name__": "phm.models.four_factor"})
    yield "four_factor_logistic"
    MODELS.pop("four_factor_logistic", None)


def test_the_worked_example_appears_in_the_harness_and_the_card(example_model, tmp_path):
    generate_extract(tmp_path / "x", scale=0.005, seed=3, truth_dir=tmp_path / "truth")
    extract = read_extract(tmp_path / "x", DEFAULT_LTCS)
    features = label_extract(extract, feature_spec(DEFAULT_LTCS))
    evaluation = evaluate_models(
        features.labelled,
        features.spec,
        ["ltc_count_lookup", example_model],
        seed=0,
        practices=extract.practices,
    )
    row = evaluation.metrics.filter(evaluation.metrics["model"] == example_model)
    assert row.height == 1 and 0.6 < row["auroc"][0] < 1
    assert example_model in set(evaluation.subgroups["model"])
    card = render(evaluation, "ltc_count_lookup", DisclosurePolicy())
    assert f"| `{example_model}` |" in card
