"""Ingestion of landing extracts into the raw tables (pipelines/lib/ingest.py) and its Dagster assets.

Every test builds a tiny landing folder by hand: a few rows of payments (ERP) and feedback (CRM)
on two extract dates, header-only files for the other entities, then the manifests.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.resources import LandingResource, WarehouseResource
from pipelines.lib.ingest import ExtractContractError, ingest_all, ingest_entity
from pipelines.lib.landing import write_manifest
from quality.contract import load_contract

CONTRACT = load_contract()
DAY1, DAY2, DAY3 = "2024-03-01", "2024-03-02", "2024-03-03"
T1, T2 = datetime(2024, 3, 2, 6, 0, 0), datetime(2024, 3, 3, 6, 0, 0)

PAYMENTS_HEADER = "payment_id,invoice_id,customer_id,payment_date,payment_amount,method\n"
PAYMENTS_DAY1 = PAYMENTS_HEADER + (
    "PAY00000001,INV00000001,C000001,2024-03-01,1200.50,银行转账\n"
    "PAY00000002,INV00000002,C000002,2024-03-01,0800.00,承兑汇票\n"
    "PAY00000003,INV00000003,C000001,2024-03-01,99.9,支票\n"
)
PAYMENTS_DAY2 = PAYMENTS_HEADER + (
    "PAY00000004,INV00000004,C000003,2024-03-02,15000.00,银行转账\n"
    "PAY00000005,INV00000001,C000001,2024-03-02,300.00,支票\n"
)
FEEDBACK_HEADER = "feedback_id,customer_id,rep_id,feedback_date,satisfaction,category,comment\n"
FEEDBACK_DAY1 = FEEDBACK_HEADER + (
    'F0000001,C000001,R0001,2024-03-01,5,服务,"响应快, 专业"\nF0000002,C000002,,2024-03-01,3,价格,\n'
)
FEEDBACK_DAY2 = FEEDBACK_HEADER + "F0000003,C000003,R0002,2024-03-02,4,产品,ok\n"


# --------------------------------------------------------------------------- helpers


def deliver(landing: Path, extract_date: str, files: dict[str, str], manifest: bool = True) -> None:
    """Write one extract date's files for both systems (header only unless given), then the manifests."""
    for entity in CONTRACT.entities:
        path = landing / CONTRACT.file_path(entity.system, entity.name, extract_date)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = files.get(entity.name, ",".join(entity.column_names) + "\n")
        path.write_bytes(text.encode("utf-8"))
    if manifest:
        for system in CONTRACT.systems:
            write_manifest(landing, CONTRACT, system, extract_date)


def landing_path(landing: Path, entity: str, extract_date: str) -> Path:
    return landing / CONTRACT.file_path(CONTRACT.entity(entity).system, entity, extract_date)


def table(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple]:
    return con.execute(f"select * from {name} order by all").fetchall()


def count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f"select count(*) from {name}").fetchone()[0]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "landing", tmp_path / "archive"


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def two_days(dirs: tuple[Path, Path]) -> tuple[Path, Path]:
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1, "feedback": FEEDBACK_DAY1})
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2, "feedback": FEEDBACK_DAY2})
    return landing, archive


# --------------------------------------------------------------------------- loading


def test_load_gives_exact_rows_with_lineage(con, two_days):
    landing, archive = two_days
    reports = {r.entity: r for r in ingest_all(con, CONTRACT, landing, archive)}

    assert (reports["payments"].files_loaded, reports["payments"].rows_loaded) == (2, 5)
    assert (reports["feedback"].files_loaded, reports["feedback"].rows_loaded) == (2, 3)
    assert (reports["reps"].files_loaded, reports["reps"].rows_loaded) == (2, 0)
    assert count(con, "raw_erp.payments") == 5
    assert count(con, "raw_crm.feedback") == 3
    assert sum(count(con, e.raw_table) for e in CONTRACT.entities) == 8
    assert count(con, "raw_meta.loaded_files") == 13 * 2

    # Values stay text exactly as delivered (leading zero, one decimal); lineage per row.
    sha_day1 = hashlib.sha256(PAYMENTS_DAY1.encode()).hexdigest()
    rows = con.execute(
        "select payment_id, payment_amount, _source_file, _file_sha256, _extract_date, _row_number "
        "from raw_erp.payments where _extract_date = ? order by _row_number",
        [DAY1],
    ).fetchall()
    assert [(r[0], r[1], r[5]) for r in rows] == [
        ("PAY00000001", "1200.50", 1),
        ("PAY00000002", "0800.00", 2),
        ("PAY00000003", "99.9", 3),
    ]
    assert {r[2:5] for r in rows} == {("erp/payments/2024-03-01.csv", sha_day1, datetime(2024, 3, 1).date())}
    # A quoted comma stays inside its value; an empty field becomes NULL.
    assert con.execute(
        "select feedback_id, rep_id, comment from raw_crm.feedback "
        "where _extract_date = ? order by _row_number",
        [DAY1],
    ).fetchall() == [("F0000001", "R0001", "响应快, 专业"), ("F0000002", None, None)]


def test_loading_the_same_delivery_again_changes_nothing(con, two_days):
    landing, archive = two_days
    ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T1)
    before = table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")

    report = ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T2)

    assert (report.files_loaded, report.files_skipped_same_content, report.rows_loaded) == (0, 2, 0)
    assert (table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")) == before
    assert con.execute("select distinct _loaded_at from raw_erp.payments").fetchall() == [(T1,)]


def test_archive_keeps_the_original_bytes(con, two_days):
    landing, archive = two_days
    ingest_entity(con, CONTRACT, "payments", landing, archive)
    ingest_entity(con, CONTRACT, "payments", landing, archive)  # copying again is harmless

    archived = con.execute(
        "select source_file, archived_path from raw_meta.loaded_files where entity = 'payments' order by 1"
    ).fetchall()
    sha_day1 = hashlib.sha256(PAYMENTS_DAY1.encode()).hexdigest()
    assert archived[0] == ("erp/payments/2024-03-01.csv", f"erp/payments/2024-03-01__{sha_day1[:12]}.csv")
    for source_file, archived_path in archived:
        assert (archive / archived_path).read_bytes() == (landing / source_file).read_bytes()
    assert sorted(p.name for p in (archive / "erp/payments").iterdir()) == [Path(a).name for _, a in archived]


def test_redelivered_file_with_new_content_replaces_the_earlier_load(con, two_days):
    landing, archive = two_days
    ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T1)
    corrected = PAYMENTS_HEADER + "PAY00000001,INV00000001,C000001,2024-03-01,1250.50,银行转账\n"
    deliver(landing, DAY1, {"payments": corrected, "feedback": FEEDBACK_DAY1})

    report = ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T2)

    assert (report.files_loaded, report.files_replaced, report.files_skipped_same_content) == (1, 1, 1)
    assert report.rows_loaded == 1
    assert con.execute(
        "select _extract_date::varchar, payment_id, payment_amount, _loaded_at "
        "from raw_erp.payments order by all"
    ).fetchall() == [
        (DAY1, "PAY00000001", "1250.50", T2),
        (DAY2, "PAY00000004", "15000.00", T1),
        (DAY2, "PAY00000005", "300.00", T1),
    ]
    assert con.execute(
        "select file_sha256, row_count, loaded_at from raw_meta.loaded_files "
        "where entity = 'payments' and extract_date = ?",
        [DAY1],
    ).fetchall() == [(hashlib.sha256(corrected.encode()).hexdigest(), 1, T2)]
    # Both versions stay in the archive.
    assert len(list((archive / "erp/payments").glob(f"{DAY1}__*.csv"))) == 2


def test_incomplete_deliveries_are_skipped_until_complete(con, two_days):
    landing, archive = two_days
    deliver(landing, DAY3, {"payments": PAYMENTS_DAY2.replace("PAY0000000", "PAY0000001")}, manifest=False)
    report = ingest_entity(con, CONTRACT, "payments", landing, archive)
    assert report.files_loaded == 2
    assert report.incomplete_deliveries == [f"erp {DAY3}: manifest missing (export not finished?)"]

    # Manifest written, but another ERP file of that day changed afterwards: the whole delivery waits.
    for system in CONTRACT.systems:
        write_manifest(landing, CONTRACT, system, DAY3)
    with open(landing_path(landing, "products", DAY3), "a", encoding="utf-8") as f:
        f.write("P0001,Widget,Line A,10.00,pcs,true,2024-03-03 08:00:00\n")
    report = ingest_entity(con, CONTRACT, "payments", landing, archive)
    assert (report.files_loaded, report.files_skipped_same_content) == (0, 2)
    assert len(report.incomplete_deliveries) == 1
    assert (
        "products/2024-03-03.csv: content differs from the manifest's SHA-256"
        in report.incomplete_deliveries[0]
    )
    assert count(con, "raw_erp.payments") == 5

    write_manifest(landing, CONTRACT, "erp", DAY3)  # the exporter finishes
    report = ingest_entity(con, CONTRACT, "payments", landing, archive)
    assert (report.files_loaded, report.rows_loaded, report.incomplete_deliveries) == (1, 2, [])
    assert count(con, "raw_erp.payments") == 7


def test_header_in_another_column_order_loads_by_name(con, dirs):
    landing, archive = dirs
    reordered = (
        "method,payment_amount,payment_id,invoice_id,customer_id,payment_date\n"
        "支票,5.00,PAY00000009,INV1,C1,2024-03-01\n"
    )
    deliver(landing, DAY1, {"payments": reordered})
    ingest_entity(con, CONTRACT, "payments", landing, archive)
    assert con.execute("select payment_id, payment_amount, method from raw_erp.payments").fetchall() == [
        ("PAY00000009", "5.00", "支票")
    ]


# --------------------------------------------------------------------------- the contract checks


BROKEN_DAY2 = {
    "missing column": (
        PAYMENTS_HEADER.replace(",method", "") + "PAY00000004,INV00000004,C000003,2024-03-02,15000.00\n",
        ["header (line 1)", "column method", "column missing from the header"],
    ),
    "non-numeric amount": (
        PAYMENTS_DAY2.replace("300.00", "3O0.00"),
        ["row 2 (line 3)", "column payment_amount", "'3O0.00'", "is not a decimal number"],
    ),
    "duplicated primary key": (
        PAYMENTS_DAY2 + "PAY00000004,INV00000009,C000003,2024-03-02,1.00,支票\n",
        [
            "row 3 (line 4)",
            "column payment_id",
            "'PAY00000004'",
            "duplicate primary key",
            "first seen in row 1",
        ],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_DAY2))
def test_broken_file_raises_and_loads_nothing_of_the_entity(con, dirs, case):
    landing, archive = dirs
    text, expected_fragments = BROKEN_DAY2[case]
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1})  # a good file in the same run
    deliver(landing, DAY2, {"payments": text})

    with pytest.raises(ExtractContractError) as caught:
        ingest_entity(con, CONTRACT, "payments", landing, archive)

    message = str(caught.value)
    assert "erp/payments/2024-03-02.csv: 1 problem(s)" in message
    for fragment in expected_fragments:
        assert fragment in message
    assert "What to do" in message
    assert isinstance(caught.value, ValueError)
    assert count(con, "raw_erp.payments") == 0
    assert count(con, "raw_meta.loaded_files") == 0
    assert not archive.exists()


def test_broken_redelivery_keeps_the_earlier_load(con, two_days):
    landing, archive = two_days
    ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T1)
    before = table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2.replace("银行转账", "现金")})

    with pytest.raises(ExtractContractError, match="row 1 \\(line 2\\)"):
        ingest_entity(con, CONTRACT, "payments", landing, archive, loaded_at=T2)
    assert (table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")) == before


def test_every_kind_of_value_problem_is_found_with_row_line_and_column(con, dirs):
    landing, archive = dirs
    feedback = FEEDBACK_HEADER + (
        'F0000001,C000001,R0001,2024-03-01,5,服务,"two\nlines"\n'  # rows 1, lines 2-3
        "F000002,C000002,,2024-02-30,6,价格,\n"  # row 2, line 4: pattern, date, max
        "F0000003,,R0001,2024-03-01 10:00:00,0,投诉,\n"  # row 3, line 5: required, date, min, allowed
        "F0000004,C000004,R0001,2024-03-01,4.0,产品,\n"  # row 4, line 6: integer
    )
    deliver(landing, DAY1, {"feedback": feedback})

    with pytest.raises(ExtractContractError) as caught:
        ingest_entity(con, CONTRACT, "feedback", landing, archive)

    found = {(p.row_number, p.line_number, p.column, p.value, p.problem) for p in caught.value.problems}
    assert found == {
        (2, 4, "feedback_id", "F000002", "does not match the pattern ^F[0-9]{7}$"),
        (2, 4, "feedback_date", "2024-02-30", "is not a date YYYY-MM-DD"),
        (2, 4, "satisfaction", "6", "is above the maximum 5"),
        (3, 5, "customer_id", None, "required value is missing"),
        (3, 5, "feedback_date", "2024-03-01 10:00:00", "is not a date YYYY-MM-DD"),
        (3, 5, "satisfaction", "0", "is below the minimum 1"),
        (3, 5, "category", "投诉", "is not one of the allowed values: 产品, 服务, 价格"),
        (4, 6, "satisfaction", "4.0", "is not an integer"),
    }
    assert caught.value.problem_counts == {"crm/feedback/2024-03-01.csv": 8}


def test_lines_with_the_wrong_number_of_fields_are_reported(con, dirs):
    landing, archive = dirs
    ragged = PAYMENTS_HEADER + (
        "PAY00000001,INV00000001,C000001,2024-03-01,1.00,支票\n"
        "PAY00000002,INV00000002,C000001,2024-03-01,1.00\n"
        "PAY00000003,INV00000003,C000001,2024-03-01,1.00,支票,extra\n"
    )
    deliver(landing, DAY1, {"payments": ragged})
    with pytest.raises(ExtractContractError) as caught:
        ingest_entity(con, CONTRACT, "payments", landing, archive)
    found = {(p.row_number, p.line_number, p.problem) for p in caught.value.problems}
    assert found == {
        (2, 3, "the line has fewer fields than the header"),
        (3, 4, "the line has more fields than the header"),
    }


def test_blank_line_is_rejected_because_the_row_count_disagrees_with_the_manifest(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1.replace("\nPAY00000002", "\n\nPAY00000002")})
    with pytest.raises(ExtractContractError, match="read 3, manifest lists 4; blank lines"):
        ingest_entity(con, CONTRACT, "payments", landing, archive)


def test_error_message_is_capped_per_file(con, dirs):
    landing, archive = dirs
    rows = "".join(f"PAY{i:08d},INV1,C1,2024-03-01,-{i}.00,支票\n" for i in range(1, 31))
    deliver(landing, DAY1, {"payments": PAYMENTS_HEADER + rows})
    with pytest.raises(ExtractContractError) as caught:
        ingest_entity(con, CONTRACT, "payments", landing, archive)
    message = str(caught.value)
    assert "30 problem(s), first 20 shown" in message
    assert "row 20 (line 21): '-20.00'" in message and "row 21 " not in message
    assert "... and 10 more problem(s) in this file" in message


# --------------------------------------------------------------------------- Dagster asset


def test_ingest_asset_materializes_into_a_temp_duckdb(tmp_path, two_days):
    landing, archive = two_days
    warehouse_path = tmp_path / "asset_warehouse.duckdb"
    payments = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw_erp", "payments"]))
    resources = {
        "warehouse": WarehouseResource(path=str(warehouse_path)),
        "landing": LandingResource(landing_dir=str(landing), archive_dir=str(archive)),
    }

    result = dg.materialize([payments], resources=resources)

    assert result.success
    metadata = result.asset_materializations_for_node(payments.node_def.name)[0].metadata
    assert metadata["rows_loaded"].value == 5
    assert metadata["files_loaded"].value == 2
    assert metadata["dagster/row_count"].value == 5
    assert metadata["incomplete_deliveries"].value == 0
    with duckdb.connect(str(warehouse_path), read_only=True) as check:
        assert count(check, "raw_erp.payments") == 5
    assert {a.key.path[0] for a in ingest_assets} == {"raw_crm", "raw_erp"}
    assert len(ingest_assets) == len(CONTRACT.entities)
