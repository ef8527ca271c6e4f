"""The ingest's memory does not grow with the files' size (pipelines/lib/ingest.py): the files are staged
in TEMP tables (never in the warehouse file) under a DuckDB memory limit, so DuckDB spills them to its temp
directory next to the warehouse; rows are numbered without a window over the whole stage. The sizes
themselves are measured by `salesreview benchmark --ingest-rows N`, not here."""

from __future__ import annotations

import hashlib
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import ingest
from pipelines.sample.benchmark import INGEST_BENCH_SYSTEM, write_ingest_delivery
from quality.contract import load_contract

CONTRACT = load_contract()
TODAY = date(2024, 3, 10)


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("select current_setting(?)", [name]).fetchone()[0]


def _ingest_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, bool]]:
    return con.execute(
        "select table_name, temporary from duckdb_tables() where table_name like '\\_ingest%' escape '\\' "
        "order by all"
    ).fetchall()


@pytest.fixture
def spy_on_checks(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the connection looks like while the staged rows are checked."""
    seen: list[dict] = []
    check_contract = ingest._check_contract

    def spy(con, entity, files, stage_table, rejected_table):
        seen.append(
            {
                "memory_limit": _setting(con, "memory_limit"),
                "temp_directory": _setting(con, "temp_directory"),
                "tables": _ingest_tables(con),
                "stage_table": stage_table,
            }
        )
        return check_contract(con, entity, files, stage_table, rejected_table)

    monkeypatch.setattr(ingest, "_check_contract", spy)
    return seen


def test_staging_uses_temp_tables_under_the_memory_limit_and_restores_it(
    tmp_path: Path, spy_on_checks: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ingest.INGEST_MEMORY_LIMIT_ENV, raising=False)
    write_ingest_delivery(tmp_path / "landing", 50)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        limit_before = _setting(con, "memory_limit")
        report = ingest.ingest_system(
            con, CONTRACT, INGEST_BENCH_SYSTEM, tmp_path / "landing", tmp_path / "archive", today=TODAY
        )
        assert report.entities["opportunities"].rows_loaded == 50
        opportunities = [s for s in spy_on_checks if s["stage_table"].endswith("__opportunities")]
        assert len(opportunities) == 1
        during = opportunities[0]
        # DuckDB shows 512MB (decimal) as 488.2 MiB.
        con.execute(f"set memory_limit = '{ingest.DEFAULT_INGEST_MEMORY_LIMIT}'")
        assert during["memory_limit"] == _setting(con, "memory_limit")
        con.execute("reset memory_limit")
        assert during["temp_directory"] == str(warehouse) + ".tmp"  # spills next to the warehouse
        assert (during["stage_table"], True) in during["tables"]
        assert all(temporary for _, temporary in during["tables"]), during["tables"]
        # Afterwards: the limit as it was, no staging table left (temporary or not).
        assert _setting(con, "memory_limit") == limit_before
        assert _ingest_tables(con) == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert _ingest_tables(con) == []
        assert con.execute(
            "select count(*) from raw_crm.opportunities where _row_number between 1 and 50"
        ).fetchone() == (50,)


def test_the_memory_limit_comes_from_the_environment(
    tmp_path: Path, spy_on_checks: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ingest_delivery(tmp_path / "landing", 5)
    monkeypatch.setenv(ingest.INGEST_MEMORY_LIMIT_ENV, "300MB")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("set memory_limit = '2GB'")
        before = _setting(con, "memory_limit")
        ingest.ingest_system(
            con, CONTRACT, INGEST_BENCH_SYSTEM, tmp_path / "landing", tmp_path / "archive", today=TODAY
        )
        assert spy_on_checks[0]["memory_limit"] == "286.1 MiB"
        assert _setting(con, "memory_limit") == before  # an operator's own limit is kept too


def test_a_memory_limit_duckdb_does_not_understand_is_refused_before_anything_is_read(
    tmp_path: Path, spy_on_checks: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ingest_delivery(tmp_path / "landing", 5)
    monkeypatch.setenv(ingest.INGEST_MEMORY_LIMIT_ENV, "half of it")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        with pytest.raises(ValueError, match="SRW_INGEST_MEMORY_LIMIT='half of it'"):
            ingest.ingest_system(
                con, CONTRACT, INGEST_BENCH_SYSTEM, tmp_path / "landing", tmp_path / "archive", today=TODAY
            )
        assert spy_on_checks == []


@pytest.mark.parametrize("rowid_gap", [False, True])
def test_rows_are_numbered_in_file_order_per_file(rowid_gap: bool) -> None:
    """By rowid less the file's first rowid; a gap in the rowids falls back to the window."""
    with duckdb.connect() as con:
        con.execute("create temp table _ingest_read (v varchar, _path varchar)")
        if rowid_gap:
            con.execute(
                "insert into _ingest_read values ('a1', 'a'), ('gone', 'a'), ('a2', 'a'), ('a3', 'a')"
            )
            con.execute("delete from _ingest_read where v = 'gone'")
        else:
            con.execute("insert into _ingest_read values ('a1', 'a'), ('a2', 'a'), ('a3', 'a')")
        con.execute("insert into _ingest_read values ('b1', 'b'), ('b2', 'b')")
        con.execute("insert into _ingest_read values ('c1', 'c')")
        ingest._number_rows(con, "_ingest_stage")
        assert con.execute("select * from _ingest_stage order by _path, _row_number").fetchall() == [
            ("a1", "a", 1),
            ("a2", "a", 2),
            ("a3", "a", 3),
            ("b1", "b", 1),
            ("b2", "b", 2),
            ("c1", "c", 1),
        ]
        assert _ingest_tables(con) == [("_ingest_stage", True)]


def test_a_new_file_is_copied_while_hashed_and_a_file_that_differs_leaves_no_copy(tmp_path: Path) -> None:
    """One read of the landing file, block by block (not whole into memory), checks it against its
    manifest's SHA-256 and gives the copy the ingest reads; a file that differs leaves nothing."""
    landing = tmp_path / "landing"
    source = landing / "crm/opportunities/2024-03-01.csv"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"x" * (3 << 20) + b"\n")
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    meta = {"path": "crm/opportunities/2024-03-01.csv", "sha256": sha, "rows": 1}
    copy = tmp_path / "archive" / "crm/opportunities/2024-03-01__x.csv.partial"
    assert ingest._copy_and_hash(landing, meta, copy) is None
    assert copy.read_bytes() == source.read_bytes()
    copy.unlink()
    problem = ingest._copy_and_hash(landing, {**meta, "sha256": "0" * 64}, copy)
    assert problem == (
        f"crm/opportunities/2024-03-01.csv: its SHA-256 is {sha[:12]}…, the manifest says 000000000000… "
        "(the upload is partial, or the file changed after the manifest was written)"
    )
    assert not copy.exists()
    missing = {**meta, "path": "crm/opportunities/2024-03-02.csv"}
    assert ingest._copy_and_hash(landing, missing, copy) == (
        "crm/opportunities/2024-03-02.csv: listed in the manifest but not delivered"
    )


def test_each_new_file_is_opened_once_and_a_loaded_one_never(tmp_path: Path) -> None:
    """Python opens a new landing file once (the copy while hashing; DuckDB reads the copy), a file
    loaded before with the same SHA-256 not at all, and each manifest once per run."""
    landing = tmp_path / "landing"
    write_ingest_delivery(landing, 50)
    opened: list[str] = []
    watching = [False]

    def audit(event: str, args: tuple) -> None:
        if watching[0] and event == "open" and isinstance(args[0], str | Path):
            path = str(args[0])
            if path.startswith(str(landing)):
                opened.append(str(Path(path).relative_to(landing)))

    sys.addaudithook(audit)  # cannot be removed: `watching` switches it off
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        for run in (1, 2):
            opened.clear()
            watching[0] = True
            try:
                ingest.ingest_system(
                    con, CONTRACT, INGEST_BENCH_SYSTEM, landing, tmp_path / "archive", today=TODAY
                )
            finally:
                watching[0] = False
            files = [
                CONTRACT.file_path(INGEST_BENCH_SYSTEM, e.name, "2024-03-01")
                for e in CONTRACT.entities_of(INGEST_BENCH_SYSTEM)
            ]
            manifest = CONTRACT.manifest_path(INGEST_BENCH_SYSTEM, "2024-03-01")
            expected_files = files if run == 1 else []
            assert sorted(opened) == sorted([*expected_files, manifest]), run
    finally:
        con.close()
