"""Row-level quarantine at ingest (pipelines/lib/ingest.py): a row that breaks the contract is set aside
in raw_meta.rejected_rows and the rest of its file loads, unless more rows of the file break it than the
entity's max_rejected_share (quality/contract/extracts.yml) allows; and the manifest's `source` block
recorded in raw_meta.delivery_sources.

The fixtures are payments files (ERP, max_rejected_share 0.05 from the contract's defaults) of n rows
written by hand; every row is valid unless the test changes it: row i is
PAY<i>,INV<i>,C000001,<date>,<i>.00,支票.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_ingest import DAY1, DAY2, PAYMENTS_HEADER, T1, T2, TODAY, count, deliver

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.resources import LandingResource, ReleaseResource
from pipelines.lib import ingest
from pipelines.lib.ingest import DeliveryRefused, Removal, ensure_ingest_tables, ingest_system
from quality.contract import load_contract

CONTRACT = load_contract()
DECIMAL = "is not a decimal number (digits, optional '.', no thousands separator or currency sign)"
METHODS = "is not one of the allowed values: 银行转账, 承兑汇票, 支票"


def payments(rows: int, day: str = DAY1, changes: dict[int, dict[str, str]] | None = None) -> str:
    """A payments file of `rows` valid rows, with the values in changes[row] instead."""
    columns = PAYMENTS_HEADER.strip().split(",")
    lines = [PAYMENTS_HEADER]
    for i in range(1, rows + 1):
        row = {
            "payment_id": f"PAY{i:08d}",
            "invoice_id": f"INV{i:08d}",
            "customer_id": "C000001",
            "payment_date": day,
            "payment_amount": f"{i}.00",
            "method": "支票",
            **(changes or {}).get(i, {}),
        }
        lines.append(",".join(row[c] for c in columns) + "\n")
    return "".join(lines)


def erp(con, landing, archive, **kwargs):
    return ingest_system(con, CONTRACT, "erp", landing, archive, today=TODAY, **kwargs)


def rejected(con) -> list[tuple]:
    return con.execute(
        "select strftime(extract_date, '%Y-%m-%d'), source_file, row_number, line_number, column_name, "
        "value, problem, loaded_at from raw_meta.rejected_rows order by extract_date, row_number, column_name"
    ).fetchall()


def loaded_file(con, day: str) -> tuple:
    return con.execute(
        "select rows_read, row_count, rows_quarantined from raw_meta.loaded_files "
        "where entity = 'payments' and extract_date = ?",
        [day],
    ).fetchone()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "landing", tmp_path / "archive"


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


# 2 bad rows of 50 (4% <= 5%): row 7's amount has a currency sign; row 31 has two problems, a negative
# amount and a method not allowed (two reasons, still one row).
TWO_BAD_ROWS = {7: {"payment_amount": "¥7.00"}, 31: {"payment_amount": "-31.00", "method": "现金"}}


def test_two_bad_rows_of_50_are_set_aside_and_the_other_48_load(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": payments(50, changes=TWO_BAD_ROWS)})

    report = erp(con, landing, archive, loaded_at=T1)

    payments_report = report.entities["payments"]
    assert (payments_report.rows_read, payments_report.rows_loaded, payments_report.rows_quarantined) == (
        50,
        48,
        2,
    )
    assert report.deliveries_loaded == [DAY1]
    file = f"erp/payments/{DAY1}.csv"
    assert rejected(con) == [
        (DAY1, file, 7, 8, "payment_amount", "¥7.00", DECIMAL, T1),
        (DAY1, file, 31, 32, "method", "现金", METHODS, T1),
        (DAY1, file, 31, 32, "payment_amount", "-31.00", "is below the minimum 0", T1),
    ]
    loaded = [r for (r,) in con.execute("select payment_id from raw_erp.payments order by 1").fetchall()]
    assert loaded == [f"PAY{i:08d}" for i in range(1, 51) if i not in (7, 31)]
    # The raw rows keep their own row numbers: the gaps are the rows set aside.
    assert con.execute("select max(_row_number), count(*) from raw_erp.payments").fetchone() == (50, 48)
    assert loaded_file(con, DAY1) == (50, 48, 2)  # read = loaded + quarantined
    assert payments_report.quarantined_files == {file: (2, 50)}
    assert [p.describe() for p in payments_report.quarantine_examples] == [
        f"{file}, row 7 (line 8), column payment_amount: '¥7.00' {DECIMAL}",
        f"{file}, row 31 (line 32), column payment_amount: '-31.00' is below the minimum 0",
        f"{file}, row 31 (line 32), column method: '现金' {METHODS}",
    ]
    assert payments_report.to_metadata()["rows_quarantined"] == 2


def test_a_file_with_more_bad_rows_than_allowed_is_refused_and_nothing_of_the_system_loads(con, dirs):
    landing, archive = dirs
    # 12 of 80 rows have a negative amount: 15% > 5%. The good DAY1 delivery of the same run waits too.
    deliver(landing, DAY1, {"payments": payments(50)})
    bad = {row: {"payment_amount": f"-{row}.00"} for row in range(1, 13)}
    deliver(landing, DAY2, {"payments": payments(80, DAY2, bad)})

    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)

    message = str(caught.value)
    assert caught.value.refused_dates == [DAY2]
    assert f"erp/payments/{DAY2}.csv: 12 problem(s)\n" in message
    assert (
        "12 of 80 rows (15.0%) break the contract, more than the 5% allowed for erp.payments "
        "(max_rejected_share in quality/contract/extracts.yml)."
    ) in message
    assert "row 1 (line 2): '-1.00'" in message and "row 12 (line 13): '-12.00'" in message
    assert sum(count(con, e.raw_table) for e in CONTRACT.entities_of("erp")) == 0
    for table in ("loaded_files", "rejected_rows", "delivery_sources"):
        assert count(con, f"raw_meta.{table}") == 0, table


def test_exactly_the_allowed_share_still_loads(con, dirs):
    landing, archive = dirs
    bad = {row: {"payment_amount": f"-{row}.00"} for row in (10, 20, 30, 40)}  # 4 of 80 = 5%, not more
    deliver(landing, DAY1, {"payments": payments(80, changes=bad)})
    assert erp(con, landing, archive).entities["payments"].rows_quarantined == 4
    assert loaded_file(con, DAY1) == (80, 76, 4)


def test_a_snapshot_entity_allows_no_bad_row(con, dirs):
    landing, archive = dirs
    header = "product_id,product_name,product_line,list_price,unit,is_active,updated_at\n"
    rows = "".join(f"P{i:04d},Widget {i},Line A,10.00,pcs,true,2024-03-01 08:00:00\n" for i in range(1, 41))
    deliver(
        landing,
        DAY1,
        {"products": header + rows.replace("P0040,Widget 40,Line A,10.00", "P0040,,Line A,10.00")},
    )

    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)

    assert "1 of 40 rows (2.5%) break the contract, more than the 0% allowed for erp.products" in str(
        caught.value
    )


def test_a_line_duckdb_cannot_split_refuses_the_file_however_few(con, dirs):
    landing, archive = dirs
    text = payments(50).replace("PAY00000010,INV00000010,C000001,2024-03-01,10.00,支票", "PAY00000010,INV1")
    deliver(landing, DAY1, {"payments": text})
    with pytest.raises(DeliveryRefused, match="the line has fewer fields than the header"):
        erp(con, landing, archive)
    assert count(con, "raw_erp.payments") == count(con, "raw_meta.rejected_rows") == 0


def test_a_corrected_redelivery_replaces_the_quarantined_rows_and_remove_day_removes_them(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": payments(50, changes=TWO_BAD_ROWS)})
    deliver(landing, DAY2, {"payments": payments(50, DAY2, {3: {"method": "现金"}})})
    erp(con, landing, archive, loaded_at=T1)
    assert [r[:3] for r in rejected(con)] == [
        (DAY1, f"erp/payments/{DAY1}.csv", 7),
        (DAY1, f"erp/payments/{DAY1}.csv", 31),
        (DAY1, f"erp/payments/{DAY1}.csv", 31),
        (DAY2, f"erp/payments/{DAY2}.csv", 3),
    ]

    # DAY1 again: rows 7 and 31 corrected, but row 12 now has a bad date.
    deliver(landing, DAY1, {"payments": payments(50, changes={12: {"payment_date": "2024-02-30"}})})
    report = erp(con, landing, archive, loaded_at=T2)

    assert report.entities["payments"].rows_quarantined == 1
    assert rejected(con) == [
        (
            DAY1,
            f"erp/payments/{DAY1}.csv",
            12,
            13,
            "payment_date",
            "2024-02-30",
            "is not a date YYYY-MM-DD",
            T2,
        ),
        (DAY2, f"erp/payments/{DAY2}.csv", 3, 4, "method", "现金", METHODS, T1),  # DAY2 untouched
    ]
    assert loaded_file(con, DAY1) == (50, 49, 1)
    assert con.execute(
        "select count(*) from raw_erp.payments where _extract_date = ? and payment_id in (?, ?)",
        [DAY1, "PAY00000007", "PAY00000031"],
    ).fetchone() == (2,)

    for path in (landing / "erp").rglob(f"{DAY2}.*"):
        path.unlink()  # remove-day moved the delivery out of the landing folder
    erp(con, landing, archive, removals=[Removal("erp", DAY2, "wrong day")], loaded_at=T2)
    assert [r[0] for r in rejected(con)] == [DAY1]
    assert con.execute(
        "select strftime(extract_date, '%Y-%m-%d') from raw_meta.delivery_sources"
    ).fetchall() == [(DAY1,)]


def test_a_duplicate_key_far_from_its_first_occurrence_is_found(con, dirs):
    landing, archive = dirs
    # Row 40 repeats row 2's payment id; row 50 (the last row) has a bad method.
    # DAY2's file repeats DAY1's ids: fine, a key is unique within a file.
    changes = {40: {"payment_id": "PAY00000002"}, 50: {"method": "现金"}}
    deliver(landing, DAY1, {"payments": payments(50, changes=changes)})
    deliver(landing, DAY2, {"payments": payments(50, DAY2)})

    report = erp(con, landing, archive, loaded_at=T1)

    assert report.entities["payments"].rows_checked == 100
    assert [r[:7] for r in rejected(con)] == [
        (DAY1, f"erp/payments/{DAY1}.csv", 40, 41, "payment_id", "PAY00000002", "duplicate primary key"),
        (DAY1, f"erp/payments/{DAY1}.csv", 50, 51, "method", "现金", METHODS),
    ]
    assert con.execute(
        "select detail from raw_meta.rejected_rows where problem = 'duplicate primary key'"
    ).fetchall() == [("first seen in row 2",)]
    assert (loaded_file(con, DAY1), loaded_file(con, DAY2)) == ((50, 48, 2), (50, 50, 0))


def test_a_duplicate_key_refusal_names_the_first_occurrence(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": payments(5, changes={5: {"payment_id": "PAY00000001"}})})
    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)
    message = str(caught.value)
    assert (
        "column payment_id: duplicate primary key\n    row 5 (line 6): 'PAY00000001' (first seen in row 1)"
        in (message)
    )
    assert "1 of 5 rows (20.0%) break the contract" in message


# --------------------------------------------------------------------------- delivery sources


SOURCE = {
    "profile": "salesforce_opportunities",
    "initial": True,
    "currency": "CNY",
    "absent_entities": ["leads", "feedback"],
    "defaulted_columns": {"opportunities": ["region", "product_id"]},
    "source_files": {"opportunities": ["Opportunities 2024-03-01.csv"]},
    "unmapped_columns": {"opportunities": ["competitor"]},  # kept with the whole block
}


def _add_source(landing: Path, system: str, day: str, source) -> None:
    path = landing / CONTRACT.manifest_path(system, day)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "source": source}, ensure_ascii=False), encoding="utf-8")


def sources(con) -> list[tuple]:
    return con.execute(
        "select system, strftime(extract_date, '%Y-%m-%d'), profile, initial, currency, absent_entities, "
        "defaulted_columns, source_files, source_block::json->>'$.unmapped_columns', loaded_at "
        "from raw_meta.delivery_sources order by all"
    ).fetchall()


def test_the_manifests_source_block_is_recorded_per_delivery(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {})
    _add_source(landing, "crm", DAY1, SOURCE)

    for system in CONTRACT.systems:
        ingest_system(con, CONTRACT, system, landing, archive, today=TODAY, loaded_at=T1)

    assert sources(con) == [
        (
            "crm",
            DAY1,
            "salesforce_opportunities",
            True,
            "CNY",
            ["leads", "feedback"],
            '{"opportunities": ["region", "product_id"]}',
            '{"opportunities": ["Opportunities 2024-03-01.csv"]}',
            '{"opportunities":["competitor"]}',
            T1,
        ),
        ("erp", DAY1, None, False, None, None, None, None, None, T1),  # no `source`: contract-shaped files
    ]

    # A re-delivery (new content, a new manifest) replaces the day's record.
    deliver(
        landing,
        DAY1,
        {
            "feedback": "feedback_id,customer_id,rep_id,feedback_date,satisfaction,category,comment\n"
            "F1,C1,R1,2024-03-01,5,服务,\n"
        },
    )
    _add_source(landing, "crm", DAY1, {"profile": "fxiaoke", "initial": False})
    ingest_system(con, CONTRACT, "crm", landing, archive, today=TODAY, loaded_at=T2)
    assert sources(con)[0] == ("crm", DAY1, "fxiaoke", False, None, None, None, None, None, T2)


def test_a_source_that_is_not_an_object_makes_the_manifest_unreadable(con, dirs):
    landing, archive = dirs
    deliver(landing, DAY1, {})
    _add_source(landing, "erp", DAY1, "salesforce")
    with pytest.raises(DeliveryRefused) as caught:
        erp(con, landing, archive)
    assert [p.describe() for p in caught.value.delivery_problems] == [
        f"erp {DAY1}: erp/_manifests/{DAY1}.json: not a readable manifest "
        "(TypeError: 'source' must be an object, not str)"
    ]


# --------------------------------------------------------------------------- the warehouse and the asset


def test_an_existing_loaded_files_table_gets_the_new_columns(con):
    con.execute("create schema raw_meta")
    con.execute(
        "create table raw_meta.loaded_files (system varchar not null, entity varchar not null, "
        "extract_date date not null, source_file varchar not null, file_sha256 varchar not null, "
        "row_count integer not null, archived_path varchar not null, loaded_at timestamp not null, "
        "primary key (system, entity, extract_date))"
    )
    con.execute(
        "insert into raw_meta.loaded_files values ('erp', 'payments', ?, 'f', 'sha', 7, 'a', ?)", [DAY1, T1]
    )

    ensure_ingest_tables(con, CONTRACT)
    ensure_ingest_tables(con, CONTRACT)  # idempotent

    assert loaded_file(con, DAY1) == (7, 7, 0)
    assert count(con, "raw_meta.rejected_rows") == count(con, "raw_meta.delivery_sources") == 0


def test_quarantined_rows_make_a_warning_and_the_build_goes_on(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    deliver(landing, DAY1, {"payments": payments(50, changes=TWO_BAD_ROWS)})
    raw_erp = next(a for a in ingest_assets if dg.AssetKey(["raw_erp", "payments"]) in a.keys)
    resources = {
        "release": ReleaseResource(
            warehouse_path=str(tmp_path / "warehouse.duckdb"), site_dir=str(tmp_path / "site")
        ),
        "landing": LandingResource(landing_dir=str(landing), archive_dir=str(archive)),
    }

    result = dg.materialize([raw_erp], resources=resources)

    assert result.success
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    quarantine = checks[("payments", "quarantine")]
    assert (quarantine.passed, quarantine.severity) == (False, dg.AssetCheckSeverity.WARN)
    file = f"erp/payments/{DAY1}.csv"
    assert quarantine.description.startswith(
        "raw_erp.payments: 2 row(s) of 1 new file(s) break the contract and were set aside in "
        f"raw_meta.rejected_rows; the rest loaded.\n- {file}: 2 of 50 row(s) set aside\nFirst reasons:\n"
        f"- {file}, row 7 (line 8), column payment_amount: '¥7.00' {DECIMAL}\n"
    )
    assert {k: v.value for k, v in quarantine.metadata.items() if k.startswith("rows")} == {
        "rows_read": 50,
        "rows_quarantined": 2,
    }
    assert checks[("payments", "contract")].passed
    assert (checks[("invoices", "quarantine")].passed, checks[("invoices", "quarantine")].description) == (
        True,
        "No row of the new files was set aside.",
    )
    assert checks[("erp_deliveries", "delivery")].description == (
        "1 new delivery loaded, complete and meeting the contract except 2 row(s) set aside "
        "(raw_erp.payments 2; see their quarantine checks)."
    )
    materialized = result.asset_materializations_for_node(raw_erp.node_def.name)
    meta = next(m for m in materialized if m.asset_key == dg.AssetKey(["raw_erp", "payments"])).metadata
    assert (meta["rows_read"].value, meta["rows_loaded"].value, meta["rows_quarantined"].value) == (50, 48, 2)
    assert meta["dagster/row_count"].value == 48


def test_no_table_of_the_warehouse_is_left_half_written(con, dirs, monkeypatch):
    """The quarantined rows are part of the load's one transaction: a failure after the raw rows were
    inserted leaves neither rows nor rejected rows (nor the delivery's source)."""
    landing, archive = dirs
    deliver(landing, DAY1, {"payments": payments(50, changes=TWO_BAD_ROWS)})

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "_write_delivery_source", disk_full)
    with pytest.raises(RuntimeError, match="disk full"):
        erp(con, landing, archive)
    for table in ("raw_erp.payments", "raw_meta.loaded_files", "raw_meta.rejected_rows"):
        assert count(con, table) == 0, table

    monkeypatch.undo()
    assert erp(con, landing, archive).entities["payments"].rows_quarantined == 2
    assert con.execute("select extract_date from raw_meta.delivery_sources").fetchall() == [
        (date(2024, 3, 1),)
    ]
