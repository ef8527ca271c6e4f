"""The benchmark: generate a company at a scale, run the real nightly build on it in a fresh process, and
report seconds per phase, rows and warehouse size. Speed is measured here, not in timed tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.generator import generate
from pipelines.lib.settings import REPO_ROOT


@dataclass
class BenchmarkResult:
    scale: float
    days: int
    rows: int
    generate_seconds: float
    build_seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    warehouse_mb: float = 0.0
    success: bool = False

    @property
    def total_seconds(self) -> float:
        return self.generate_seconds + self.build_seconds


def run_benchmark(scale: float, days: int, workdir: Path | None = None) -> BenchmarkResult:
    with tempfile.TemporaryDirectory(prefix="srw-bench-") as tmp:
        root = (workdir or Path(tmp)) / f"scale-{scale:g}"
        started = time.perf_counter()
        rows = sum(generate(root / "landing", scale=scale, days=days).values())
        generate_seconds = time.perf_counter() - started
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        env.update(
            SRW_LANDING_DIR=str(root / "landing"),
            SRW_ARCHIVE_DIR=str(root / "archive"),
            SRW_WAREHOUSE=str(root / "warehouse.duckdb"),
            SRW_SITE_DIR=str(root / "site"),
        )
        timings = root / "timings.json"
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "build", "--timings", str(timings)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        build_seconds = time.perf_counter() - started
        measured = json.loads(timings.read_text(encoding="utf-8")) if timings.exists() else {}
        warehouse = root / "warehouse.duckdb"
        return BenchmarkResult(
            scale=scale,
            days=days,
            rows=rows,
            generate_seconds=generate_seconds,
            build_seconds=build_seconds,
            phases=measured.get("phases", {}),
            warehouse_mb=warehouse.stat().st_size / 2**20 if warehouse.exists() else 0.0,
            success=result.returncode == 0 and measured.get("success", False),
        )


def format_benchmark(results: list[BenchmarkResult]) -> str:
    phase_names = sorted(
        {name for r in results for name in r.phases}, key=lambda n: (n != "ingest", n != "dbt", n)
    )
    header = f"{'scale':>6}{'days':>6}{'rows':>11}{'generate s':>12}{'build s':>9}"
    widths = {name: max(10, len(name) + 3) for name in phase_names}
    header += "".join(f"{name + ' s':>{widths[name]}}" for name in phase_names) + f"{'warehouse MB':>14}  ok"
    lines = [header, "-" * len(header)]
    for r in results:
        line = f"{r.scale:>6g}{r.days:>6}{r.rows:>11,}{r.generate_seconds:>12.1f}{r.build_seconds:>9.1f}"
        line += "".join(f"{r.phases.get(name, 0.0):>{widths[name]}.1f}" for name in phase_names)
        lines.append(line + f"{r.warehouse_mb:>14.1f}  {'yes' if r.success else 'NO'}")
    return "\n".join(lines)
