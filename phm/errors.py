"""The errors a user of the pipeline can see.

Every message names what is wrong, where, and what to do instead. Messages carry counts and
row numbers, never a patient-level value: they end up in terminals, logs and Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PhmError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class ConfigError(PhmError):
    """The configuration (YAML or command-line flags) is invalid."""


@dataclass(frozen=True)
class Problem:
    """One broken rule of the data contract, located but never quoting a value."""

    file: str
    column: str | None
    rule: str
    count: int
    example_rows: tuple[int, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        where = f"{self.file}, column {self.column}" if self.column else self.file
        rows = ""
        if self.example_rows:
            rows = " (e.g. data rows " + ", ".join(str(r) for r in self.example_rows) + ")"
        if self.count == 0:  # a file-level problem: there are no rows to count
            return f"{where}: {self.rule}"
        noun = "row" if self.count == 1 else "rows"
        return f"{where}: {self.rule}: {self.count} {noun}{rows}"


class DataContractError(PhmError):
    """An extract breaks the data contract; nothing is published from it."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], extract: str = ""):
        self.problems = tuple(problems)
        self.extract = extract
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"The extract {self.extract} " if self.extract else "The extract "
        lines = [
            head
            + f"breaks the data contract ({len(self.problems)} problem"
            + ("" if len(self.problems) == 1 else "s")
            + "); nothing was published:"
        ]
        lines += [f"  - {p}" for p in self.problems]
        lines.append("See docs/data-dictionary.md for the contract each file must meet.")
        return "\n".join(lines)
