"""The Great Expectations suite is derived from the declarations, and its results map to
Problems (counts and row numbers) or, when GX itself fails, to an internal error."""

from __future__ import annotations

import polars as pl
import pytest

from phm.contract import DEATHS, PRACTICES, patients_table
from phm.errors import PhmError, Problem
from phm.schema import Column, Table
from phm.validation.expectations import column_specs, run_suites, suite_spec


def test_every_declared_rule_becomes_one_expectation() -> None:
    for table in (PRACTICES, DEATHS, patients_table(), patients_table(["ltc_asthma"])):
        specs = suite_spec(table)
        # and the contract's rule on numbers, once per float column (finite values only)
        floats = sum(c.dtype == "float" for c in table.columns)
        assert len(specs) == sum(len(c.rules()) for c in table.columns) + floats


def test_expectations_for_a_column_follow_its_declaration() -> None:
    age = patients_table().column("age")
    assert [(s.type, dict(s.kwargs), s.rule) for s in column_specs(age)] == [
        ("ExpectColumnValuesToNotBeNull", {}, "must not be null"),
        ("ExpectColumnValuesToBeBetween", {"min_value": 0, "max_value": 115}, "must be 0 to 115"),
    ]
    code = PRACTICES.column("practice_code")
    assert [s.type for s in column_specs(code)] == [
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeUnique",
        "ExpectColumnValuesToMatchRegex",
    ]
    imd = patients_table().column("imd_decile")  # nullable: no not-null expectation
    assert [s.rule for s in column_specs(imd)] == ["must be 1 to 10"]
    sex = patients_table().column("sex")
    assert column_specs(sex)[1].rule == "must be one of `F`, `M`, `U`"


SMALL = Table(
    "t",
    "row",
    "a test table",
    (
        Column("code", "string", "A code.", unique=True, pattern=r"^[A-Z][0-9]$"),
        Column("n", "integer", "A count.", nullable=True, min=0, max=10),
        Column("kind", "string", "A kind.", allowed=("a", "b")),
    ),
)


def test_failed_expectations_become_problems_without_values() -> None:
    frame = pl.DataFrame(
        {
            "code": ["A1", "A1", "zz9", "B2", None],
            "n": [1, None, 11, -3, 4],
            "kind": ["a", "b", "secret", "a", "b"],
        }
    )
    problems, [summary] = run_suites([("t.csv", SMALL, frame)])
    assert sorted(problems, key=lambda p: (p.column, p.rule)) == [
        Problem("t.csv", "code", "must be unique", 2, (1, 2)),
        Problem("t.csv", "code", "must match `^[A-Z][0-9]$`", 1, (3,)),
        Problem("t.csv", "code", "must not be null", 1, (5,)),
        Problem("t.csv", "kind", "must be one of `a`, `b`", 1, (3,)),
        Problem("t.csv", "n", "must be 0 to 10", 2, (3, 4)),
    ]
    assert (summary.rows, summary.evaluated, summary.passed, summary.failed) == (5, 6, 1, 5)
    assert summary.as_metadata()["expectations_failed"] == 5
    text = "\n".join(map(str, problems))
    for value in ("secret", "zz9", "11", "-3"):
        assert value not in text


def test_a_validator_failure_is_an_internal_error_not_bad_data() -> None:
    """GX reports an exception as a failed expectation with exception_info (stack-notes):
    here a column the frame does not have."""
    frame = pl.DataFrame({"code": ["A1"], "kind": ["a"]})
    with pytest.raises(PhmError, match=r"validator itself failed on t\.csv, column n"):
        run_suites([("t.csv", SMALL, frame)])


def test_a_rule_the_suite_cannot_express_is_refused() -> None:
    """Were Column to grow a constraint, the suite builder would notice rather than skip it."""
    odd = Column("x", "integer", "x", min=0)
    object.__setattr__(odd, "rules", lambda: ["not null", ">= 0", "prime"])
    with pytest.raises(PhmError, match="does not implement"):
        column_specs(odd)
