"""A nightly build with nothing new to load ends at once, without starting Dagster.

When every manifest in the landing folder lists exactly the files the published warehouse has loaded,
and no day is waiting to be removed, the night cannot load anything: the full job would start, find
nothing, and stop at the blocking freshness check, publishing nothing. Starting Dagster and dbt for
that costs seconds to minutes; reading the manifests costs a fraction of one. So `salesreview build`
asks this first and reports the same freshness failure (exit 1) itself. Anything else (a new or
corrected delivery, an unreadable manifest, a removal, no published warehouse yet) goes to the job.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipelines.lib.landing import list_extract_dates, read_manifest
from pipelines.lib.removals import pending_removals
from pipelines.lib.settings import Settings
from quality.contract import Contract, load_contract
from quality.delivery_checks import DeliveryCheck, check_freshness


def loaded_file_hashes(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], str] | None:
    """(system, entity, extract date) -> SHA-256 of the file loaded; None without a load log."""
    has_log = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw_meta' and table_name = 'loaded_files'"
    ).fetchone()[0]
    if not has_log:
        return None
    rows = con.execute(
        "select system, entity, strftime(extract_date, '%Y-%m-%d'), file_sha256 from raw_meta.loaded_files"
    ).fetchall()
    return {(system, entity, day): sha for system, entity, day, sha in rows}


def landing_is_loaded(landing_dir: Path, contract: Contract, loaded: dict[tuple[str, str, str], str]) -> bool:
    """Whether every manifest in the landing folder lists only files already loaded with that content."""
    for system in contract.systems:
        for day in list_extract_dates(landing_dir, contract, system):
            manifest = read_manifest(landing_dir, contract, system, day)
            if manifest.problems:
                return False  # the job says what is wrong with it
            for entity, meta in manifest.files.items():
                if loaded.get((system, entity, day)) != meta["sha256"]:
                    return False
    return True


def nothing_new_to_load(settings: Settings, today: date | None = None) -> list[DeliveryCheck] | None:
    """The freshness failures of a night that cannot load anything (see the module docstring), or None
    when the nightly job has to run."""
    if not settings.warehouse_path.exists() or pending_removals(settings.release_paths):
        return None
    contract = load_contract()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        loaded = loaded_file_hashes(con)
        if not loaded or not landing_is_loaded(settings.landing_dir, contract, loaded):
            return None
        checks = [
            check_freshness(
                con,
                contract,
                system,
                settings.landing_dir,
                today=today,
                loaded_this_build=[],
                require_new_delivery=True,
            )
            for system in contract.systems
        ]
    failed = [check for check in checks if not check.passed]
    return failed or None
