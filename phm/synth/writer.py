"""Streaming the extract to disk, one chunk of practices at a time.

Files are byte-identical for the same seed and arguments: fixed compression, no timestamps,
rows in a fixed order (practice, then registration order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from phm.schema import Table

FileFormat = Literal["parquet", "csv"]
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(pid: np.ndarray) -> pl.Series:
    """38-bit integers as 10-character lower-case hex strings (built as Arrow buffers).

    The first character is a letter (a-d, from the top two bits), so an id can never be
    mistaken for a 10-digit NHS number.
    """
    shifts = np.arange(36, -1, -4, dtype=np.uint64)
    digits = (pid[:, None] >> shifts) & np.uint64(0xF)
    digits[:, 0] = 10 + (pid >> np.uint64(36))
    chars = np.ascontiguousarray(_HEX[digits])
    offsets = np.arange(0, 10 * pid.size + 1, 10, dtype=np.int32)
    arrow = pa.StringArray.from_buffers(pid.size, pa.py_buffer(offsets), pa.py_buffer(chars))
    return pl.Series("patient_id", arrow)


class TableWriter:
    """Appends frames to one Parquet or CSV file, conformed to a declared table."""

    def __init__(self, path: Path, table: Table | None, file_format: FileFormat):
        self.path, self.table, self.file_format = path, table, file_format
        self._parquet: pq.ParquetWriter | None = None
        self._csv = None
        self.rows = 0

    def write(self, frame: pl.DataFrame) -> None:
        if self.table is not None:
            frame = self.table.conform(frame)
        if self.file_format == "parquet":
            arrow = _plain_strings(frame.to_arrow())
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(
                    self.path,
                    arrow.schema,
                    compression="zstd",
                    compression_level=3,
                    write_statistics=True,
                )
            self._parquet.write_table(arrow.cast(self._parquet.schema))
        else:
            if self._csv is None:
                self._csv = open(self.path, "wb")  # noqa: SIM115  (closed in close())
            frame.write_csv(self._csv, include_header=self.rows == 0)
        self.rows += frame.height

    def close(self, empty: pl.DataFrame | None = None) -> None:
        """Finish the file; `empty` gives the columns of a file that got no rows."""
        if self.rows == 0 and empty is not None:
            self.write(empty)
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()


def _plain_strings(table: pa.Table) -> pa.Table:
    """Arrow `string` rather than views or large strings: every reader takes it."""
    fields = [
        pa.field(
            f.name,
            pa.string()
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_string_view(f.type)
            else f.type,
        )
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def labels(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """Category codes to their labels, without building Python strings per row."""
    return pl.Series(values, dtype=pl.String).gather(pl.Series(codes))
