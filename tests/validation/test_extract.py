"""Spec tests for read_extract: a valid extract in, conformed frames out; a broken one in,
one DataContractError naming file, column, rule and count out (no patient value quoted)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from phm.contract import DEATHS, PRACTICES, patients_table
from phm.errors import DataContractError
from phm.extract import combine_extracts, read_extract, split_extract

from .builders import SNAPSHOT_DATES, snapshot_frame, valid_frames, write_extract, write_frame
from .helpers import assert_no_patient_values, problem_re

FIRST = f"patients_{SNAPSHOT_DATES[0].isoformat()}"


@pytest.fixture
def parquet_dir(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "extract", "parquet")


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    return write_extract(tmp_path / "extract", "csv")


def as_held(frame: pl.DataFrame) -> pl.DataFrame:
    """A snapshot as written to a file, in the types a read holds it in (Column.memory_type)."""
    return frame.cast(dict(patients_table().memory_schema()))


def contract_error(folder: Path, pattern: str, **kwargs) -> DataContractError:
    with pytest.raises(DataContractError, match=pattern) as caught:
        read_extract(folder, **kwargs)
    return caught.value


# --- valid extracts ---------------------------------------------------------------------------


def test_valid_extract_reads_conformed_to_the_declarations(extract_dir: Path, fmt: str) -> None:
    extract = read_extract(extract_dir)
    frames = valid_frames()
    assert list(extract.snapshots) == list(SNAPSHOT_DATES)  # keyed and sorted by date
    assert_frame_equal(extract.practices, frames["practices"])
    for when, frame in extract.snapshots.items():
        assert_frame_equal(frame, as_held(frames[f"patients_{when.isoformat()}"]))
        assert frame.schema == patients_table().memory_schema()
    assert extract.deaths is not None
    assert_frame_equal(extract.deaths, frames["deaths"])
    assert extract.files == {
        "practices": "practices.csv",
        "patients_2023-04-01": f"patients_2023-04-01.{fmt}",
        "patients_2024-04-01": f"patients_2024-04-01.{fmt}",
        "deaths": f"deaths.{fmt}",
    }


def test_integers_are_held_in_the_fewest_bytes_their_declared_range_needs() -> None:
    table = patients_table()
    assert table.column("age").memory_type == pl.Int8  # 0 to 115
    assert table.column("ltc_count").memory_type == pl.Int8  # 0 to the 40 flags
    assert table.column("emergency_admissions_12m").memory_type == pl.Int32  # no maximum
    assert table.column("efi_score").memory_type == pl.Float64  # not an integer
    assert table.column("patient_id").memory_type == pl.String


def test_an_integer_outside_its_declared_range_is_kept_as_the_file_has_it(
    tmp_path: Path,
) -> None:
    """Narrowed only where every value fits, so the extract check still sees (and reports)
    the file's own value, not one wrapped round or nulled by a narrowing cast."""
    from phm.validation import validate_extract

    frames = valid_frames()
    frames[FIRST] = frames[FIRST].with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(300).otherwise(pl.col("age")).alias("age")
    )
    extract = read_extract(write_extract(tmp_path, "parquet", frames))
    first, other = extract.snapshots.values()
    assert first.schema["age"] == pl.Int64 and first["age"].max() == 300
    assert other.schema["age"] == pl.Int8
    report = validate_extract(extract)
    assert [(p.file, p.column, p.count) for p in report.problems] == [
        (f"{FIRST}.parquet", "age", 1)
    ]


def test_snapshots_are_sorted_by_date_whatever_the_file_order(tmp_path: Path) -> None:
    frames = valid_frames()
    frames["patients_2022-01-01"] = frames.pop(FIRST)
    extract = read_extract(write_extract(tmp_path, "parquet", frames))
    assert list(extract.snapshots) == [date(2022, 1, 1), SNAPSHOT_DATES[1]]


def test_one_snapshot_and_no_deaths_is_a_valid_extract(tmp_path: Path) -> None:
    frames = valid_frames()
    del frames["deaths"], frames[f"patients_{SNAPSHOT_DATES[1].isoformat()}"]
    extract = read_extract(write_extract(tmp_path, "parquet", frames))
    assert list(extract.snapshots) == [SNAPSHOT_DATES[0]]
    assert extract.deaths is None and "deaths" not in extract.files


def test_csv_with_bom_and_crlf_line_endings_is_accepted(csv_dir: Path) -> None:
    for name in ("practices.csv", f"{FIRST}.csv"):
        path = csv_dir / name
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    extract = read_extract(csv_dir)
    assert_frame_equal(extract.practices, valid_frames()["practices"])
    assert_frame_equal(extract.snapshots[SNAPSHOT_DATES[0]], as_held(valid_frames()[FIRST]))


def test_csv_flags_written_as_1_and_0_are_accepted(tmp_path: Path) -> None:
    frames = valid_frames()
    frame = frames[FIRST]
    as_ints = frame.with_columns(pl.col(pl.Boolean).cast(pl.Int8))
    write_extract(tmp_path, "csv", frames)
    write_frame(as_ints, tmp_path / f"{FIRST}.csv")
    assert ",true," not in (tmp_path / f"{FIRST}.csv").read_text()
    assert_frame_equal(read_extract(tmp_path).snapshots[SNAPSHOT_DATES[0]], as_held(frame))


def test_compatible_parquet_types_are_accepted(tmp_path: Path) -> None:
    """Any integer width for integers, integers for floats, 0/1 for flags, whole floats (a
    pandas nullable-integer column) for integers, datetimes for dates."""
    frames = valid_frames()
    frame = frames[FIRST]
    narrow = frame.with_columns(
        pl.col("age").cast(pl.UInt8),
        pl.col("imd_decile").cast(pl.Float64),  # nulls: pandas writes it as float
        pl.col("secondary_care_cost_12m").cast(pl.Int32),
        pl.col(pl.Boolean).cast(pl.Int8),
        pl.col("practice_code").cast(pl.Categorical),
    )
    frames["deaths"] = frames["deaths"].with_columns(pl.col("date_of_death").cast(pl.Datetime))
    write_extract(tmp_path, "parquet", frames)
    narrow.write_parquet(tmp_path / f"{FIRST}.parquet")
    extract = read_extract(tmp_path)
    assert_frame_equal(
        extract.snapshots[SNAPSHOT_DATES[0]],
        as_held(
            frame.with_columns(pl.col("secondary_care_cost_12m").cast(pl.Int32).cast(pl.Float64))
        ),
    )
    assert_frame_equal(extract.deaths, valid_frames()["deaths"])


def test_extra_columns_are_ignored(extract_dir: Path, fmt: str) -> None:
    frame = valid_frames()[FIRST].with_columns(
        pl.lit("x").alias("lsoa_code"), pl.lit(1).alias("zz_extra")
    )
    ordered = ["zz_extra", *(c for c in frame.columns if c != "zz_extra")]
    write_frame(frame.select(ordered), extract_dir / f"{FIRST}.{fmt}")
    got = read_extract(extract_dir).snapshots[SNAPSHOT_DATES[0]]
    assert got.columns == patients_table().column_names


def test_a_custom_ltc_list_reads_with_its_own_table(tmp_path: Path) -> None:
    ltcs = ("ltc_asthma", "ltc_copd", "ltc_long_covid")
    write_extract(tmp_path, "csv", ltc_columns=ltcs)
    extract = read_extract(tmp_path, ltc_columns=ltcs)
    assert extract.ltc_columns == ltcs
    for frame in extract.snapshots.values():
        assert frame.schema == patients_table(ltcs).memory_schema()
    # The same files do not meet the default 19-condition table.
    contract_error(
        tmp_path, problem_re(f"{FIRST}.csv", "ltc_hypertension", "required column is missing", 20)
    )


# --- structural problems ----------------------------------------------------------------------


def test_missing_required_column(extract_dir: Path, fmt: str) -> None:
    write_frame(valid_frames()[FIRST].drop("age", "sex"), extract_dir / f"{FIRST}.{fmt}")
    err = contract_error(
        extract_dir, problem_re(f"{FIRST}.{fmt}", "age", "required column is missing", 20)
    )
    assert [(p.column, p.count) for p in err.problems] == [("age", 20), ("sex", 20)]
    assert_no_patient_values(str(err))


def test_wrong_type_in_csv(csv_dir: Path) -> None:
    extract_dir = csv_dir
    path = extract_dir / f"{FIRST}.csv"
    frame = pl.read_csv(path, infer_schema=False)
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([2, 6]))
        .then(pl.lit("x7y"))
        .otherwise(pl.col("age"))
        .alias("age"),
        pl.when(pl.int_range(pl.len()) == 4)
        .then(pl.lit("yes"))
        .otherwise(pl.col("care_home"))
        .alias("care_home"),
    )
    bad.write_csv(path)
    err = contract_error(
        extract_dir, problem_re(f"{FIRST}.csv", "age", "type: expected integer", 2)
    )
    by_column = {p.column: p for p in err.problems}
    assert by_column["age"].example_rows == (3, 7)  # 1-based data rows
    assert by_column["care_home"].count == 1 and by_column["care_home"].example_rows == (5,)
    assert "type: expected boolean" in str(err)
    assert_no_patient_values(str(err), "x7y", "yes")


def test_wrong_type_in_parquet(parquet_dir: Path) -> None:
    extract_dir = parquet_dir
    frame = valid_frames()[FIRST]
    bad = frame.with_columns(
        pl.col("age").cast(pl.String).replace({"7": "seven"}),  # a string column
        pl.col("efi_score").cast(pl.String),  # text numbers still cast
        pl.lit(date(2020, 1, 1)).alias("ltc_asthma"),  # an incompatible physical type
    )
    bad.write_parquet(extract_dir / f"{FIRST}.parquet")
    err = contract_error(
        extract_dir, problem_re(f"{FIRST}.parquet", "age", "type: expected integer", 1)
    )
    assert {p.column: p.count for p in err.problems} == {"age": 1, "ltc_asthma": 20}
    assert "the file stores Date" in str(err)
    assert_no_patient_values(str(err), "seven")


def test_a_number_too_large_for_an_integer_is_a_problem_not_an_error(parquet_dir: Path) -> None:
    frame = valid_frames()[FIRST]
    row = pl.int_range(pl.len())
    bad = frame.with_columns(
        pl.when(row == 2).then(2**63 + 5).otherwise("age").cast(pl.UInt64).alias("age"),
        pl.when(row == 3).then(1e20).otherwise("imd_decile").cast(pl.Float64).alias("imd_decile"),
    )
    bad.write_parquet(parquet_dir / f"{FIRST}.parquet")
    err = contract_error(
        parquet_dir, problem_re(f"{FIRST}.parquet", "age", "type: expected integer", 1)
    )
    assert {(p.column, p.count, p.example_rows) for p in err.problems} == {
        ("age", 1, (3,)),
        ("imd_decile", 1, (4,)),
    }


def test_a_date_and_time_with_a_time_zone_is_read_as_its_local_date(tmp_path: Path) -> None:
    frames = valid_frames()
    deaths = frames["deaths"]
    # 00:30 in London on the day of death is still the day before in UTC (summer time)
    at = pl.col("date_of_death").cast(pl.Datetime("us")) + pl.duration(minutes=30)
    frames["deaths"] = deaths.with_columns(
        at.dt.replace_time_zone("Europe/London").alias("date_of_death")
    )
    write_extract(tmp_path, "parquet", frames)
    assert_frame_equal(read_extract(tmp_path).deaths, deaths)


def test_header_only_file(extract_dir: Path, fmt: str) -> None:
    write_frame(valid_frames()[FIRST].head(0), extract_dir / f"{FIRST}.{fmt}")
    err = contract_error(extract_dir, problem_re(f"{FIRST}.{fmt}", None, "no data rows", 0))
    assert err.problems[0].column is None


def test_empty_file(extract_dir: Path, fmt: str) -> None:
    (extract_dir / f"deaths.{fmt}").write_bytes(b"")
    (extract_dir / "practices.csv").write_bytes(b"")
    err = contract_error(extract_dir, r"deaths\.(csv|parquet): no data rows \(the file is empty\)")
    assert {p.file for p in err.problems} == {"practices.csv", f"deaths.{fmt}"}


def test_truncated_parquet_file(parquet_dir: Path) -> None:
    extract_dir = parquet_dir
    path = extract_dir / f"{FIRST}.parquet"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    err = contract_error(
        extract_dir,
        re_escape_all(f"{FIRST}.parquet: unreadable Parquet file (truncated or corrupt)"),
    )
    assert err.__cause__ is None or not isinstance(err.__cause__, pl.exceptions.PolarsError)
    assert "Traceback" not in str(err)


def test_csv_with_semicolon_delimiter(csv_dir: Path) -> None:
    extract_dir = csv_dir
    frame = valid_frames()[FIRST].with_columns(pl.col(pl.Boolean).cast(pl.Int8))
    frame.write_csv(extract_dir / f"{FIRST}.csv", separator=";")
    err = contract_error(
        extract_dir,
        re_escape_all(
            f"{FIRST}.csv: expected comma-separated columns; found 1 column, is the delimiter ';'?"
        ),
    )
    assert_no_patient_values(str(err))


def test_no_snapshot_file_at_all(extract_dir: Path, fmt: str) -> None:
    for d in SNAPSHOT_DATES:
        (extract_dir / f"patients_{d.isoformat()}.{fmt}").unlink()
    contract_error(extract_dir, re_escape_all("at least one patients_<YYYY-MM-DD>.parquet or .csv"))


@pytest.mark.parametrize(
    "name",
    [
        "patients_2023-02-30.parquet",
        "patients_20230401.csv",
        "patients-2023-04-01.parquet",
        "Patients_2023-04-01.csv",
    ],
)
def test_misdated_or_misnamed_snapshot_file(extract_dir: Path, name: str) -> None:
    write_frame(valid_frames()[FIRST], extract_dir / name)
    err = contract_error(extract_dir, re_escape_all(name) + ": .*patients_<YYYY-MM-DD>")
    assert len(err.problems) == 1 and err.problems[0].column is None


def test_a_file_in_both_formats_is_ambiguous(extract_dir: Path, fmt: str) -> None:
    other = "csv" if fmt == "parquet" else "parquet"
    write_frame(valid_frames()["deaths"], extract_dir / f"deaths.{other}")
    contract_error(extract_dir, r"deaths\.parquet and deaths\.csv: ambiguous")


def test_missing_practices_and_folder(tmp_path: Path) -> None:
    frames = valid_frames()
    del frames["practices"]
    write_extract(tmp_path / "x", "parquet", frames)
    contract_error(tmp_path / "x", r"practices\.csv: required file is missing")
    contract_error(tmp_path / "nowhere", r"the extract folder does not exist")


def test_problems_from_all_files_are_raised_together(extract_dir: Path, fmt: str) -> None:
    (extract_dir / f"deaths.{fmt}").write_bytes(b"")
    write_frame(valid_frames()[FIRST].drop("age"), extract_dir / f"{FIRST}.{fmt}")
    (extract_dir / "patients_2023-13-01.csv").write_text("patient_id\n")
    err = contract_error(extract_dir, r"3 problems")
    assert {p.file for p in err.problems} == {
        f"deaths.{fmt}",
        f"{FIRST}.{fmt}",
        "patients_2023-13-01.csv",
    }
    assert err.extract == str(extract_dir)


def test_declarations_drive_the_reader() -> None:
    """Nothing is listed twice: the reader's tables are the contract's declarations."""
    assert PRACTICES.polars_schema()["practice_code"] == pl.String
    assert DEATHS.polars_schema()["date_of_death"] == pl.Date


def re_escape_all(text: str) -> str:
    import re

    return re.escape(text)


def test_snapshot_helper_is_valid_for_any_date() -> None:
    frame = snapshot_frame(date(2030, 1, 1))
    assert frame.height == 20


def test_a_partitions_read_holds_its_snapshot_and_the_whole_folder_files(tmp_path: Path):
    folder = write_extract(tmp_path / "x")
    whole = read_extract(folder)
    newest = max(whole.snapshots)
    part = read_extract(folder, snapshots=[newest])
    assert list(part.snapshots) == [newest]
    assert_frame_equal(part.snapshots[newest], whole.snapshots[newest])
    assert_frame_equal(part.practices, whole.practices)
    # one partition's read per snapshot, combined again, is the whole extract
    parts = split_extract(whole)
    assert sorted(parts) == sorted(whole.snapshots)
    again = combine_extracts(parts.values())
    assert again.files == whole.files and list(again.snapshots) == list(whole.snapshots)
    with pytest.raises(DataContractError, match="no such file"):
        read_extract(folder, snapshots=[date(1999, 4, 1)])
