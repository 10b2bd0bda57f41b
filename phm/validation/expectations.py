"""Great Expectations suites derived from the table declarations, run on polars or Spark frames.

`suite_spec(table)` turns each column's declared constraints into expectations (not null,
unique, pattern, allowed values, range), one per phrase of `Column.rules()`, so the wording of a
problem is the wording of the data dictionary. `run_suites` evaluates them and maps each failed
one to a `Problem` carrying a count and example row numbers, never a value.

Not-null, unique, allowed-set and finite rules are counted by phm/validation/rules.py on the
frame's own engine, with the same meaning and the same Problem; GX runs the ranges and
patterns, the expectations its Data Docs show. On the full synthetic extract (3 x 1.17M rows)
this took the check from 10.7 s to ~3 s.

GX has no polars support: polars frames are validated as `frame.select(columns).to_pandas()`;
Spark frames through GX's Spark data source, on the cluster.
`great_expectations` is imported only when used because the import costs 2-3 s (10 s cold).
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

import narwhals as nw
import polars as pl

from phm.engines import is_spark, row_count
from phm.errors import PhmError, Problem
from phm.extract import EXAMPLE_ROWS
from phm.schema import Column, Table
from phm.validation import rules

FINITE_RULE = "must be a finite number (NaN and infinity are not numbers; leave it empty)"

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
        return {
            "rows": self.rows,
            "expectations_evaluated": self.evaluated,
            "expectations_passed": self.passed,
            "expectations_failed": self.failed,
        }


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
        found.append(
            ("ExpectColumnValuesToBeBetween", {"min_value": column.min, "max_value": column.max})
        )
    said = column.rules()
    if len(said) != len(found):  # a new kind of constraint was declared but not mapped here
        raise PhmError(
            f"internal: column {column.name} declares rules {said} that the "
            "Great Expectations suite does not implement"
        )
    specs = [
        ExpectationSpec(
            column.name,
            kind,
            tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items()),
            _must(words),
        )
        for (kind, kw), words in zip(found, said, strict=True)
    ]
    if column.dtype == "float":  # the contract's rule on numbers: not declared per column
        specs.append(ExpectationSpec(column.name, rules.FINITE, (), FINITE_RULE))
    return specs


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
            "ignore", r"module 'sre_(constants|parse)' is deprecated", DeprecationWarning
        )
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

    Not-null, unique, allowed-set and finite rules are counted on the frame's engine
    (phm/validation/rules.py: the same meaning, a fraction of the cost); ranges and patterns
    by GX, on just the columns they name, so the Data Docs show those. Returns the problems
    (one per failed rule, in the order of the declarations) and one summary per file,
    counting every rule. Raises PhmError
    if a validator itself failed on a rule: a fault of the pipeline, never bad data.
    """
    if not frames:
        return [], []
    suites = [(file, table, frame, suite_spec(table)) for file, table, frame in frames]
    outcomes = _run_gx(
        [
            (file, table, frame, [s for s in specs if s.type not in rules.COUNTED_KINDS])
            for file, table, frame, specs in suites
        ],
        data_docs_dir,
    )
    _release_freed_memory()  # here, once GX's objects are out of scope
    problems: list[Problem] = []
    summaries: list[SuiteSummary] = []
    for file, _, frame, specs in suites:
        outcomes[file] |= _counted_outcomes(
            file, frame, [s for s in specs if s.type in rules.COUNTED_KINDS]
        )
        failed = [p for s in specs if (p := outcomes[file][(s.type, s.column)]) is not None]
        problems += failed
        summaries.append(
            SuiteSummary(file, row_count(frame), len(specs), len(specs) - len(failed), len(failed))
        )
    return problems, summaries


def _counted_outcomes(
    file: str, frame, specs: list[ExpectationSpec]
) -> dict[tuple[str, str], Problem | None]:
    """Not-null, unique, allowed-set and finite rules, counted in one pass over the frame on
    its own engine (row numbers only for the rules that failed, where rows have an order);
    None where a rule held."""
    present = nw.from_native(frame).columns
    for spec in specs:
        if spec.column not in present:
            raise PhmError(
                f"The validator itself failed on {file}, column {spec.column} ({spec.type}); "
                "this is a fault of the pipeline, not of the extract. Please report it."
            )
    found = rules.failures(
        frame,
        {
            str(i): rules.column_rule_failed(s.column, s.type, dict(s.kwargs))
            for i, s in enumerate(specs)
        },
    )
    return {
        (s.type, s.column): Problem(file, s.column, s.rule, *found[str(i)])
        if str(i) in found
        else None
        for i, s in enumerate(specs)
    }


GxOutcomes = dict[str, dict[tuple[str, str], Problem | None]]  # file -> (kind, column) -> ..


def _run_gx(
    jobs: Sequence[tuple[str, Table, pl.DataFrame, list[ExpectationSpec]]],
    data_docs_dir: Path | None,
) -> GxOutcomes:
    """Run each file's GX expectations on the columns they name; build the Data Docs."""
    outcomes: GxOutcomes = {file: {} for file, *_ in jobs}
    if data_docs_dir is None and not any(specs for *_, specs in jobs):
        return outcomes  # nothing for GX to do: skip its 2-3 s import
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
        sources = _Sources(context, run)

        for file, table, frame, specs in jobs:
            if not specs:
                continue
            key = file.replace(".", "_")  # GX stores a dotted name as folders
            suite = gx.ExpectationSuite(name=f"{table.name}__{key}__{run}")
            for spec in specs:
                cls = getattr(gxe, spec.type)
                kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in spec.kwargs}
                suite.add_expectation(cls(column=spec.column, **kwargs))
            suite = context.suites.add_or_update(suite)
            batch = (
                sources.of(frame)
                .add_dataframe_asset(f"{key}__{run}")
                .add_batch_definition_whole_dataframe("whole")
            )
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"validate__{key}__{run}", data=batch, suite=suite)
            )
            # Only the named columns: GX filters the whole frame once per expectation (a
            # missing column is left for GX to report as its own failure, as before).
            named = [c for c in dict.fromkeys(s.column for s in specs) if c in frame.columns]
            with _no_batch_fingerprint():
                result = definition.run(
                    batch_parameters={"dataframe": _batch(frame, table, named)},
                    result_format=RESULT_FORMAT,
                )
            outcomes[file] = _read_result(file, specs, result)
        if data_docs_dir is not None:
            context.build_data_docs()
        sources.delete()
    return outcomes


class _Sources:
    """A GX data source per engine, made when a frame of that engine first comes: pandas for
    polars frames, Spark's own for Spark frames (GX runs the suite on the cluster then)."""

    def __init__(self, context: Any, run: str):
        self._context, self._run, self._made = context, run, {}

    def of(self, frame: Any) -> Any:
        engine = "spark" if is_spark(frame) else "pandas"
        if engine not in self._made:
            add = getattr(self._context.data_sources, f"add_or_update_{engine}")
            self._made[engine] = add(f"phm_extract_{engine}_{self._run}")
        return self._made[engine]

    def delete(self) -> None:
        """GX keeps its last context for the process, and with it every frame handed in."""
        for source in self._made.values():
            self._context.data_sources.delete(source.name)


def _batch(frame: Any, table: Table, named: list[str]) -> Any:
    """The columns GX checks, as its engine takes them: a Spark frame as it is; a polars one
    as pandas, in the declared types (GX's range checks took twice as long on the narrow
    integers a read holds, Column.memory_type)."""
    if is_spark(frame):
        # NaN as null, as pandas has it: Spark orders NaN above every number, so a range would
        # count it too, where the finite rule alone should
        floats = {c for c in named if table.column(c).dtype == "float"}
        rows = nw.from_native(frame).select(
            nw.when(~nw.col(c).is_nan()).then(nw.col(c)).alias(c) if c in floats else nw.col(c)
            for c in named
        )
        return rows.to_native()
    declared = [pl.col(c).cast(table.column(c).polars_type) for c in named]
    return frame.select(declared).to_pandas()


def _release_freed_memory() -> None:
    """Give the validated frames' memory back: GX's objects refer to each other in cycles,
    and Arrow's allocator keeps what was freed (measured at 1.17M patients: 1330 -> 1030 MiB
    resident after validation)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def _read_result(
    file: str, specs: list[ExpectationSpec], result: Any
) -> dict[tuple[str, str], Problem | None]:
    """Map one GX validation result to a problem (or None) per expectation, counts and row
    numbers only."""
    words = {(s.type, s.column): s.rule for s in specs}
    found: dict[tuple[str, str], Problem | None] = {}
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
                "this is a fault of the pipeline, not of the extract. Please report it."
            )
        kind = _class_name(config.type)
        if r.success:
            found[(kind, column)] = None
            continue
        detail = r.result or {}
        index = detail.get("unexpected_index_list") or []
        # The pandas frame has a RangeIndex: index i is data row i + 1.
        example_rows = tuple(
            int(i) + 1 for i in index[:EXAMPLE_ROWS] if isinstance(i, numbers.Integral)
        )
        found[(kind, column)] = Problem(
            file,
            column,
            words.get((kind, column), config.type),
            int(detail.get("unexpected_count") or 0),
            example_rows,
        )
    missing = set(words) - set(found)
    if missing:
        raise PhmError(
            f"internal: Great Expectations returned no result for {sorted(missing)} on {file}"
        )
    return found


def _class_name(snake: str) -> str:
    """`expect_column_values_to_be_unique` -> `ExpectColumnValuesToBeUnique`."""
    return "".join(part.capitalize() for part in snake.split("_"))
