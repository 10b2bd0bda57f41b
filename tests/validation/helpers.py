"""Assertions shared by the validation tests."""

from __future__ import annotations

import re

from .builders import patient_ids


def problem_re(file: str, column: str | None, rule: str, count: int) -> str:
    """A regex for one problem line: file, column, rule (a prefix of the rule's words) and
    count, as Problem prints them."""
    where = re.escape(file) + (f", column {re.escape(column)}" if column else "")
    if count == 0:  # a file-level problem has no rows to count, and says none
        return rf"(?m){where}: {re.escape(rule)}[^\n:]*$"
    noun = "row" if count == 1 else "rows"
    return rf"{where}: {re.escape(rule)}[^\n]*?: {count} {noun}\b"


def assert_no_patient_values(message: str, *values: object) -> None:
    """No patient id of the test extract, and none of the given bad values, is in `message`."""
    for pid in patient_ids():
        assert pid not in message
    for v in values:
        assert str(v) not in message, f"message quotes a value: {v!r}"
