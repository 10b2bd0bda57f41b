"""A BI tool, played by a separate process: open the published warehouse read-only in a loop
(a new connection each time) and record what each answer saw, or the error it got.

    python tests/ops/reader.py WAREHOUSE ANSWERS_JSONL STOP_FILE

Each answer: the publication's fingerprint(s) and row counts, the row counts actually read
in the same connection, and the restricted row count. It runs until STOP_FILE exists.
"""

import json
import sys
import time
from pathlib import Path

import duckdb


def answer(path: str) -> dict:
    con = duckdb.connect(path, read_only=True)
    try:
        publication = con.execute(
            "SELECT fingerprint, table_name, row_count FROM published.publication "
            "ORDER BY table_name"
        ).fetchall()
        counted = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for _, table, _ in publication
        }
        risk_rows = con.execute("SELECT count(*) FROM restricted.patient_risk").fetchone()[0]
    finally:
        con.close()
    return {
        "fingerprints": sorted({f for f, _, _ in publication}),
        "declared": {t: n for _, t, n in publication},
        "counted": counted,
        "risk_rows": risk_rows,
    }


def main(path: str, out: str, stop: str) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        while not Path(stop).exists():
            try:
                record = {"ok": True, **answer(path)}
            except Exception as exc:  # every failure is what the test is looking for
                record = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            record["t"] = time.monotonic()
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            time.sleep(0.02)  # a busy BI tool, not a busy loop: leave the cores to the run


if __name__ == "__main__":
    main(*sys.argv[1:4])
