"""Ingestion of landing extracts into the raw tables (pipelines/lib/ingest.py) and its Dagster assets.

Every test builds a tiny landing folder by hand: a few rows of payments (ERP) and feedback (CRM)
on two extract dates, header-only files for the other entities, then the manifests. In files this small
one bad row is more than the 5% of rows that may be set aside (max_rejected_share), so a bad value
refuses the file here; tests/test_row_quarantine.py covers the rows set aside while the rest loads.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import Workbook

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.release.assets import published_release
from pipelines.defs.resources import LandingResource, ReleaseResource
from pipelines.lib.ingest import DeliveryRefused, Removal, ingest_all, ingest_system
from pipelines.lib.landing import write_manifest
from quality.contract import load_contract

CONTRACT = load_contract()
DAY1, DAY2, DAY3 = "2024-03-01", "2024-03-02", "2024-03-03"
T1, T2 = datetime(2024, 3, 2, 6, 0, 0), datetime(2024, 3, 3, 6, 0, 0)
TODAY = date(2024, 3, 10)  # the machine's date in these tests (Asia/Shanghai)

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


def erp(con, landing, archive, **kwargs):
    """Ingest the ERP system (payments live there); returns the per-entity reports."""
    return ingest_system(con, CONTRACT, "erp", landing, archive, today=TODAY, **kwargs)


def test_load_gives_exact_rows_with_lineage(con, two_days):
    landing, archive = two_days
    systems = {r.system: r for r in ingest_all(con, CONTRACT, landing, archive, today=TODAY)}
    reports = {name: r for s in systems.values() for name, r in s.entities.items()}

    assert (reports["payments"].files_loaded, reports["payments"].rows_loaded) == (2, 5)
    assert (reports["feedback"].files_loaded, reports["feedback"].rows_loaded) == (2, 3)
    assert (reports["reps"].files_loaded, reports["reps"].rows_loaded) == (2, 0)
    assert systems["erp"].deliveries_loaded == systems["crm"].deliveries_loaded == [DAY1, DAY2]
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
    erp(con, landing, archive, loaded_at=T1)
    before = table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")

    report = erp(con, landing, archive, loaded_at=T2)

    payments = report.entities["payments"]
    assert (payments.files_loaded, payments.files_skipped_same_content, payments.rows_loaded) == (0, 2, 0)
    assert report.deliveries_loaded == []
    assert (table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")) == before
    assert con.execute("select distinct _loaded_at from raw_erp.payments").fetchall() == [(T1,)]


def test_a_loaded_file_is_not_read_again(con, two_days):
    """Only new or changed files are hashed and read: a loaded file that later became unreadable in the
    landing folder (permissions, a disk error) does not matter while its manifest is unchanged."""
    landing, archive = two_days
    erp(con, landing, archive)
    landing_path(landing, "payments", DAY1).write_bytes(b"garbage")
    assert erp(con, landing, archive).deliveries_loaded == []


def test_archive_keeps_the_original_bytes(con, two_days):
    landing, archive = two_days
    erp(con, landing, archive)
    erp(con, landing, archive)  # nothing new: nothing copied again

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
    erp(con, landing, archive, loaded_at=T1)
    corrected = PAYMENTS_HEADER + "PAY00000001,INV00000001,C000001,2024-03-01,1250.50,银行转账\n"
    deliver(landing, DAY1, {"payments": corrected, "feedback": FEEDBACK_DAY1})

    report = erp(con, landing, archive, loaded_at=T2)

    payments = report.entities["payments"]
    assert (payments.files_loaded, payments.files_replaced, payments.files_skipped_same_content) == (1, 1, 1)
    assert payments.rows_loaded == 1
    assert report.deliveries_loaded == [DAY1]
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


def test_files_without_a_manifest_wait_and_a_changed_file_refuses_the_whole_delivery(con, two_days):
    landing, archive = two_days
    deliver(landing, DAY3, {"payments": PAYMENTS_DAY2.replace("PAY0000000", "PAY0000001")}, manifest=False)
    report = erp(con, landing, archive)
    assert report.entities["payments"].files_loaded == 2
    assert report.waiting == {DAY3: 5}  # the five ERP files of DAY3, no manifest yet: not read, not an error
    assert report.describe_waiting() == [
        f"erp {DAY3}: 5 file(s) delivered but no manifest yet (export not finished?)"
    ]

    # Manifest written, but another ERP file of that day changed afterwards: the delivery is refused,
    # its payments file (which is fine) is not loaded either.
    for system in CONTRACT.systems:
        write_manifest(landing, CONTRACT, system, DAY3)
    with open(landing_path(landing, "products", DAY3), "a", encoding="utf-8") as f:
        f.write("P0001,Widget,Line A,10.00,pcs,true,2024-03-03 08:00:00\n")
    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)
    refused = caught.value
    assert refused.refused_dates == [DAY3]
    assert [p.extract_date for p in refused.delivery_problems] == [DAY3]
    problem = refused.delivery_problems[0].describe()
    assert problem.startswith(f"erp {DAY3}: incomplete delivery: erp/products/{DAY3}.csv: its SHA-256 is ")
    assert "(the upload is partial, or the file changed after the manifest was written)" in problem
    assert count(con, "raw_erp.payments") == 5

    write_manifest(landing, CONTRACT, "erp", DAY3)  # the exporter finishes
    report = erp(con, landing, archive)
    assert (report.entities["payments"].files_loaded, report.entities["payments"].rows_loaded) == (1, 2)
    assert (report.deliveries_loaded, report.waiting) == ([DAY3], {})
    assert count(con, "raw_erp.payments") == 7


def test_header_in_another_column_order_loads_by_name(con, dirs):
    landing, archive = dirs
    reordered = (
        "method,payment_amount,payment_id,invoice_id,customer_id,payment_date\n"
        "支票,5.00,PAY00000009,INV1,C1,2024-03-01\n"
    )
    deliver(landing, DAY1, {"payments": reordered})
    erp(con, landing, archive)
    assert con.execute("select payment_id, payment_amount, method from raw_erp.payments").fetchall() == [
        ("PAY00000009", "5.00", "支票")
    ]


# --------------------------------------------------------------------------- all or nothing


def test_one_broken_file_refuses_the_systems_new_deliveries_and_loads_nothing_of_it(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1, "feedback": FEEDBACK_DAY1})
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2.replace("15000.00", "abc"), "feedback": FEEDBACK_DAY2})

    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)

    refused = caught.value
    assert refused.refused_dates == [DAY2]
    assert list(refused.entity_errors) == ["payments"]
    assert (
        refused.summary()
        == "erp: 1 new delivery refused (2024-03-02), 1 problem(s); nothing of erp was loaded."
    )
    # Not DAY2's other files, not even the good DAY1 delivery of the same run: the system waits whole.
    assert sum(count(con, e.raw_table) for e in CONTRACT.entities_of("erp")) == 0
    assert count(con, "raw_meta.loaded_files") == 0
    # The CRM is another system: its deliveries load on their own.
    crm = ingest_system(con, CONTRACT, "crm", landing, archive, today=TODAY)
    assert crm.deliveries_loaded == [DAY1, DAY2] and count(con, "raw_crm.feedback") == 3


def test_a_misdated_delivery_is_refused_before_loading(con, two_days):
    landing, archive = two_days
    erp(con, landing, archive)
    deliver(landing, "2025-03-02", {"payments": PAYMENTS_DAY2.replace("PAY0000000", "PAY0000002")})
    deliver(landing, "2023-03-02", {})
    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)
    problems = [p.describe() for p in caught.value.delivery_problems]
    assert problems == [
        "erp 2023-03-02: the extract date is before the first erp delivery loaded (2024-03-01): a misdated "
        "export? To take these files away run `salesreview remove-day --system erp --date 2023-03-02`",
        "erp 2025-03-02: the extract date is after today (2024-03-10, Asia/Shanghai): a misdated export? "
        "Have the source re-export it with the right date; to take these files away run "
        "`salesreview remove-day --system erp --date 2025-03-02`",
    ]
    assert count(con, "raw_erp.payments") == 5


def test_a_pending_removal_takes_the_day_out_in_the_same_transaction(con, two_days):
    landing, archive = two_days
    erp(con, landing, archive, loaded_at=T1)
    for path in (landing / "erp").rglob(f"{DAY2}.*"):
        path.unlink()  # remove-day moved the delivery out of the landing folder
    removal = Removal("erp", DAY2, "wrong day", datetime(2024, 3, 3, 9, 0))

    report = erp(con, landing, archive, removals=[removal, Removal("crm", DAY1)], loaded_at=T2)

    assert report.removed == [DAY2]
    assert con.execute("select payment_id from raw_erp.payments order by 1").fetchall() == [
        ("PAY00000001",),
        ("PAY00000002",),
        ("PAY00000003",),
    ]
    assert con.execute(
        "select distinct strftime(extract_date, '%Y-%m-%d') from raw_meta.loaded_files where system = 'erp'"
    ).fetchall() == [(DAY1,)]
    assert con.execute("select * from raw_meta.removed_deliveries").fetchall() == [
        ("erp", date(2024, 3, 2), 2, "wrong day", datetime(2024, 3, 3, 9, 0), T2)
    ]
    assert count(con, "raw_crm.feedback") == 0  # the crm removal is for the crm step


# --------------------------------------------------------------------------- the contract checks


# A file-level problem, or 1 bad row of PAYMENTS_DAY2's 2 (50%; 1 of 3 for the repeated key): more than
# the 5% that may be set aside, so the file is refused.
BROKEN_DAY2 = {
    "missing column": (
        PAYMENTS_HEADER.replace(",method", "") + "PAY00000004,INV00000004,C000003,2024-03-02,15000.00\n",
        ["header (line 1)", "column method", "column missing from the header"],
    ),
    "non-numeric amount": (
        PAYMENTS_DAY2.replace("300.00", "3O0.00"),
        [
            "row 2 (line 3)",
            "column payment_amount",
            "'3O0.00'",
            "is not a decimal number",
            "1 of 2 rows (50.0%)",
        ],
    ),
    "duplicated primary key": (
        PAYMENTS_DAY2 + "PAY00000004,INV00000009,C000003,2024-03-02,1.00,支票\n",
        [
            "row 3 (line 4)",
            "column payment_id",
            "'PAY00000004'",
            "duplicate primary key",
            "first seen in row 1",
            "1 of 3 rows (33.3%) break the contract, more than the 5% allowed for erp.payments",
        ],
    ),
    "NUL in a value": (
        PAYMENTS_DAY2.replace("银行转账", "银行\x00转账"),
        ["row 1 (line 2)", "column method", "contains a control character (U+0000)"],
    ),
    "value longer than a cell": (
        PAYMENTS_DAY2.replace("银行转账", "转" * 40_000),
        ["row 1 (line 2)", "column method", "is 40000 characters long, more than the 32,767 an Excel cell"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_DAY2))
def test_broken_file_raises_and_loads_nothing(con, dirs, case):
    landing, archive = dirs
    text, expected_fragments = BROKEN_DAY2[case]
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1})  # a good file in the same run
    deliver(landing, DAY2, {"payments": text})

    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)

    message = str(caught.value)
    assert "erp/payments/2024-03-02.csv: 1 problem(s)" in message
    for fragment in expected_fragments:
        assert fragment in message
    assert "What to do" in message
    assert count(con, "raw_erp.payments") == 0
    assert count(con, "raw_meta.loaded_files") == 0
    assert not archive.exists()


def test_broken_redelivery_keeps_the_earlier_load(con, two_days):
    landing, archive = two_days
    erp(con, landing, archive, loaded_at=T1)
    before = table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2.replace("银行转账", "现金")})

    with pytest.raises(DeliveryRefused, match="row 1 \\(line 2\\)"):
        erp(con, landing, archive, loaded_at=T2)
    assert (table(con, "raw_erp.payments"), table(con, "raw_meta.loaded_files")) == before


def _payments_error(con, landing, archive):
    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)
    return caught.value.entity_errors["payments"]


def test_every_kind_of_value_problem_is_found_with_row_line_and_column(con, dirs):
    landing, archive = dirs
    feedback = FEEDBACK_HEADER + (
        'F0000001,C000001,R0001,2024-03-01,5,服务,"two\nlines"\n'  # rows 1, lines 2-3
        "F0000002,C000002,,2024-02-30,6,价格,\n"  # row 2, line 4: date, max
        "F0000003,,R0001,2024-03-01 10:00:00,0,投诉,\n"  # row 3, line 5: required, date, min, allowed
        "F0000004,C000004,R0001,2024-03-01,4.0,产品,\n"  # row 4, line 6: integer
    )
    deliver(landing, DAY1, {"feedback": feedback})

    with pytest.raises(DeliveryRefused) as caught:
        ingest_system(con, CONTRACT, "crm", landing, archive, today=TODAY)

    error = caught.value.entity_errors["feedback"]
    found = {(p.row_number, p.line_number, p.column, p.value, p.problem) for p in error.problems}
    assert found == {
        (2, 4, "feedback_date", "2024-02-30", "is not a date YYYY-MM-DD"),
        (2, 4, "satisfaction", "6", "is above the maximum 5"),
        (3, 5, "customer_id", None, "required value is missing"),
        (3, 5, "feedback_date", "2024-03-01 10:00:00", "is not a date YYYY-MM-DD"),
        (3, 5, "satisfaction", "0", "is below the minimum 1"),
        (3, 5, "category", "投诉", "is not one of the allowed values: 产品, 服务, 价格"),
        (4, 6, "satisfaction", "4.0", "is not an integer"),
    }
    assert error.problem_counts == {"crm/feedback/2024-03-01.csv": 7}


def test_lines_with_the_wrong_number_of_fields_are_reported(con, dirs):
    landing, archive = dirs
    ragged = PAYMENTS_HEADER + (
        "PAY00000001,INV00000001,C000001,2024-03-01,1.00,支票\n"
        "PAY00000002,INV00000002,C000001,2024-03-01,1.00\n"
        "PAY00000003,INV00000003,C000001,2024-03-01,1.00,支票,extra\n"
    )
    deliver(landing, DAY1, {"payments": ragged})
    found = {
        (p.row_number, p.line_number, p.problem) for p in _payments_error(con, landing, archive).problems
    }
    assert found == {
        (2, 3, "the line has fewer fields than the header"),
        (3, 4, "the line has more fields than the header"),
    }


def test_blank_line_is_rejected_because_the_row_count_disagrees_with_the_manifest(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1.replace("\nPAY00000002", "\n\nPAY00000002")})
    with pytest.raises(DeliveryRefused, match="read 3, manifest lists 4; blank lines"):
        erp(con, landing, archive)


def test_error_message_is_capped_per_file(con, dirs):
    landing, archive = dirs
    rows = "".join(f"PAY{i:08d},INV1,C1,2024-03-01,-{i}.00,支票\n" for i in range(1, 31))
    deliver(landing, DAY1, {"payments": PAYMENTS_HEADER + rows})
    message = str(_payments_error(con, landing, archive))
    assert "30 problem(s), first 20 shown" in message
    assert "row 20 (line 21): '-20.00'" in message and "row 21 " not in message
    assert "... and 10 more problem(s) in this file" in message


# ------------------------------------------------------------------ files that are not the contract's CSV


def _deliver_bytes(landing: Path, entity: str, data: bytes) -> None:
    deliver(landing, DAY1, {})
    landing_path(landing, entity, DAY1).write_bytes(data)
    write_manifest(landing, CONTRACT, CONTRACT.entity(entity).system, DAY1)


def _only_problem(con, landing, archive) -> str:
    error = _payments_error(con, landing, archive)
    assert error.problem_counts == {f"erp/payments/{DAY1}.csv": 1}, str(error)
    (problem,) = error.problems
    return problem.describe()


def test_a_gbk_file_is_named_once_not_reported_line_by_line(con, dirs):
    landing, archive = dirs
    _deliver_bytes(
        landing, "payments", (PAYMENTS_DAY1 + PAYMENTS_DAY2[len(PAYMENTS_HEADER) :]).encode("gb18030")
    )
    described = _only_problem(con, landing, archive)
    assert described.startswith(
        f"erp/payments/{DAY1}.csv, line 2: the file is not UTF-8: it looks like GBK/GB18030 (the encoding "
        "Excel uses for 'CSV' on Chinese Windows)"
    )
    assert "iconv -f GB18030 -t UTF-8" in described


def test_an_excel_workbook_delivered_as_csv_is_named(con, dirs, tmp_path):
    landing, archive = dirs
    workbook = Workbook()
    workbook.active.append(PAYMENTS_HEADER.strip().split(","))
    workbook.save(tmp_path / "payments.xlsx")
    _deliver_bytes(landing, "payments", (tmp_path / "payments.xlsx").read_bytes())
    described = _only_problem(con, landing, archive)
    assert described == (
        f"erp/payments/{DAY1}.csv, whole file: the file is not a CSV: it is an Excel workbook (.xlsx) saved "
        "under a .csv name (open it in Excel and use Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' "
        "(另存为 > CSV UTF-8(逗号分隔)), or have the source system export CSV)"
    )


def test_a_5_mb_field_is_named_with_its_line_and_size(con, dirs):
    landing, archive = dirs
    big = "转" * 1_700_000  # 5,100,000 bytes in UTF-8; DuckDB alone fails without saying where
    _deliver_bytes(landing, "payments", (PAYMENTS_DAY1.replace("银行转账", big)).encode())
    described = _only_problem(con, landing, archive)
    size = len(f"PAY00000001,INV00000001,C000001,2024-03-01,1200.50,{big}".encode())
    assert described.startswith(
        f"erp/payments/{DAY1}.csv, line 2: the line is {size:,} bytes (5.1 MB) long, more than the "
        "2,000,000 bytes the CSV reader accepts in one line"
    )


# --------------------------------------------------------------------------- Dagster asset


def test_ingest_asset_materializes_into_the_published_warehouse(tmp_path, two_days):
    landing, archive = two_days
    warehouse_path = tmp_path / "warehouse.duckdb"
    raw_erp = next(a for a in ingest_assets if dg.AssetKey(["raw_erp", "payments"]) in a.keys)
    resources = {
        "release": ReleaseResource(warehouse_path=str(warehouse_path), site_dir=str(tmp_path / "site")),
        "landing": LandingResource(landing_dir=str(landing), archive_dir=str(archive)),
    }
    # The marts are not built here: the release still needs the as-of table the publish step reads.
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute(
            "create schema marts; "
            "create table marts.warehouse_as_of as select date '2024-03-02' as as_of_date"
        )

    result = dg.materialize([raw_erp, published_release], resources=resources)

    assert result.success
    metadata = result.asset_materializations_for_node(raw_erp.node_def.name)
    payments = next(m for m in metadata if m.asset_key == dg.AssetKey(["raw_erp", "payments"])).metadata
    assert payments["rows_loaded"].value == 5
    assert payments["files_loaded"].value == 2
    assert payments["dagster/row_count"].value == 5
    assert warehouse_path.is_symlink()
    with duckdb.connect(str(warehouse_path), read_only=True) as check:
        assert count(check, "raw_erp.payments") == 5
    assert {k.path[0] for a in ingest_assets for k in a.keys} == {"raw_crm", "raw_erp", "raw_meta"}
    assert sum(len(a.keys) for a in ingest_assets) == len(CONTRACT.entities) + len(CONTRACT.systems)
