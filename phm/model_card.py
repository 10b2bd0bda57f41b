"""The model card: every candidate model's honest evaluation, regenerated on every run.

A Markdown page (index.md) with PNG plots (ROC, calibration, decision curve) under
`<outputs>/model_card/`. Counts shown for subgroups pass disclosure control; subgroup metrics
are shown only where the subgroup has at least 8 patients, events and non-events (withheld
upstream in phm.evaluation). No patient-level value is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from phm.cost import CostPrediction
from phm.disclosure import DisclosurePolicy
from phm.evaluation import TOP_SHARES, share_key
from phm.folders import replacing_folder
from phm.risk import BASELINE_MODEL, RiskEvaluation, subgroup_table

CARD_DIMENSIONS = ("imd_quintile", "ethnicity", "sex", "age_band", "place", "pcn")


def _f(v, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


def _count(v) -> str:
    return "<8" if v is None else f"{int(v):,}"


def _plots(evaluation: RiskEvaluation, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = evaluation.metrics["model"].to_list()
    fig, ax = plt.subplots(figsize=(5, 5))
    for name in models:
        roc = evaluation.roc.filter(pl.col("model") == name)
        ax.plot(roc["fpr"], roc["tpr"], label=name)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title="ROC (evaluation snapshot)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "roc.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    top = 0.0
    for name in models:
        bins = evaluation.calibration.filter(pl.col("model") == name)
        ax.plot(bins["risk"], bins["outcome"], "o-", ms=3, label=name)
        top = max(top, bins["risk"].max(), bins["outcome"].max())
    ax.plot([0, top], [0, top], "k:", lw=0.8)
    ax.set(
        xlabel="predicted risk (mean of twentieth)",
        ylabel="observed event rate",
        title="Calibration by twentieth of risk",
    )
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "calibration.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    curve = evaluation.decision_curve
    for name in models:
        c = curve.filter(pl.col("model") == name)
        ax.plot(c["threshold"], c["net_benefit"], label=name)
    c = curve.filter(pl.col("model") == models[0])
    ax.plot(c["threshold"], c["net_benefit_treat_all"], "k--", lw=0.8, label="offer to all")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(
        xlabel="threshold probability",
        ylabel="net benefit",
        title="Decision curve",
        ylim=(-0.01, max(0.01, float(c["net_benefit_treat_all"].max()) * 1.1)),
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "decision_curve.png", dpi=100)
    plt.close(fig)


def _baseline_lines(evaluation: RiskEvaluation) -> list[str]:
    gain = evaluation.baseline_gain
    if gain is None:
        return [
            f"**Published-score baseline:** `{BASELINE_MODEL}` is not among the candidates, so "
            "this card does not say what the fitted models add over it.",
            "",
        ]
    return [
        "**Gain over the published-score baseline:** the Cambridge Multimorbidity Score with "
        "age and sex (Payne et al. 2020, published 1-year unplanned-admission weights; fitted "
        "only for intercept, score slope, age and sex; the paper reports C = 0.742) is what a "
        f"commissioner could use without any model of ours. Best model {gain.describe()}.",
        "",
    ]


def _inputs_missing_lines(m: pl.DataFrame) -> list[str]:
    missing = m.filter(pl.col("inputs_missing").is_not_null())
    if missing.height == 0:
        return []
    lines = ["", "**Inputs the extract lacks:**", ""]
    for r in missing.to_dicts():
        lines.append(f"- `{r['model']}`: {r['inputs_missing']}.")
    return lines


def _period_shift_lines(m: pl.DataFrame) -> list[str]:
    lines = [
        "",
        "## Calibration-in-the-large: the period shift",
        "",
        "Each model's log-odds shift is estimated on its training snapshot, where outcomes are "
        "known (mean risk = observed rate there), and carried forward unchanged, so a change "
        "in case mix the features capture stays in the scores. Observed/expected on the "
        "evaluation snapshot, before and after the step (after = the headline O/E):",
        "",
        "| model | shift (log-odds) | O/E before | O/E after |",
        "|---|---|---|---|",
    ]
    for r in m.to_dicts():
        shift = r["period_shift"]
        lines.append(
            f"| `{r['model']}` | {'off' if shift is None else f'{shift:+.4f}'} | "
            f"{_f(r['observed_expected_before_shift'])} | {_f(r['observed_expected'])} |"
        )
    return lines


def render(
    evaluation: RiskEvaluation,
    tiering_model: str,
    policy: DisclosurePolicy,
    cost: CostPrediction | None = None,
    source: str = "",
) -> str:
    """The card's Markdown."""
    m = evaluation.metrics
    oracle = evaluation.oracle_auroc
    best = m.sort("auroc", descending=True).row(0, named=True)
    lines = [
        "# Model card: 12-month emergency admission (or death) risk",
        "",
        f"Generated by `phm run` from {source or 'the configured extract'}. "
        "Regenerated on every run; do not edit.",
        "",
        f"**Validation:** {evaluation.plan.describe()}.",
        "",
        f"**Model used for the Kaiser tiers:** `{tiering_model}` (configuration "
        "`model.tiering_model`). Best AUROC: "
        f"`{best['model']}` ({_f(best['auroc'])}).",
        "",
        *_baseline_lines(evaluation),
    ]
    if oracle is not None:
        lines += [
            f"**Oracle (synthetic data):** the generator's true risk reaches AUROC "
            f"{_f(oracle)} on the same patients; the best model is "
            f"{_f(oracle - best['auroc'], 4)} below it.",
            "",
        ]
    else:
        lines += ["**Oracle:** not available (no generator truth for this extract).", ""]
    head = [
        "model",
        "AUROC (95% CI)",
        "AUPRC",
        "Brier",
        "slope",
        "intercept",
        "O/E",
        *[f"PPV / sens. top {s * 100:g}%" for s in TOP_SHARES],
        "recalibration",
    ]
    lines += ["## Headline metrics", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in m.to_dicts():
        cells = [
            f"`{r['model']}`" + (" (tiers)" if r["model"] == tiering_model else ""),
            f"{_f(r['auroc'])} ({_f(r['auroc_ci_low'])}-{_f(r['auroc_ci_high'])})",
            _f(r["auprc"]),
            _f(r["brier"], 4),
            _f(r["calibration_slope"]),
            _f(r["calibration_intercept"]),
            _f(r["observed_expected"]),
            *[
                f"{_f(r['ppv_' + share_key(s)])} / {_f(r['sensitivity_' + share_key(s)])}"
                for s in TOP_SHARES
            ],
            r["recalibration"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += _inputs_missing_lines(m)
    lines += _period_shift_lines(m)
    lines += [
        "",
        "![ROC curves](roc.png) ![Calibration](calibration.png)",
        "",
        "![Decision curve](decision_curve.png)",
        "",
    ]
    sub = subgroup_table(evaluation, policy)
    lines += [
        "## Calibration and discrimination by subgroup",
        "",
        "Worst observed/expected (furthest from 1) per dimension, each model:",
        "",
        "| model | " + " | ".join(CARD_DIMENSIONS) + " |",
        "|---|" + "---|" * len(CARD_DIMENSIONS),
    ]
    for name in m["model"].to_list():
        cells = []
        for d in CARD_DIMENSIONS:
            g = sub.filter(
                (pl.col("model") == name)
                & (pl.col("dimension") == d)
                & pl.col("observed_expected").is_not_null()
            )
            if g.height == 0:
                cells.append("–")
                continue
            worst = g.sort((pl.col("observed_expected") - 1).abs(), descending=True).row(
                0, named=True
            )
            cells.append(f"{_f(worst['observed_expected'])} ({worst['subgroup']})")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Every subgroup, model `{tiering_model}` (counts rounded to 5, 1-7 shown as "
        "<8; metrics withheld (–) below 8 patients, events or non-events):",
        "",
        "| dimension | subgroup | patients | events | AUROC | slope | O/E | PPV top 5% "
        "| sens. top 5% |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sub.filter(pl.col("model") == tiering_model).to_dicts():
        lines.append(
            f"| {r['dimension']} | {r['subgroup']} | {_count(r['patients'])} | "
            f"{_count(r['events'])} | {_f(r['auroc'])} | {_f(r['calibration_slope'])} | "
            f"{_f(r['observed_expected'])} | {_f(r['ppv_top5pct'])} | "
            f"{_f(r['sensitivity_top5pct'])} |"
        )
    if cost is not None:
        c = cost.metrics
        lines += [
            "",
            "## Next-year secondary-care cost",
            "",
            f"Poisson gradient boosting, {cost.design} validation (fitted on "
            f"{cost.train_snapshot}, evaluated on {cost.evaluation_snapshot}).",
            "",
            "| mean observed £ | mean predicted £ | observed/predicted | MAE £ | R² "
            "| cost share of top 5% |",
            "|---|---|---|---|---|---|",
            f"| {c['mean_observed_cost']:,.0f} | {c['mean_predicted_cost']:,.0f} | "
            f"{_f(c['observed_predicted'])} | {c['mean_absolute_error']:,.0f} | "
            f"{_f(c['r_squared'])} | {_f(c['cost_share_top5pct'])} |",
        ]
    lines += [
        "",
        "## How to read this",
        "",
        "- AUROC: chance a patient with an event is ranked above one without; the "
        "interval is Hanley & McNeil's.",
        "- Calibration slope 1 and intercept 0, observed/expected 1: predicted risks "
        "mean what they say.",
        "- Gain over the CMS baseline: the AUROC difference on the same patients, with "
        "DeLong's interval for two curves drawn on one sample.",
        "- PPV / sensitivity top k%: of the k% flagged, the share who had an event; of "
        "all events, the share flagged.",
        "- Net benefit: true positives per patient minus false positives weighted by "
        "the threshold odds; above 'offer to all' and 0, the model helps.",
        "- Add a model: docs/extending-models.md.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(
    folder: Path,
    evaluation: RiskEvaluation,
    tiering_model: str,
    policy: DisclosurePolicy,
    cost: CostPrediction | None = None,
    source: str = "",
) -> Path:
    """Write index.md and its plots into `folder`, replacing the previous card whole."""
    folder = Path(folder)
    with replacing_folder(folder) as staging:
        _plots(evaluation, staging)
        (staging / "index.md").write_text(
            render(evaluation, tiering_model, policy, cost, source), encoding="utf-8"
        )
    return folder / "index.md"
