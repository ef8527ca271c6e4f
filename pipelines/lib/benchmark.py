"""The benchmark: generate a company at a scale, then run three real nights on it in fresh processes with
the project's Dagster instance settings: the full build of every day but the last, the next night (the
last day delivered: an incremental night) and a night when nothing new came. Reports seconds per night and
per phase, rows and warehouse size. Speed is measured here, not in timed tests."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.generator import generate
from pipelines.lib.progress import Progress
from pipelines.lib.settings import REPO_ROOT, dagster_env

# a phase line of the build's progress (pipelines/lib/progress.py)
BUILD_PHASE_LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<phase>\w+)\b.* done in (?P<seconds>[\d.]+) s$")


@dataclass
class BenchmarkResult:
    scale: float
    days: int
    rows: int
    generate_seconds: float
    build_seconds: float  # the full night: every day but the last, into a new warehouse
    phases: dict[str, float] = field(default_factory=dict)
    warehouse_mb: float = 0.0
    success: bool = False
    incremental_seconds: float | None = None  # the next night: the last day delivered
    incremental_phases: dict[str, float] = field(default_factory=dict)
    nothing_new_seconds: float | None = None  # the night after: nothing delivered (ends with freshness)
    nights_ok: bool = False

    @property
    def total_seconds(self) -> float:
        return self.generate_seconds + self.build_seconds


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


def _night(root: Path, env: dict[str, str], name: str, progress: Progress) -> tuple[float, int, dict]:
    """One `salesreview build` in a fresh process: wall seconds, exit code, its phases."""
    timings = root / f"timings-{name}.json"
    started = time.perf_counter()
    progress.start(f"scale {root.name.removeprefix('scale-')}: {name} night")
    with subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "build", "--timings", str(timings)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        for line in child.stdout:  # the build's phase lines: '02:00:14 ingest … done in 12.3 s'
            phase = BUILD_PHASE_LINE.match(line)
            if phase:
                progress.note(f"{phase['phase']} {phase['seconds']} s")
    seconds = time.perf_counter() - started
    progress.end(f"{seconds:.1f} s" + ("" if child.returncode == 0 else f" (exit {child.returncode})"))
    measured = json.loads(timings.read_text(encoding="utf-8")) if timings.exists() else {}
    return seconds, child.returncode, measured


def run_benchmark(
    scale: float, days: int, workdir: Path | None = None, progress: Progress | None = None
) -> BenchmarkResult:
    """Three nights on a company of `days` days at `scale` (see the module docstring), each in a fresh
    process with the project's dagster.yaml (run history under the benchmark's folder). `progress` gets
    a line for the generation and one per night, with each phase's seconds as the build says them."""
    from pipelines.cli import generate_progress

    progress = progress or Progress(stream=io.StringIO())  # nobody watching
    with tempfile.TemporaryDirectory(prefix="srw-bench-") as tmp:
        root = (workdir or Path(tmp)) / f"scale-{scale:g}"
        started = time.perf_counter()
        say = generate_progress(progress)
        rows = sum(
            generate(
                root / "landing",
                scale=scale,
                days=days,
                progress=lambda stage, item=None: say(f"scale {scale:g}: {stage}", item),
            ).values()
        )
        progress.end()
        generate_seconds = time.perf_counter() - started
        _hold_back_last_day(root / "landing", root / "held")
        env = dict(os.environ)
        env.update(
            SRW_LANDING_DIR=str(root / "landing"),
            SRW_ARCHIVE_DIR=str(root / "archive"),
            SRW_WAREHOUSE=str(root / "warehouse.duckdb"),
            SRW_SITE_DIR=str(root / "site"),
            **dagster_env(root / "dagster"),
        )
        build_seconds, code, measured = _night(root, env, "full", progress)
        warehouse = root / "warehouse.duckdb"
        bench = BenchmarkResult(
            scale=scale,
            days=days,
            rows=rows,
            generate_seconds=generate_seconds,
            build_seconds=build_seconds,
            phases=measured.get("phases", {}),
            warehouse_mb=warehouse.stat().st_size / 2**20 if warehouse.exists() else 0.0,
            success=code == 0 and measured.get("success", False),
        )
        if not bench.success:
            return bench
        _deliver(root / "held", root / "landing")
        bench.incremental_seconds, code, measured = _night(root, env, "one-new-day", progress)
        bench.incremental_phases = measured.get("phases", {})
        incremental_ok = code == 0
        bench.nothing_new_seconds, code, _ = _night(root, env, "nothing-new", progress)
        bench.nights_ok = incremental_ok and code == 1  # nothing new is a freshness error, not a rebuild
        return bench


def format_benchmark(results: list[BenchmarkResult]) -> str:
    phase_names = sorted(
        {name for r in results for name in r.phases}, key=lambda n: (n != "ingest", n != "dbt", n)
    )
    header = f"{'scale':>6}{'days':>6}{'rows':>11}{'generate s':>12}{'full night s':>14}"
    widths = {name: max(10, len(name) + 3) for name in phase_names}
    header += "".join(f"{name + ' s':>{widths[name]}}" for name in phase_names)
    header += f"{'one new day s':>15}{'% of full':>11}{'nothing new s':>15}{'warehouse MB':>14}  ok"
    lines = [header, "-" * len(header)]
    for r in results:
        line = f"{r.scale:>6g}{r.days:>6}{r.rows:>11,}{r.generate_seconds:>12.1f}{r.build_seconds:>14.1f}"
        line += "".join(f"{r.phases.get(name, 0.0):>{widths[name]}.1f}" for name in phase_names)
        if r.incremental_seconds is not None:
            share = r.incremental_seconds / r.build_seconds
            line += f"{r.incremental_seconds:>15.1f}{share:>11.0%}{r.nothing_new_seconds or 0:>15.1f}"
        else:
            line += f"{'-':>15}{'-':>11}{'-':>15}"
        ok = r.success and r.nights_ok
        lines.append(line + f"{r.warehouse_mb:>14.1f}  {'yes' if ok else 'NO'}")
    return "\n".join(lines)


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
