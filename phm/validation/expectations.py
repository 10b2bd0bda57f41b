"""Great Expectations suites derived from the table declarations, run on polars frames.

`suite_spec(table)` turns each column's declared constraints into expectations (not null,
unique, pattern, allowed values, range), one per phrase of `Column.rules()`, so the wording of a
problem is the wording of the data dictionary. `run_suites` validates frames with GX 1.x and maps
each failed expectation to a `Problem` carrying a count and example row numbers, never a value.

GX has no polars support: frames are validated as `frame.to_pandas()`. `great_expectations` is
imported inside `run_suites` because the import costs 2-3 s (10 s cold).
"""

from __future__ import annotations

import contextlib
import numbers
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from phm.errors import PhmError, Problem
from phm.schema import Column, Table

EXAMPLE_ROWS = 5

# Counts and row numbers only: GX is told not to collect the unexpected values at all.
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation derived from a column declaration, with its rule in words."""

    column: str
    type: str  # the GX expectation class name
    kwargs: tuple[tuple[str, Any], ...]
    rule: str


@dataclass(frozen=True)
class SuiteSummary:
    """What the suite did on one file: counts only, fit for Dagster metadata."""

    file: str
    rows: int
    evaluated: int
    passed: int
    failed: int

    def as_metadata(self) -> dict[str, int]:
        return {"rows": self.rows, "expectations_evaluated": self.evaluated,
                "expectations_passed": self.passed, "expectations_failed": self.failed}


def _must(said: str) -> str:
    """`Column.rules()` phrase -> a rule a value must meet: "0 to 115" -> "must be 0 to 115"."""
    if said == "not null":
        return "must not be null"
    if said.startswith("matches "):
        return "must match " + said.removeprefix("matches ")
    return "must be " + said


def column_specs(column: Column) -> list[ExpectationSpec]:
    """The expectations a column's declaration implies, in the order of `column.rules()`."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not column.nullable:
        found.append(("ExpectColumnValuesToNotBeNull", {}))
    if column.unique:
        found.append(("ExpectColumnValuesToBeUnique", {}))
    if column.pattern:
        found.append(("ExpectColumnValuesToMatchRegex", {"regex": column.pattern}))
    if column.allowed:
        found.append(("ExpectColumnValuesToBeInSet", {"value_set": list(column.allowed)}))
    if column.min is not None or column.max is not None:
        found.append(("ExpectColumnValuesToBeBetween",
                      {"min_value": column.min, "max_value": column.max}))
    said = column.rules()
    if len(said) != len(found):  # a new kind of constraint was declared but not mapped here
        raise PhmError(f"internal: column {column.name} declares rules {said} that the "
                       "Great Expectations suite does not implement")
    return [
        ExpectationSpec(column.name, kind,
                        tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items()),
                        _must(words))
        for (kind, kw), words in zip(found, said, strict=True)
    ]


def suite_spec(table: Table) -> list[ExpectationSpec]:
    """Every expectation the declaration of `table` implies."""
    return [spec for column in table.columns for spec in column_specs(column)]


@contextlib.contextmanager
def _quiet_gx() -> Iterator[None]:
    """Warnings GX itself raises, filtered narrowly (warnings are errors in our tests).

    - importing GX imports the deprecated `sre_constants` and `sre_parse` modules
      (pyproject only names sre_constants).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r"module 'sre_(constants|parse)' is deprecated", DeprecationWarning)
        yield


@contextlib.contextmanager
def _no_batch_fingerprint() -> Iterator[None]:
    """Skip GX's md5 fingerprint of each pandas batch while we validate.

    GX hashes every in-memory frame under 1 GB (`hash_pandas_object` over all columns) only to
    store a `pandas_data_fingerprint` batch marker that nothing here reads: measured 1.4-2.1 s
    per 1.2M-row snapshot, a third of the suite's time. GX skips it above HASH_THRESHOLD bytes;
    lowering the threshold for the duration of our run is the one knob it offers. If a GX
    upgrade drops the constant, this does nothing and validation is just slower.
    """
    from great_expectations.execution_engine import pandas_execution_engine as engine

    saved = getattr(engine, "HASH_THRESHOLD", None)
    if saved is None:
        yield
        return
    engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        engine.HASH_THRESHOLD = saved


def run_suites(
    frames: Sequence[tuple[str, Table, pl.DataFrame]],
    *,
    data_docs_dir: Path | None = None,
) -> tuple[list[Problem], list[SuiteSummary]]:
    """Validate each (file name, table, frame) with the suite derived from the table.

    Returns the problems (one per failed expectation) and one summary per file. Raises
    PhmError if GX itself failed on an expectation: that is a fault of the validator, never
    reported as bad data.
    """
    if not frames:
        return [], []
    with _quiet_gx():
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import ProgressBarsConfig

        if data_docs_dir is not None:
            data_docs_dir.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(data_docs_dir))
        else:
            context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        run = uuid.uuid4().hex[:8]  # unique names: re-runs within one process do not collide
        source = context.data_sources.add_or_update_pandas(f"phm_extract_{run}")

        problems: list[Problem] = []
        summaries: list[SuiteSummary] = []
        for file, table, frame in frames:
            specs = suite_spec(table)
            key = file.replace(".", "_")  # GX stores a dotted name as folders
            suite = gx.ExpectationSuite(name=f"{table.name}__{key}__{run}")
            for spec in specs:
                cls = getattr(gxe, spec.type)
                kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in spec.kwargs}
                suite.add_expectation(cls(column=spec.column, **kwargs))
            suite = context.suites.add_or_update(suite)
            batch = source.add_dataframe_asset(f"{key}__{run}") \
                .add_batch_definition_whole_dataframe("whole")
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"validate__{key}__{run}", data=batch, suite=suite))
            with _no_batch_fingerprint():
                result = definition.run(batch_parameters={"dataframe": frame.to_pandas()},
                                        result_format=RESULT_FORMAT)
            found, summary = _read_result(file, frame.height, specs, result)
            problems += found
            summaries.append(summary)
        if data_docs_dir is not None:
            context.build_data_docs()
    return problems, summaries


def _read_result(file: str, rows: int, specs: list[ExpectationSpec], result: Any
                 ) -> tuple[list[Problem], SuiteSummary]:
    """Map one GX validation result to problems and a summary, counts and row numbers only."""
    words = {(s.type, s.column): s.rule for s in specs}
    problems: list[Problem] = []
    passed = 0
    for r in result.results:
        config = r.expectation_config
        column = config.kwargs.get("column")
        info = r.exception_info or {}
        # exception_info is a dict; for some failures a dict of dicts keyed by metric.
        infos = [info] if "raised_exception" in info else list(info.values())
        if any(isinstance(i, dict) and i.get("raised_exception") for i in infos):
            # GX's message could quote data: say which expectation failed, not what it said.
            raise PhmError(
                f"The validator itself failed on {file}, column {column} ({config.type}); "
                "this is a fault of the pipeline, not of the extract. Please report it.")
        if r.success:
            passed += 1
            continue
        detail = r.result or {}
        index = detail.get("unexpected_index_list") or []
        # The pandas frame has a RangeIndex: index i is data row i + 1.
        example_rows = tuple(
            int(i) + 1 for i in index[:EXAMPLE_ROWS] if isinstance(i, numbers.Integral))
        kind = _class_name(config.type)
        problems.append(Problem(
            file, column, words.get((kind, column), config.type),
            int(detail.get("unexpected_count") or 0), example_rows))
    evaluated = len(result.results)
    return problems, SuiteSummary(file, rows, evaluated, passed, evaluated - passed)


def _class_name(snake: str) -> str:
    """`expect_column_values_to_be_unique` -> `ExpectColumnValuesToBeUnique`."""
    return "".join(part.capitalize() for part in snake.split("_"))
