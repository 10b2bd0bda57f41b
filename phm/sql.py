"""The SQL statements in sql/, one per file, loaded by name."""

from __future__ import annotations

from functools import cache

from phm.config import REPO_ROOT

SQL_DIR = REPO_ROOT / "sql"


@cache
def statement(name: str) -> str:
    """The statement in sql/<name>.sql, without its header comment."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
