"""One more day for a generated company (pipelines/sample/generator/nextday.py, `salesreview next-day`).

A small company (scale 0.1, 40 days up to Sunday 2026-09-27) is generated once per module; the tests add
days to copies of it: Monday (the collection plan) to the Saturday of the week after, across the first day
of Q4 (the quarter's targets) and the 国庆 holiday (10-01 .. 10-07 off, Saturday 10-10 a make-up working
day: the working calendar)."""

from __future__ import annotations

import csv
import re
import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from test_generator import value_problems

from pipelines.cli import main
from pipelines.lib.ingest import ingest_all
from pipelines.lib.landing import count_csv_rows, file_problem, list_extract_dates, read_manifest
from pipelines.sample.generator import add_next_day, generate
from pipelines.sample.generator.deliveries import DELIVERY_DAY_COLUMN
from quality.contract import load_contract

CONTRACT = load_contract()
END = date(2026, 9, 27)  # a Sunday
DAYS = 40
NEW_DAYS = 13  # Monday 2026-09-28 to Saturday 2026-10-10
TODAY = date(2026, 11, 29)


def read_rows(landing: Path, entity: str, day: date) -> list[dict[str, str]]:
    e = CONTRACT.entity(entity)
    with open(
        landing / CONTRACT.file_path(e.system, e.name, day.isoformat()), encoding="utf-8", newline=""
    ) as f:
        return list(csv.DictReader(f))


def number(key: str) -> int:
    return int(re.fullmatch(r"\D*(\d+)", key).group(1))


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("next-day") / "landing"
    generate(landing, scale=0.1, seed=3, end_date=END, days=DAYS)
    return landing


@pytest.fixture(scope="module")
def extended(company, tmp_path_factory) -> tuple[Path, list[date]]:
    """A copy of the company with NEW_DAYS days added one after the other."""
    landing = tmp_path_factory.mktemp("extended") / "landing"
    shutil.copytree(company, landing)
    return landing, [add_next_day(landing) for _ in range(NEW_DAYS)]


def test_each_new_day_is_the_day_after_the_newest_delivery(extended):
    landing, added = extended
    assert added == [END + timedelta(days=i) for i in range(1, NEW_DAYS + 1)]
    for system in CONTRACT.systems:
        assert list_extract_dates(landing, CONTRACT, system)[-1] == added[-1].isoformat()


def test_the_manifests_list_every_entity_with_its_sha256_and_rows(extended):
    landing, added = extended
    for day in added:
        for system in CONTRACT.systems:
            manifest = read_manifest(landing, CONTRACT, system, day.isoformat())
            assert not manifest.problems, manifest.problems
            assert set(manifest.files) == {e.name for e in CONTRACT.entities_of(system)}
            for entity, meta in manifest.files.items():
                assert file_problem(landing, meta) is None, (day, entity)
                assert meta["rows"] == count_csv_rows(landing / meta["path"]), (day, entity)


def test_the_days_files_follow_the_contract_and_are_dated_that_day(extended):
    landing, added = extended
    problems = []
    for day in added:
        for e in CONTRACT.entities:
            rows = read_rows(landing, e.name, day)
            keys = [tuple(r[k] for k in e.primary_key) for r in rows]
            assert len(keys) == len(set(keys)), (day, e.name)
            for i, row in enumerate(rows, 2):
                problems += [f"{day} {e.name}:{i}: {p}" for p in value_problems(e, row)]
                column = DELIVERY_DAY_COLUMN.get(e.name)
                if column and row[column][:10] != day.isoformat():
                    problems.append(f"{day} {e.name}:{i}: {column} {row[column]} is not the delivery's day")
    assert problems[:20] == []


def test_the_snapshot_lists_are_repeated(company, extended):
    landing, added = extended
    for entity in ("reps", "products"):
        assert read_rows(landing, entity, added[-1]) == read_rows(company, entity, END)


def test_new_keys_continue_after_the_existing_ones_and_references_resolve(company, extended):
    landing, added = extended
    seen: dict[str, set[str]] = defaultdict(set)
    for i in range(DAYS):
        day = END - timedelta(days=i)
        for e in CONTRACT.entities:
            seen[e.name].update(r[e.primary_key[0]] for r in read_rows(company, e.name, day))
    activity = defaultdict(int)
    for day in added:
        today = {e.name: read_rows(landing, e.name, day) for e in CONTRACT.entities}
        for e in CONTRACT.entities:
            keys = {r[e.primary_key[0]] for r in today[e.name]}
            new = keys - seen[e.name]
            if e.load_mode == "delta" and new and seen[e.name]:
                assert min(map(number, new)) > max(map(number, seen[e.name])), (day, e.name)
            if e.name in (
                "activities",
                "opportunity_stage_history",
                "payments",
                "feedback",
                "collection_plan",
            ):
                assert not keys & seen[e.name], (day, e.name)  # append-only: never a key again
            seen[e.name] |= keys
            activity[e.name] += len(today[e.name])
        for e in CONTRACT.entities:
            for c in (c for c in e.columns if c.references):
                target = c.references.split(".")[0]
                missing = {r[c.name] for r in today[e.name] if r[c.name]} - seen[target]
                assert not missing, (day, e.name, c.name, sorted(missing)[:3])
    # a plausible week: the reps worked, deals moved, the ERP booked and billed
    for entity in ("activities", "leads", "opportunities", "opportunity_stage_history", "sales_orders"):
        assert activity[entity] > 0, entity
    assert read_rows(landing, "collection_plan", date(2026, 9, 28))  # Monday
    # 国庆: nobody works 10-01 .. 10-07 (some of 09-30's calls are logged on the 1st); Sat 10-10 is worked
    holiday = {(date(2026, 10, 1) + timedelta(days=i)).isoformat() for i in range(7)}
    worked = {a["activity_at"][:10] for day in added for a in read_rows(landing, "activities", day)}
    assert not worked & holiday and "2026-10-10" in worked and "2026-10-11" not in worked
    q4 = read_rows(landing, "targets", date(2026, 10, 1))  # the quarter's first day
    assert {r["target_level"] for r in q4} == {"rep", "team", "region"}
    assert {r["period_start"] for r in q4 if r["target_level"] != "rep"} == {"2026-10-05"}


def test_the_same_folder_and_seed_give_the_same_day(company, tmp_path):
    copies = []
    for name in ("a", "b"):
        shutil.copytree(company, tmp_path / name)
        add_next_day(tmp_path / name, seed=9)
        files = sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())
        copies.append({p.relative_to(tmp_path / name): p.read_bytes() for p in files})
    assert copies[0] == copies[1]


def test_the_new_days_load_through_ingest_without_a_contract_problem(tmp_path):
    """With the company's own deliveries (a week of it, so that the test stays short), in one ingest."""
    landing = tmp_path / "landing"
    generate(landing, scale=0.1, seed=3, end_date=END, days=7)
    added = [add_next_day(landing).isoformat() for _ in range(2)]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        reports = ingest_all(con, CONTRACT, landing, tmp_path / "archive", today=TODAY)  # raises if refused
        assert [r.deliveries_loaded[-2:] for r in reports] == [added] * 2
        assert con.execute("select count(*) from raw_meta.rejected_rows").fetchone()[0] == 0
        loaded = con.execute(
            "select count(*) from raw_crm.activities where _extract_date = ?", [added[-1]]
        ).fetchone()[0]
        assert loaded == len(read_rows(landing, "activities", date.fromisoformat(added[-1]))) > 0
    finally:
        con.close()


def test_the_command_adds_a_day(company, tmp_path, capsys):
    landing = tmp_path / "landing"
    shutil.copytree(company, landing)
    assert main(["next-day", "--landing", str(landing)]) == 0
    assert "delivered 2026-09-28" in capsys.readouterr().out
    assert main(["next-day", "--landing", str(tmp_path / "nothing")]) == 2
