"""The benchmark (`salesreview benchmark`): the performance goals of the warehouse, measured side by side
in one run and written down with the machine they were measured on.

Per scale: a company of `days` daily deliveries (generated, or reused from --workdir), then, each as a
fresh `salesreview` process with the project's Dagster instance settings (as a real night):

- the full night: every day but the last, into a new warehouse;
- the floor: the full night's compiled dbt models as plain DuckDB statements on one connection, in this
  process, on a copy of the full night's warehouse (what the models cost without dbt and Dagster);
- the night with one new day (the last day delivered: an incremental night);
- the night with nothing new (it stops at the freshness check: exit 1, by design);
- all packs of the last finished week (`salesreview backfill-packs`: every region, both languages);
- a rebuild (`salesreview build --rebuild`), to show whether the warehouse file grows.

Each process tree (the build and its children, dbt among them) is sampled every 0.2 s: the peak of its
summed resident memory and its CPU seconds (live processes' own and reaped children's), snapshot at each
phase line the build prints, so CPU is known per phase. Wall seconds per phase are the build's own step
durations (`--timings`); the dbt step is split into models, quality checks and tests by dbt's seconds
per node (its run_results.json). Speed is measured here, not in timed tests."""

from __future__ import annotations

import collections
import graphlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipelines.lib.progress import Progress
from pipelines.lib.settings import REPO_ROOT, company_env

# a phase line of the build's progress (pipelines/lib/progress.py): '02:00:14 ingest … done in 12.3 s'
BUILD_PHASE_LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<phase>[\w-]+)\b.* done in (?P<seconds>[\d.]+) s$")

FULL, NEW_DAY, NOTHING_NEW, WEEK_PACKS, REBUILD = (
    "full",
    "one new day",
    "nothing new",
    "packs of a week",
    "rebuild",
)
# The phases reported, in order. 'quality checks' are the dbt models of the quality schema (detectors,
# quarantine); 'dbt start-up' is the dbt step less dbt's own execution (parse, connection, Dagster's
# handling of its events); orchestration is the rest of the process (Dagster start-up, between steps).
PHASES = (
    "delivery check",  # a night with nothing new: the build reads the manifests and stops (no Dagster)
    "ingest",
    "dbt models",
    "quality checks",
    "dbt tests",
    "dbt start-up",
    "verification",
    "packs",
    "publish",
    "orchestration",
)
BUILD_PHASES = {"verification_sample": "verification"}  # the build's phase names that read differently
START_UP = "start-up"  # the build's first progress line: loading the definitions (orchestration)

# The goals of the performance issue.
FULL_NIGHT_MAX_SECONDS = 300
FULL_NIGHT_MAX_FLOOR_RATIO = 1.5
NEW_DAY_MAX_SHARE = 0.15
NOTHING_NEW_MAX_SHARE = 0.05
PEAK_MEMORY_MAX_BYTES = 4 * 2**30
LARGE_MAX_RATIO = 3.5
WEEK_PACKS_MAX_SECONDS = 60
REBUILD_MAX_GROWTH = 0.02

COMPANY_FILE = "company.json"  # in a scale's folder: what was generated there (reused by --workdir)


# --------------------------------------------------------------------------- the process tree


class ProcessTreeSampler:
    """Samples a process and all its descendants every `interval` seconds (a thread): the peak of their
    summed resident memory and their CPU seconds. CPU = each live process's user+system plus its reaped
    children's (children_user/system), so a child that exited is still counted, by its parent; the
    figure never goes back. `finish(final_cpu)` takes the root's own count from wait4 once reaped."""

    def __init__(self, pid: int, interval: float = 0.2):
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.cpu = 0.0
        self.series: list[tuple[float, float]] = []  # (time.time(), CPU seconds so far)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-tree-sampler", daemon=True)

    def start(self) -> ProcessTreeSampler:
        self.sample()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> float:
        """Read the tree now; returns its CPU seconds so far."""
        psutil = self._psutil
        with self._lock:
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                processes = [self.root]
            cpu, rss = 0.0, 0
            for process in processes:
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        memory = process.memory_info().rss
                except psutil.Error:  # gone (its CPU is its parent's now), or a zombie
                    continue
                cpu += times.user + times.system + times.children_user + times.children_system
                rss += memory
            self.cpu = max(self.cpu, cpu)  # a child reaped between two reads is not lost twice
            self.peak_rss = max(self.peak_rss, rss)
            self.series.append((time.time(), self.cpu))
            return self.cpu

    def finish(self, final_cpu: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if final_cpu is not None:
            with self._lock:
                self.cpu = max(self.cpu, final_cpu)
                self.series.append((time.time(), self.cpu))

    def cpu_at(self, when: float) -> float:
        """CPU seconds of the tree at a moment (time.time()), interpolated between samples."""
        series = self.series
        if not series or when <= series[0][0]:
            return series[0][1] if series else 0.0
        for (t0, c0), (t1, c1) in zip(series, series[1:], strict=False):
            if t0 <= when <= t1:
                return c0 if t1 == t0 else c0 + (c1 - c0) * (when - t0) / (t1 - t0)
        return series[-1][1]


@dataclass
class Measured:
    """One command in a child process, sampled as a tree."""

    wall: float
    cpu: float
    peak_rss: int  # bytes
    exit_code: int
    boundaries: list[tuple[str, float, float]]  # (phase, time.time(), tree CPU) at each phase line's end
    sampler: ProcessTreeSampler
    output_tail: list[str] = field(default_factory=list)
    started_at: float = 0.0  # time.time()


def run_measured(
    command: list[str],
    env: dict[str, str] | None = None,
    on_phase: Callable[[str, float], None] | None = None,
    interval: float = 0.2,
) -> Measured:
    """Run `command`, sampling its process tree; a progress line of a phase ending (BUILD_PHASE_LINE)
    snapshots the tree's CPU, so it can be told per phase."""
    started_at, started = time.time(), time.perf_counter()
    child = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = ProcessTreeSampler(child.pid, interval).start()
    boundaries: list[tuple[str, float, float]] = []
    tail: collections.deque[str] = collections.deque(maxlen=30)
    try:
        for line in child.stdout:
            line = line.rstrip()
            tail.append(line)
            phase = BUILD_PHASE_LINE.match(line)
            if phase:
                boundaries.append((phase["phase"], time.time(), sampler.sample()))
                if on_phase:
                    on_phase(phase["phase"], float(phase["seconds"]))
        # wait4: this child's own rusage, which holds its reaped descendants (dbt) too
        _, status, usage = os.wait4(child.pid, 0)
    except BaseException:
        child.kill()
        child.wait()
        sampler.finish()
        raise
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    child.stdout.close()
    sampler.finish(usage.ru_utime + usage.ru_stime)
    return Measured(
        wall=wall,
        cpu=sampler.cpu,
        # a peak shorter than the sampling interval: at least the largest single process's (ru_maxrss)
        peak_rss=max(sampler.peak_rss, usage.ru_maxrss * 1024),
        exit_code=child.returncode,
        boundaries=boundaries,
        sampler=sampler,
        output_tail=list(tail),
        started_at=started_at,
    )


# --------------------------------------------------------------------------- a night's phases


def _timestamp(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def dbt_node_seconds(
    run_results: dict, manifest: dict
) -> tuple[dict[str, float], tuple[float, float] | None]:
    """dbt's seconds per node summed into models (with seeds), quality checks (models of the quality
    folder) and tests; and the window dbt executed nodes in (time.time() of the first start and the last
    end), or None."""
    nodes = manifest.get("nodes", {})
    seconds = {"dbt models": 0.0, "quality checks": 0.0, "dbt tests": 0.0}
    starts, ends = [], []
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        kind = unique_id.split(".", 1)[0]
        if kind in ("test", "unit_test"):
            group = "dbt tests"
        elif kind == "model" and (nodes.get(unique_id, {}).get("fqn") or [])[1:2] == ["quality"]:
            group = "quality checks"
        else:
            group = "dbt models"
        seconds[group] += float(result.get("execution_time") or 0.0)
        for timing in result.get("timing") or []:
            if timing.get("started_at") and timing.get("completed_at"):
                starts.append(_timestamp(timing["started_at"]))
                ends.append(_timestamp(timing["completed_at"]))
    return seconds, ((min(starts), max(ends)) if starts else None)


def _read_json(path: Path | str | None) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}


def night_phases(timings: dict, measured: Measured) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds per phase (PHASES, and any other phase the build names) of one command:
    wall from the build's step durations, CPU from the tree's CPU between the phase lines; the dbt step
    split by dbt's seconds per node; orchestration is what is left of the process."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for phase, seconds in (timings.get("phases") or {}).items():
        name = BUILD_PHASES.get(phase, phase)
        wall[name] = wall.get(name, 0.0) + seconds
    before_cpu, before_time = 0.0, measured.started_at
    dbt_window: tuple[float, float, float] | None = None  # start, end, CPU of the dbt phase
    for phase, when, cpu_then in measured.boundaries:
        spent = cpu_then - before_cpu
        if phase == "dbt":
            dbt_window = (before_time, when, spent)
        elif phase != START_UP:
            name = BUILD_PHASES.get(phase, phase)
            cpu[name] = cpu.get(name, 0.0) + spent
        before_cpu, before_time = cpu_then, when
    if "dbt" in wall:
        dbt_wall = wall.pop("dbt")
        dbt_cpu = dbt_window[2] if dbt_window else 0.0
        results_path = timings.get("dbt_run_results")
        run_results = _read_json(results_path)
        manifest = _read_json(Path(results_path).with_name("manifest.json")) if results_path else {}
        split, window = dbt_node_seconds(run_results, manifest) if run_results else ({}, None)
        total = sum(split.values())
        if total > 0 and window:
            executed = min(window[1] - window[0], dbt_wall)
            window_cpu = measured.sampler.cpu_at(window[1]) - measured.sampler.cpu_at(window[0])
            window_cpu = min(max(window_cpu, 0.0), dbt_cpu)
            for name, seconds in split.items():
                wall[name] = executed * seconds / total
                cpu[name] = window_cpu * seconds / total
            wall["dbt start-up"] = dbt_wall - executed
            cpu["dbt start-up"] = dbt_cpu - window_cpu
        else:  # no run results (dbt did not start): the step as it was
            wall["dbt start-up"] = dbt_wall
            cpu["dbt start-up"] = dbt_cpu
    wall["orchestration"] = max(measured.wall - sum(wall.values()), 0.0)
    cpu["orchestration"] = max(measured.cpu - sum(cpu.values()), 0.0)
    return wall, cpu


# --------------------------------------------------------------------------- nights


@dataclass
class Night:
    name: str
    wall: float
    cpu: float
    peak_rss: int  # bytes, the whole process tree
    exit_code: int
    ok: bool  # the exit code it should have (a night with nothing new fails at freshness: 1)
    phases_wall: dict[str, float] = field(default_factory=dict)
    phases_cpu: dict[str, float] = field(default_factory=dict)
    warehouse_bytes: int = 0  # the published warehouse file afterwards
    dbt_mode: str | None = None
    problem: str = ""  # the end of its output, when it did not do what it should

    @property
    def wall_without_packs(self) -> float:
        return self.wall - self.phases_wall.get("packs", 0.0)

    @property
    def cpu_without_packs(self) -> float:
        return self.cpu - self.phases_cpu.get("packs", 0.0)


@dataclass
class FloorResult:
    """The compiled dbt models as plain DuckDB statements on one connection."""

    wall: float = 0.0
    cpu: float = 0.0
    models: int = 0
    tables_compared: int = 0
    tables_differing: list[str] = field(default_factory=list)  # row counts unlike the night's
    slowest: list[tuple[str, float]] = field(default_factory=list)
    error: str = ""


@dataclass
class ScaleResult:
    scale: float
    days: int
    rows: int
    generate_seconds: float  # when it was generated by an earlier run: that run's
    reused: bool = False
    nights: list[Night] = field(default_factory=list)
    floor: FloorResult | None = None
    error: str = ""

    def night(self, name: str) -> Night | None:
        return next((n for n in self.nights if n.name == name), None)

    @property
    def ok(self) -> bool:
        return not self.error and all(n.ok for n in self.nights) and bool(self.nights)

    @property
    def peak_rss(self) -> int:
        return max((n.peak_rss for n in self.nights), default=0)


def _warehouse_bytes(root: Path) -> int:
    warehouse = root / "warehouse.duckdb"  # a link into releases/current
    total = 0
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        if path.exists():
            total += path.stat().st_size
    return total


def _salesreview(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def _run_night(
    root: Path,
    env: dict[str, str],
    name: str,
    command: list[str],
    progress: Progress,
    expected_exit: int = 0,
) -> Night:
    """One command in a fresh process with its timings file; its line on the console."""
    timings_path = root / f"timings-{name.replace(' ', '-')}.json"
    timings_path.unlink(missing_ok=True)
    progress.start(f"scale {root.name.removeprefix('scale-')}: {name}")
    measured = run_measured(
        [*command, "--timings", str(timings_path)],
        env,
        on_phase=lambda phase, seconds: progress.note(f"{phase} {seconds:.1f} s"),
    )
    timings = _read_json(timings_path)
    phases_wall, phases_cpu = night_phases(timings, measured)
    ok = measured.exit_code == expected_exit
    night = Night(
        name=name,
        wall=measured.wall,
        cpu=measured.cpu,
        peak_rss=measured.peak_rss,
        exit_code=measured.exit_code,
        ok=ok,
        phases_wall=phases_wall,
        phases_cpu=phases_cpu,
        warehouse_bytes=_warehouse_bytes(root),
        dbt_mode=timings.get("dbt_mode"),
        problem="" if ok else "\n".join(measured.output_tail[-12:]),
    )
    progress.end(
        f"CPU {night.cpu:.0f} s, peak {night.peak_rss / 2**20:,.0f} MB, "
        + ("done" if ok else f"exit {measured.exit_code} (expected {expected_exit})")
    )
    return night


# --------------------------------------------------------------------------- the company


def _hold_back_last_day(landing: Path, held: Path) -> str:
    """Move the newest extract date's files and manifests out of the landing folder; returns the date."""
    last = max(p.stem for p in landing.glob("*/_manifests/*.json"))
    for path in landing.rglob(f"{last}.*"):
        target = held / path.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    return last


def _deliver(held: Path, landing: Path) -> None:
    """Deliver the held-back day: its files, then its manifests (as an export does)."""
    for path in sorted(held.rglob("*.*"), key=lambda p: p.suffix == ".json"):
        target = landing / path.relative_to(held)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)


def delivered_rows(landing: Path) -> int:
    """Rows of every file the landing folder's manifests list."""
    return sum(
        int(meta["rows"])
        for manifest in landing.glob("*/_manifests/*.json")
        for meta in _read_json(manifest).get("files", {}).values()
    )


def prepare_company(root: Path, scale: float, days: int, progress: Progress) -> tuple[int, float, bool]:
    """A company of `days` deliveries at `scale` in root/landing, less its last day (held back for the
    night with one new day, see deliver_next_day). Reused when root already holds one generated at this
    scale and days (its warehouse, releases and run history are removed first). Returns rows delivered,
    generation seconds and whether it was reused."""
    info_path = root / COMPANY_FILE
    info = _read_json(info_path)
    if info.get("scale") == scale and info.get("days") == days and (root / "landing").is_dir():
        if (root / "held").exists():  # an earlier run stopped before delivering its held day
            _deliver(root / "held", root / "landing")
        for path in root.iterdir():
            if path.name not in ("landing", COMPANY_FILE):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        progress.line(f"scale {scale:g}: reusing the company generated in {root} ({info['rows']:,} rows)")
        rows, generate_seconds, reused = info["rows"], info["generate_seconds"], True
    else:
        if root.exists():
            shutil.rmtree(root)
        started = time.perf_counter()
        # In a child process, as the nights: the generator's memory (GBs at scale 30) would otherwise stay
        # in this process, and every night's process inherits its size at fork (ru_maxrss).
        progress.start(f"scale {scale:g}: salesreview generate")
        generated = subprocess.run(
            _salesreview(
                "generate", "--scale", f"{scale:g}", "--days", str(days), "--out", str(root / "landing")
            ),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        if generated.returncode != 0:
            progress.end("FAILED")
            raise RuntimeError(f"salesreview generate failed: {generated.stderr[-2000:]}")
        generate_seconds, reused = time.perf_counter() - started, False
        progress.end(f"done in {generate_seconds:.1f} s")
        rows = delivered_rows(root / "landing")
        info_path.write_text(
            json.dumps({"scale": scale, "days": days, "rows": rows, "generate_seconds": generate_seconds}),
            encoding="utf-8",
        )
    _hold_back_last_day(root / "landing", root / "held")
    return rows, generate_seconds, reused


def deliver_next_day(root: Path) -> date:
    """The delivery of the night with one new day: the day held back by prepare_company, into the
    landing folder. Returns its extract date. (The one place to switch to a day generated on top of the
    company, e.g. pipelines.sample.generator.add_next_day.)"""
    day = max(p.stem for p in (root / "held").glob("*/_manifests/*.json"))
    _deliver(root / "held", root / "landing")
    return date.fromisoformat(day)


def last_finished_monday(as_of: date) -> date:
    """The Monday of the last week (Monday to Sunday) that has ended by `as_of`."""
    sunday = as_of - timedelta(days=(as_of.weekday() + 1) % 7)
    return sunday - timedelta(days=6)


# --------------------------------------------------------------------------- the floor


@dataclass(frozen=True)
class FloorModel:
    unique_id: str
    schema: str
    name: str
    kind: str  # 'table' or 'view'
    statement: str


def floor_models(manifest: dict) -> list[FloorModel]:
    """The manifest's models (compiled: `dbt compile`), in an order that builds each after the models
    it reads, as `create or replace table|view <relation> as (<compiled SQL>)`. Incremental models are
    tables (compile with --full-refresh for their full form); ephemeral ones are inlined by dbt."""
    models = {
        unique_id: node
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model" and node.get("config", {}).get("enabled", True)
    }
    graph = {
        unique_id: [d for d in node.get("depends_on", {}).get("nodes", []) if d in models]
        for unique_id, node in sorted(models.items())
    }
    ordered = []
    for unique_id in graphlib.TopologicalSorter(graph).static_order():
        node = models[unique_id]
        materialized = node.get("config", {}).get("materialized", "view")
        if materialized == "ephemeral":
            continue
        kind = "view" if materialized == "view" else "table"
        sql = (node.get("compiled_code") or "").strip().rstrip(";").rstrip()
        if not sql:
            raise ValueError(f"{unique_id} has no compiled SQL: run `dbt compile` first")
        name = node.get("alias") or node["name"]
        relation = node.get("relation_name") or f'"{node["database"]}"."{node["schema"]}"."{name}"'
        ordered.append(
            FloorModel(
                unique_id, node["schema"], name, kind, f"create or replace {kind} {relation} as (\n{sql}\n)"
            )
        )
    return ordered


def execute_floor(warehouse: Path, models: list[FloorModel], compare_with: Path | None = None) -> FloorResult:
    """Drop the models' relations from `warehouse` (a full night starts without them; not timed), then
    run each model's statement on one connection: wall and CPU seconds of this process. With
    `compare_with` (the night's warehouse), the tables' row counts are compared with it."""
    import duckdb

    result = FloorResult(models=len(models))
    con = duckdb.connect(str(warehouse))
    try:
        existing = {
            (schema, name): kind
            for schema, name, kind in con.execute(
                "select schema_name, table_name, 'table' from duckdb_tables() where not internal "
                "and database_name = current_database() union all "
                "select schema_name, view_name, 'view' from duckdb_views() where not internal "
                "and database_name = current_database()"
            ).fetchall()
        }
        for model in models:
            kind = existing.get((model.schema, model.name))
            if kind:
                con.execute(f'drop {kind} "{model.schema}"."{model.name}"')
        for schema in sorted({m.schema for m in models}):
            con.execute(f'create schema if not exists "{schema}"')
        con.execute("checkpoint")
        seconds = []
        started, cpu_started = time.perf_counter(), time.process_time()
        for model in models:
            model_started = time.perf_counter()
            con.execute(model.statement)
            seconds.append((model.unique_id.split(".")[-1], time.perf_counter() - model_started))
        con.execute("checkpoint")  # the tables on disk, as dbt's commits leave them
        result.wall = time.perf_counter() - started
        result.cpu = time.process_time() - cpu_started
        result.slowest = sorted(seconds, key=lambda item: -item[1])[:5]
        if compare_with is not None:
            con.execute(f"attach '{compare_with}' as night (read_only)")
            for model in models:
                if model.kind != "table":
                    continue
                relation = f'"{model.schema}"."{model.name}"'
                mine = con.execute(f"select count(*) from {relation}").fetchone()[0]
                try:
                    theirs = con.execute(f"select count(*) from night.{relation}").fetchone()[0]
                except duckdb.Error:
                    theirs = None
                result.tables_compared += 1
                if mine != theirs:
                    result.tables_differing.append(f"{model.schema}.{model.name}")
    finally:
        con.close()
    return result


_FLOOR_CHILD = """
import dataclasses, json, sys
from pathlib import Path
from pipelines.sample.benchmark import _read_json, execute_floor, floor_models
copy, manifest, night = sys.argv[1:]
result = execute_floor(Path(copy), floor_models(_read_json(manifest)), compare_with=Path(night))
print(json.dumps(dataclasses.asdict(result)))
"""


def execute_floor_in_child(warehouse: Path, manifest: Path, compare_with: Path) -> FloorResult:
    """execute_floor in a child process: DuckDB's memory stays out of the benchmark's own process, whose
    size every later night's process would inherit at fork (and report as its own peak, ru_maxrss)."""
    child = subprocess.run(
        [sys.executable, "-c", _FLOOR_CHILD, str(warehouse), str(manifest), str(compare_with)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        return FloorResult(error="the floor failed: " + child.stderr[-500:])
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    measured["slowest"] = [tuple(item) for item in measured["slowest"]]
    return FloorResult(**measured)


def run_floor(night_warehouse: Path, workdir: Path) -> FloorResult:
    """The floor on a copy of `night_warehouse` (same file name: DuckDB views name the catalog by it):
    `dbt compile --full-refresh` of the models against the copy, then execute_floor. The copy is
    removed afterwards."""
    from pipelines.lib.settings import Settings

    dbt_dir = Settings.from_env().dbt_project_dir
    floor_dir = workdir / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir(parents=True)
    source = night_warehouse.resolve()
    copy = floor_dir / "warehouse.duckdb"
    try:
        shutil.copyfile(source, copy)
        if source.with_name(source.name + ".wal").exists():
            shutil.copyfile(source.with_name(source.name + ".wal"), copy.with_name(copy.name + ".wal"))
        dbt = Path(sys.executable).parent / "dbt"
        compiled = subprocess.run(
            [str(dbt), "compile", "--full-refresh", "--select", "resource_type:model", "--quiet"]
            + ["--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir)]
            + ["--target-path", str(floor_dir / "target"), "--log-path", str(floor_dir / "logs")],
            env={**os.environ, "SRW_WAREHOUSE": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
            capture_output=True,
            text=True,
        )
        if compiled.returncode != 0:
            return FloorResult(error="dbt compile failed: " + (compiled.stdout + compiled.stderr)[-500:])
        return execute_floor_in_child(copy, floor_dir / "target" / "manifest.json", source)
    except Exception as error:  # noqa: BLE001 - the nights' figures stand without it
        return FloorResult(error=f"{type(error).__name__}: {error}")
    finally:
        shutil.rmtree(floor_dir, ignore_errors=True)


# --------------------------------------------------------------------------- one scale


def run_benchmark(
    scale: float,
    days: int,
    workdir: Path | None = None,
    progress: Progress | None = None,
    rebuilds: int = 1,
) -> ScaleResult:
    """Everything the module docstring says, at one scale. With `workdir`, the company and the
    warehouses stay in workdir/scale-<scale> (and a company generated there before is reused)."""
    progress = progress or Progress(stream=io.StringIO())  # nobody watching
    with tempfile.TemporaryDirectory(prefix="srw-bench-") as tmp:
        root = (workdir or Path(tmp)) / f"scale-{scale:g}"
        root.mkdir(parents=True, exist_ok=True)
        rows, generate_seconds, reused = prepare_company(root, scale, days, progress)
        result = ScaleResult(scale, days, rows, generate_seconds, reused)
        env = company_env(root)

        # as `make build` does before a night: dbt's parse prepared for this warehouse's path (the
        # nightly's dbt reuses it only when the profile, path included, is the same)
        progress.start(f"scale {scale:g}: salesreview prepare (dbt parse)")
        prepared = subprocess.run(
            _salesreview("prepare"), cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )
        progress.end("done" if prepared.returncode == 0 else f"exit {prepared.returncode}")

        def night(name: str, command: list[str], expected_exit: int = 0) -> Night:
            done = _run_night(root, env, name, command, progress, expected_exit)
            result.nights.append(done)
            return done

        if not night(FULL, _salesreview("build")).ok:
            result.error = "the full night failed"
            return result
        progress.start(f"scale {scale:g}: floor (dbt compile, then the models on one DuckDB connection)")
        result.floor = run_floor(root / "warehouse.duckdb", root)
        progress.end(f"{result.floor.wall:.1f} s of models, done" if not result.floor.error else "FAILED")
        day = deliver_next_day(root)
        night(NEW_DAY, _salesreview("build"))
        night(NOTHING_NEW, _salesreview("build"), expected_exit=1)  # a freshness error, nothing rebuilt
        monday = last_finished_monday(day).isoformat()
        night(WEEK_PACKS, _salesreview("backfill-packs", "--weeks", monday, monday))
        for number in range(1, rebuilds + 1):  # the same data again: does the file keep growing?
            night(REBUILD if number == 1 else f"{REBUILD} {number}", _salesreview("build", "--rebuild"))
        return result


# --------------------------------------------------------------------------- the machine


def describe_machine(path: Path | None = None) -> dict[str, str]:
    """What the figures were measured on: CPU, cores, memory, OS, free disk where the data went, load,
    and the versions of what does the work."""
    from importlib.metadata import PackageNotFoundError, version

    import psutil

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
        )
        os_name = f"{release.get('PRETTY_NAME', '').strip(chr(34))} (kernel {platform.release()})"
    except OSError:
        pass
    where = path if path and path.exists() else Path(tempfile.gettempdir())
    machine = {
        "CPU": model,
        "cores": f"{os.cpu_count()} logical, {psutil.cpu_count(logical=False) or '?'} physical",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": os_name,
        "disk free": f"{shutil.disk_usage(where).free / 2**30:.0f} GiB (at {where})",
        "load average (1/5/15 min) at the start": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "Python": platform.python_version(),
    }
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt"):
        try:
            machine[package] = version(package)
        except PackageNotFoundError:
            machine[package] = "not installed"
    return machine


# --------------------------------------------------------------------------- the goals


@dataclass
class Goal:
    text: str
    measured: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "not measured" if self.passed is None else ("PASS" if self.passed else "MISS")


def _share(part: Night | None, whole: Night | None) -> float | None:
    if part is None or whole is None or not part.ok or not whole.ok or whole.wall <= 0:
        return None
    return part.wall / whole.wall


def _all_scales(results: list[ScaleResult], value, limit: float, fmt: str) -> tuple[str, bool | None]:
    """A goal that holds at every scale: the value per scale, and whether all are within the limit."""
    measured = [(r.scale, value(r)) for r in results]
    known = [(scale, v) for scale, v in measured if v is not None]
    if not known:
        return "-", None
    text = "; ".join(f"scale {scale:g}: {format(v, fmt)}" for scale, v in known)
    return text, all(v <= limit for _, v in known) and len(known) == len(measured)


def evaluate_goals(results: list[ScaleResult], reference: float = 10.0, large: float = 30.0) -> list[Goal]:
    """The issue's goals, each with what this run measured and PASS / MISS (or not measured)."""
    by_scale = {r.scale: r for r in results}
    ref, big = by_scale.get(reference), by_scale.get(large)
    ref_full = ref.night(FULL) if ref else None
    ref_full = ref_full if ref_full and ref_full.ok else None
    goals = []

    text = (
        f"Scale {reference:g} full night (ingest → marts → checks, packs excluded) "
        f"≤ {FULL_NIGHT_MAX_SECONDS} s"
    )
    goals.append(
        Goal(
            text,
            f"{_s(ref_full.wall_without_packs)} s",
            ref_full.wall_without_packs <= FULL_NIGHT_MAX_SECONDS,
        )
        if ref_full
        else Goal(text, "-", None)
    )
    text = f"Scale {reference:g} full night (packs excluded) ≤ {FULL_NIGHT_MAX_FLOOR_RATIO:g} × the floor"
    floor = ref.floor if ref and ref.floor and not ref.floor.error and ref.floor.wall > 0 else None
    if ref_full and floor:
        ratio = ref_full.wall_without_packs / floor.wall
        goals.append(
            Goal(
                text,
                f"{ratio:.1f} × ({_s(ref_full.wall_without_packs)} s / {_s(floor.wall)} s)",
                ratio <= FULL_NIGHT_MAX_FLOOR_RATIO,
            )
        )
    else:
        goals.append(Goal(text, "-", None))
    for name, limit in ((NEW_DAY, NEW_DAY_MAX_SHARE), (NOTHING_NEW, NOTHING_NEW_MAX_SHARE)):
        measured, passed = _all_scales(
            results, lambda r, name=name: _share(r.night(name), r.night(FULL)), limit, ".0%"
        )
        goals.append(
            Goal(f"A night with {name} ≤ {limit:.0%} of a full night (every scale)", measured, passed)
        )
    text = f"Peak memory of the process tree ≤ {PEAK_MEMORY_MAX_BYTES / 2**30:g} GiB at scale {reference:g}"
    goals.append(
        Goal(text, f"{ref.peak_rss / 2**30:.2f} GiB", ref.peak_rss <= PEAK_MEMORY_MAX_BYTES)
        if ref and ref.nights
        else Goal(text, "-", None)
    )
    text = f"Scale {large:g} completes (every night does what it should)"
    goals.append(
        Goal(text, "yes" if big.ok else (big.error or "a night failed"), big.ok)
        if big
        else Goal(text, "-", None)
    )
    text = f"Scale {large:g} full night (packs excluded) ≤ {LARGE_MAX_RATIO:g} × scale {reference:g}'s"
    big_full = big.night(FULL) if big else None
    if ref_full and big_full and big_full.ok:
        ratio = big_full.wall_without_packs / ref_full.wall_without_packs
        goals.append(
            Goal(
                text,
                f"{ratio:.1f} × ({_s(big_full.wall_without_packs)} s / {_s(ref_full.wall_without_packs)} s)",
                ratio <= LARGE_MAX_RATIO,
            )
        )
    else:
        goals.append(Goal(text, "-", None))
    text = (
        f"All packs of a week (every region, both languages) ≤ {WEEK_PACKS_MAX_SECONDS} s "
        f"at scale {reference:g}"
    )
    packs = ref.night(WEEK_PACKS) if ref else None
    if packs and packs.ok:
        render = packs.phases_wall.get("packs", 0.0)
        goals.append(
            Goal(
                text,
                f"{_s(packs.wall)} s (the command; rendering {_s(render)} s)",
                packs.wall <= WEEK_PACKS_MAX_SECONDS,
            )
        )
    else:
        goals.append(Goal(text, "-", None))

    # A rebuild replaces every dbt table: the file keeps the freed blocks and reuses them the next night.
    # Growing on *every* rebuild is the fault; so the last of several rebuilds in a row against the first.
    series = [
        (r.scale, [n.warehouse_bytes for n in r.nights if n.name.startswith(REBUILD) and n.ok])
        for r in results
    ]
    series = [(scale, sizes) for scale, sizes in series if len(sizes) >= 2 and sizes[0]]
    text = (
        "The warehouse file does not grow on every rebuild "
        f"(last of the rebuilds in a row ≤ first {REBUILD_MAX_GROWTH:+.0%})"
    )
    if series:
        measured = "; ".join(
            f"scale {scale:g}: " + " → ".join(_mb(b) for b in sizes) + " MB" for scale, sizes in series
        )
        passed = all(sizes[-1] / sizes[0] - 1 <= REBUILD_MAX_GROWTH for _, sizes in series)
        goals.append(Goal(text, measured, passed))
    else:
        goals.append(Goal(text, "-", None))
    return goals


# --------------------------------------------------------------------------- console and BENCHMARKS.md


def _s(seconds: float) -> str:
    """Seconds as a goal line says them: whole above 10, else with the digits that tell."""
    return f"{seconds:.0f}" if seconds >= 10 else (f"{seconds:.1f}" if seconds >= 0.1 else f"{seconds:.2f}")


def _phase_names(results: list[ScaleResult]) -> list[str]:
    seen = {name for r in results for n in r.nights for name in n.phases_wall}
    return [p for p in PHASES if p in seen] + sorted(seen - set(PHASES))


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def format_benchmark(results: list[ScaleResult], goals: list[Goal] | None = None) -> str:
    """The console's table: a line per scale and night (wall seconds per phase), the floor, the goals."""
    phases = _phase_names(results)
    short = {p: p.replace("quality checks", "checks").replace("dbt start-up", "dbt start") for p in phases}
    widths = {p: max(8, len(short[p]) + 2) for p in phases}
    header = f"{'scale':>6}  {'night':<16}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'wh MB':>8}"
    header += "".join(f"{short[p]:>{widths[p]}}" for p in phases) + "  ok"
    lines = [header, "-" * len(header)]
    for r in results:
        for n in r.nights:
            line = f"{r.scale:>6g}  {n.name:<16}{n.wall:>8.1f}{n.cpu:>8.1f}{_mb(n.peak_rss):>9}"
            line += f"{_mb(n.warehouse_bytes):>8}"
            line += "".join(
                f"{n.phases_wall[p]:>{widths[p]}.1f}" if p in n.phases_wall else f"{'-':>{widths[p]}}"
                for p in phases
            )
            lines.append(line + ("  yes" if n.ok else f"  NO (exit {n.exit_code})"))
        if r.floor:
            f = r.floor
            line = f"{r.scale:>6g}  {'floor':<16}"
            line += f"{f.wall:>8.1f}{f.cpu:>8.1f}" if not f.error else f"  {f.error[:80]}"
            full = r.night(FULL)
            if not f.error and full and f.wall > 0:
                line += f"   full night (packs excluded) = {full.wall_without_packs / f.wall:.1f} × the floor"
            lines.append(line)
        if r.error:
            lines.append(f"{r.scale:>6g}  {r.error}")
    lines.append("")
    for r in results:
        generated = "reused, generated" if r.reused else "generated"
        lines.append(
            f"scale {r.scale:g}: {r.days} days, {r.rows:,} rows delivered, {generated} in "
            f"{r.generate_seconds:.1f} s; peak memory of a night's process tree {_mb(r.peak_rss)} MB"
        )
    if goals:
        lines.append("")
        lines += [f"{g.verdict:<13}{g.text}: {g.measured}" for g in goals]
    return "\n".join(lines)


def _cell(wall: float | None, cpu: float | None) -> str:
    if wall is None:
        return "–"
    return f"{wall:,.1f} / {cpu:,.1f}" if cpu is not None else f"{wall:,.1f}"


def _md_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def format_markdown(
    results: list[ScaleResult],
    goals: list[Goal],
    machine: dict[str, str],
    command: str,
    started: datetime,
    seconds: float,
    chart: str | None = None,
) -> str:
    """BENCHMARKS.md: the goals first (PASS / MISS), the chart, the machine, then per scale the nights
    by phase (wall / CPU seconds), memory, warehouse size, the floor and its ratios."""
    passed = sum(1 for g in goals if g.passed)
    missed = sum(1 for g in goals if g.passed is False)
    lines = [
        "# Benchmarks",
        "",
        f"`{command}` on {started:%Y-%m-%d %H:%M} UTC ({seconds / 60:.0f} minutes), "
        f"on the machine described below. Written by the command; run it again to refresh.",
        "",
        "## Goals",
        "",
        f"{passed} of {len(goals)} goals pass, {missed} miss"
        + (
            f", {len(goals) - passed - missed} not measured in this run."
            if passed + missed < len(goals)
            else "."
        ),
        "",
    ]
    lines += _md_table(
        ["", "goal", "measured"],
        ([f"**{g.verdict}**" if g.passed is not None else g.verdict, g.text, g.measured] for g in goals),
    )
    if chart:
        lines += ["", f"![Wall seconds against scale]({chart})"]
    lines += ["", "## Machine", ""]
    lines += _md_table(["", ""], ([k, v] for k, v in machine.items()))
    phases = _phase_names(results)
    for r in results:
        generated = (
            f"generated by an earlier run in {r.generate_seconds:.1f} s, reused"
            if r.reused
            else f"generated in {r.generate_seconds:.1f} s"
        )
        lines += [
            "",
            f"## Scale {r.scale:g}",
            "",
            f"{r.days} days of daily deliveries, {r.rows:,} rows ({generated}). "
            f"Peak memory of a night's process tree: {r.peak_rss / 2**20:,.0f} MB.",
            "",
            "Seconds, wall / CPU:",
            "",
        ]
        header = [
            "night",
            "total",
            "packs excluded ÷ floor",
            *phases,
            "peak memory MB",
            "warehouse after MB",
            "exit",
        ]
        floor_wall = r.floor.wall if r.floor and not r.floor.error and r.floor.wall > 0 else None
        rows = []
        for n in r.nights:
            rows.append(
                [
                    n.name,
                    f"**{_cell(n.wall, n.cpu)}**",
                    f"{n.wall_without_packs / floor_wall:.1f} ×"
                    if floor_wall and n.name != WEEK_PACKS
                    else "–",
                    *(
                        _cell(n.phases_wall.get(p), n.phases_cpu.get(p)) if p in n.phases_wall else "–"
                        for p in phases
                    ),
                    _mb(n.peak_rss),
                    _mb(n.warehouse_bytes),
                    f"{n.exit_code}" + ("" if n.ok else " (unexpected)"),
                ]
            )
        lines += _md_table(header, rows)
        full = r.night(FULL)
        if full and full.dbt_mode:
            lines += ["", f"dbt in the full night: {full.dbt_mode}."]
        f = r.floor
        if f and not f.error:
            dbt_models = sum(
                (full.phases_wall if full else {}).get(p, 0.0) for p in ("dbt models", "quality checks")
            )
            lines += [
                "",
                f"**Floor**: the {f.models} compiled models as plain DuckDB statements on one connection: "
                f"{f.wall:,.1f} s wall, {f.cpu:,.1f} s CPU. "
                + (
                    f"Full night (packs excluded) / floor = **{full.wall_without_packs / f.wall:.1f} ×**; "
                    f"dbt models and quality checks / floor = **{dbt_models / f.wall:.1f} ×**. "
                    if full and f.wall > 0
                    else ""
                )
                + (
                    f"Row counts equal to the night's in all {f.tables_compared} tables."
                    if not f.tables_differing
                    else f"Row counts differ from the night's in {len(f.tables_differing)} of "
                    f"{f.tables_compared} tables: {', '.join(f.tables_differing[:5])}."
                ),
                "Slowest models at the floor: "
                + ", ".join(f"{name} {_s(seconds)} s" for name, seconds in f.slowest)
                + ".",
            ]
        elif f:
            lines += ["", f"Floor not measured: {f.error}"]
        if r.error:
            lines += ["", f"**{r.error}**"]
        for n in r.nights:
            if n.problem:
                lines += ["", f"{n.name} ended with exit {n.exit_code}:", "", "```", n.problem, "```"]
    lines += [
        "",
        "## How it is measured",
        "",
        "- Every night is a fresh `salesreview` process with the project's Dagster instance settings "
        "(dagster.yaml), as a real night, after `salesreview prepare` with the same settings (dbt's parse, "
        "which the nightly's dbt reuses). Full: every day but the last into a new warehouse; one new day: "
        "the last day delivered; nothing new: stops at the freshness check (exit 1, by design); packs of a "
        "week: `salesreview backfill-packs` of the last finished week (every region, both languages; the "
        "night's own packs phase renders the latest week and quarter and the site index); rebuild: "
        "`salesreview build --rebuild`.",
        "- Wall per phase: the build's step durations. CPU: the whole process tree (the build and its "
        "children, dbt among them) sampled every 0.2 s, live processes' CPU plus their reaped children's, "
        "read at each phase line the build prints. Peak memory: the largest sum of the tree's resident "
        "memory (RSS, so shared pages count once per process).",
        "- dbt is split by dbt's seconds per node (run_results.json) over the time it executed nodes: "
        "models (and seeds), quality checks (the models of the quality folder: detectors, quarantine) and "
        "tests; dbt start-up is the rest of the dbt step (parse, connection, Dagster's handling of its "
        "events). Ingest includes the contract checks at ingest. Orchestration is the rest of the process "
        "(Dagster start-up, between steps, the summary).",
        "- The floor: after the full night, on a copy of its warehouse with the models' relations dropped, "
        "every model of `dbt compile --full-refresh` in dependency order as `create or replace table|view "
        "... as (compiled SQL)` on one DuckDB connection in the benchmark's process (seeds and raw tables "
        "as the night left them).",
        "- Warehouse: the published warehouse file after each step (it is copied into every release).",
    ]
    return "\n".join(lines) + "\n"


def write_chart(results: list[ScaleResult], path: Path) -> Path:
    """Wall seconds of each night, the packs of a week and the floor against scale, as an SVG."""
    import altair as alt
    import pandas as pd
    import vl_convert

    points = []
    for r in results:
        for n in r.nights:
            if n.ok and not (n.name.startswith(REBUILD) and n.name != REBUILD):  # one line per kind of night
                label = "full night (packs excluded)" if n.name == FULL else n.name
                seconds = n.wall_without_packs if n.name == FULL else n.wall
                points.append({"scale": r.scale, "series": label, "seconds": round(seconds, 1)})
        if r.floor and not r.floor.error:
            points.append(
                {"scale": r.scale, "series": "floor (models as plain SQL)", "seconds": round(r.floor.wall, 1)}
            )
    data = pd.DataFrame(points, columns=["scale", "series", "seconds"])
    scales = sorted({r.scale for r in results})
    x_scale = alt.Scale(type="log") if len(scales) > 1 and scales[0] > 0 else alt.Scale()
    chart = (
        alt.Chart(data, title="Wall seconds against scale")
        .mark_line(point=True)
        .encode(
            x=alt.X("scale:Q", scale=x_scale, axis=alt.Axis(values=scales), title="scale"),
            y=alt.Y("seconds:Q", title="wall seconds"),
            color=alt.Color("series:N", title=None),
            tooltip=["series", "scale", "seconds"],
        )
        .properties(width=560, height=320)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vl_convert.vegalite_to_svg(chart.to_json()), encoding="utf-8")
    return path


def write_report(
    results: list[ScaleResult],
    goals: list[Goal],
    machine: dict[str, str],
    command: str,
    started: datetime,
    seconds: float,
    output: Path,
) -> list[Path]:
    """BENCHMARKS.md at `output`, its chart in benchmarks/ next to it; returns the files written."""
    chart = output.parent / "benchmarks" / "time-by-scale.svg"
    written = []
    try:
        written.append(write_chart(results, chart))
        link = os.path.relpath(chart, output.parent)
    except Exception as error:  # noqa: BLE001 - the figures matter more than their picture
        print(f"chart not written: {error}", file=sys.stderr)
        link = None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        format_markdown(results, goals, machine, command, started, seconds, link), encoding="utf-8"
    )
    return [output, *written]


# --------------------------------------------------------------------------- the ingest alone

INGEST_BENCH_SYSTEM, INGEST_BENCH_ENTITY = "crm", "opportunities"
INGEST_BENCH_DATE = "2024-03-01"


@dataclass
class IngestBenchmarkResult:
    rows: int
    file_mb: float
    seconds: float  # the child process: start-up, ingest_system, exit
    peak_rss_mb: float  # the child process's peak resident set size
    warehouse_mb: float = 0.0
    rows_loaded: int = 0
    success: bool = False
    error: str = ""


def write_ingest_delivery(landing_dir: Path, rows: int) -> Path:
    """A contract-valid delivery of `rows` opportunities (header-only files for the other CRM entities)
    and its manifest; returns the opportunities file."""
    import csv

    from pipelines.lib.landing import write_manifest
    from quality.contract import load_contract

    contract = load_contract()
    stages = contract.entity(INGEST_BENCH_ENTITY).column("stage").resolved_allowed_values()
    reasons = ("", "价格", "竞争对手", "预算不足", "需求变化", "无决策")
    for entity in contract.entities_of(INGEST_BENCH_SYSTEM):
        path = landing_dir / contract.file_path(INGEST_BENCH_SYSTEM, entity.name, INGEST_BENCH_DATE)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(entity.column_names)
            if entity.name != INGEST_BENCH_ENTITY:
                continue
            for start in range(0, rows, 50_000):
                writer.writerows(
                    (
                        f"OPP{i:09d}",
                        f"商机 {i} 华东区 年度框架协议",
                        f"L{i:09d}" if i % 3 else "",
                        f"C{i % 50_000:06d}",
                        f"R{i % 400:04d}",
                        f"P{i % 120:04d}",
                        stages[i % len(stages)],
                        f"{(i * 7919) % 5_000_000}.{i % 100:02d}",
                        str(i % 101),
                        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                        f"2024-02-{1 + i % 28:02d}" if i % 4 == 0 else "",
                        reasons[i % len(reasons)] if i % 4 == 0 else "",
                        "竞品A" if i % 5 == 0 else "",
                        "安排技术交流, 准备报价" if i % 2 else "",
                        f"2023-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
                        f"2024-02-{1 + i % 28:02d} 08:{i % 60:02d}:{i % 60:02d}",
                    )
                    for i in range(start, min(start + 50_000, rows))
                )
    write_manifest(landing_dir, contract, INGEST_BENCH_SYSTEM, INGEST_BENCH_DATE)
    return landing_dir / contract.file_path(INGEST_BENCH_SYSTEM, INGEST_BENCH_ENTITY, INGEST_BENCH_DATE)


_INGEST_CHILD = """
import json, sys
from datetime import date
from pathlib import Path
import duckdb
from pipelines.lib.ingest import ingest_system
from quality.contract import load_contract
root = Path(sys.argv[1])
con = duckdb.connect(str(root / "warehouse.duckdb"))
report = ingest_system(con, load_contract(), sys.argv[2], root / "landing", root / "archive",
                       today=date(2024, 3, 10))
con.close()
print(json.dumps({"rows_loaded": sum(e.rows_loaded for e in report.entities.values())}))
"""


def run_ingest_benchmark(rows: int, workdir: Path | None = None) -> IngestBenchmarkResult:
    """Ingest one delivery of `rows` opportunities into a fresh warehouse in a child process: wall time
    and the child's peak RSS (ru_maxrss of that child, from wait4)."""
    with tempfile.TemporaryDirectory(prefix="srw-ingest-bench-", dir=workdir) as tmp:
        root = Path(tmp)
        data = write_ingest_delivery(root / "landing", rows)
        started = time.perf_counter()
        with open(root / "out.txt", "w+") as out_file, open(root / "err.txt", "w+") as err_file:
            child = subprocess.Popen(
                [sys.executable, "-c", _INGEST_CHILD, str(root), INGEST_BENCH_SYSTEM],
                cwd=REPO_ROOT,
                stdout=out_file,
                stderr=err_file,
            )
            # wait4: this child's own rusage (RUSAGE_CHILDREN would be the largest of all children so far).
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - started
            out_file.seek(0), err_file.seek(0)
            stdout, stderr = out_file.read(), err_file.read()
        peak_kb = usage.ru_maxrss  # KiB on Linux
        warehouse = root / "warehouse.duckdb"
        out = json.loads(stdout.strip().splitlines()[-1]) if child.returncode == 0 else {}
        return IngestBenchmarkResult(
            rows=rows,
            file_mb=data.stat().st_size / 2**20,
            seconds=seconds,
            peak_rss_mb=peak_kb / 1024,
            warehouse_mb=warehouse.stat().st_size / 2**20 if warehouse.exists() else 0.0,
            rows_loaded=out.get("rows_loaded", 0),
            success=child.returncode == 0 and out.get("rows_loaded") == rows,
            error=(stderr.strip().splitlines() or [""])[-1] if child.returncode else "",
        )


def format_ingest_benchmark(results: list[IngestBenchmarkResult]) -> str:
    header = f"{'rows':>11}{'file MB':>9}{'wall s':>8}{'peak RSS MB':>13}{'warehouse MB':>14}  ok"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.rows:>11,}{r.file_mb:>9.0f}{r.seconds:>8.1f}{r.peak_rss_mb:>13.0f}{r.warehouse_mb:>14.0f}"
            f"  {'yes' if r.success else 'NO ' + r.error}"
        )
    return "\n".join(lines)
