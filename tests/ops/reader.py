"""A BI tool and a case-finding analyst, played by a separate process: open the stores
read-only in a loop (new connections each time) and record what each answer saw, or the
error it got.

    python tests/ops/reader.py WAREHOUSE RESTRICTED_STORE ANSWERS_JSONL STOP_FILE

Each answer has two halves. The BI half opens the published file alone, as a BI tool would
(no lock, no access to the restricted store): the publication's fingerprint(s) and row
counts, the row counts actually read in the same connection, and the schemas it holds. The
paired half opens both stores with `open_publication`: both fingerprints, and the restricted
row counts declared and read. It runs until STOP_FILE exists.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

from phm.warehouse.publish import open_publication


def _publication(con, catalogue: str) -> tuple[list[str], dict, dict]:
    rows = con.execute(
        f"SELECT fingerprint, table_name, row_count FROM {catalogue} ORDER BY table_name"
    ).fetchall()
    counted = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for _, t, _ in rows}
    return sorted({f for f, _, _ in rows}), {t: n for _, t, n in rows}, counted


def bi_answer(path: str) -> dict:
    con = duckdb.connect(path, read_only=True)
    try:
        fingerprints, declared, counted = _publication(con, "published.publication")
        schemas = con.execute("SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()
    finally:
        con.close()
    return {
        "fingerprints": fingerprints,
        "declared": declared,
        "counted": counted,
        "schemas": sorted(s for (s,) in schemas),
    }


def paired_answer(path: str, store: str) -> dict:
    with open_publication(Path(path), Path(store)) as (published, restricted):
        ours, _, _ = _publication(published, "published.publication")
        theirs, declared, counted = _publication(restricted, "restricted.publication")
    return {
        "fingerprints": ours,
        "restricted_fingerprints": theirs,
        "declared": declared,
        "counted": counted,
    }


def main(path: str, store: str, out: str, stop: str) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        while not Path(stop).exists():
            record = {}
            for half, ask in (
                ("bi", lambda: bi_answer(path)),
                ("paired", lambda: paired_answer(path, store)),
            ):
                try:
                    record[half] = {"ok": True, **ask()}
                except Exception as exc:  # every failure is what the test is looking for
                    record[half] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            record["t"] = time.monotonic()
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            time.sleep(0.02)  # a busy BI tool, not a busy loop: leave the cores to the run


if __name__ == "__main__":
    main(*sys.argv[1:5])
