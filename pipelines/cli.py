"""`salesreview`: the command line for operators and developers.

salesreview generate --scale 1 --seed 42 --out data/landing   sample company extracts
salesreview prepare                                           parse dbt (manifest for Dagster)
salesreview build [--as-of YYYY-MM-DD]                        nightly build, through Dagster
salesreview run                                               sample data if the landing is empty,
                                                              prepare, build; prints where things are
salesreview contract-docs                                     regenerate the contract's docs + dbt sources
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

from pipelines.lib.settings import REPO_ROOT, Settings

DEFAULT_END_DATE = date(2026, 11, 22)


def _cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.generator import generate

    started = time.perf_counter()
    rows = generate(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        end_date=args.end_date,
        days=args.days,
        labels_path=Path(args.labels) if args.labels else None,
    )
    print(f"generated {sum(rows.values()):,} rows in {time.perf_counter() - started:.1f} s into {args.out}")
    if args.labels:
        print(f"labelled defects written to {args.labels}")
    for entity, n in rows.items():
        print(f"  {entity:<28}{n:>10,}")
    return 0


def prepare_dbt() -> None:
    """Write dbt's manifest, which the Dagster definitions read (never parsed at import)."""
    from pipelines.defs.dbt.project import prepare_manifest

    prepare_manifest()


def _cmd_prepare(_: argparse.Namespace) -> int:
    prepare_dbt()
    print("dbt manifest prepared")
    return 0


def run_nightly_build(as_of_date: date | None = None) -> tuple[bool, dict[str, float]]:
    """Execute the nightly_build job in this process, recorded in the Dagster instance
    (DAGSTER_HOME) when one is configured, so `dagster dev` shows the run.
    Returns whether it succeeded and the seconds each phase took (ingest, dbt, reports, ...)."""
    import dagster as dg

    from pipelines.definitions import defs

    # INFO on the console: step starts, failures and dbt's own summary, not Dagster's debug events.
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    if as_of_date:
        run_config["ops"] = {"sales_review_dbt_assets": {"config": {"as_of_date": as_of_date.isoformat()}}}
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        job = defs.resolve_job_def("nightly_build")
        result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)
    return result.success, phase_seconds(result.all_events)


def phase_seconds(events) -> dict[str, float]:
    """Seconds per phase from the run's step-success events: raw_* steps are ingestion, the dbt step is
    dbt, reports__* steps are the packs, other steps keep their asset's name."""
    phases: dict[str, float] = {}
    for event in events:
        if event.event_type_value != "STEP_SUCCESS":
            continue
        key = event.step_key
        if key.startswith("raw_"):
            phase = "ingest"
        elif "dbt" in key:
            phase = "dbt"
        elif key.startswith("reports"):
            phase = "packs"
        else:  # e.g. quality_reports__verification_sample -> verification_sample
            phase = key.split("__")[-1]
        phases[phase] = phases.get(phase, 0.0) + event.event_specific_data.duration_ms / 1000
    return phases


def _cmd_build(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    started = time.perf_counter()
    ok, phases = run_nightly_build(args.as_of)
    _print_build_summary(ok, time.perf_counter() - started, phases)
    if args.timings:
        Path(args.timings).write_text(
            json.dumps({"success": ok, "phases": phases}, indent=1), encoding="utf-8"
        )
    _print_locations(settings)
    return 0 if ok else 1


def _print_build_summary(ok: bool, seconds: float, phases: dict[str, float]) -> None:
    detail = ", ".join(f"{name} {secs:.1f} s" for name, secs in phases.items())
    print(f"nightly build {'succeeded' if ok else 'FAILED'} in {seconds:.1f} s ({detail})")


def _cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not any(settings.landing_dir.glob("*/_manifests/*.json")):
        print(
            f"landing folder {settings.landing_dir} is empty: "
            f"generating the sample company (scale {args.scale}) with its labelled defects"
        )
        # The sample has the fake and missing entries real CRMs have, so the quality checks and the
        # pack's data-quality section have something to show; the answer key stays out of the landing.
        gen = argparse.Namespace(
            out=str(settings.landing_dir),
            scale=args.scale,
            seed=42,
            end_date=DEFAULT_END_DATE,
            days=730,
            labels=str(settings.landing_dir.parent / "sample_defect_labels.csv"),
        )
        _cmd_generate(gen)
    started = time.perf_counter()
    prepare_dbt()
    ok, phases = run_nightly_build()
    _print_build_summary(ok, time.perf_counter() - started, phases)
    _print_locations(settings)
    return 0 if ok else 1


def _print_locations(settings: Settings) -> None:
    print(f"warehouse: {settings.warehouse_path}")
    print(f"site:      {settings.site_dir / 'index.html'}")


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from pipelines.lib.benchmark import format_benchmark, run_benchmark

    results = []
    for scale in args.scales:
        result = run_benchmark(scale, args.days, Path(args.workdir) if args.workdir else None)
        print(f"scale {scale}: done in {result.total_seconds:.0f} s", flush=True)
        results.append(result)
    print(format_benchmark(results))
    return 0 if all(r.success for r in results) else 1


def _cmd_evaluate_detection(args: argparse.Namespace) -> int:
    import tempfile

    from quality.evaluation import build_with_defects, format_table, quarantined_records, score

    scores_by_seed = {}
    with tempfile.TemporaryDirectory(prefix="srw-eval-") as tmp:
        for seed in args.seeds:
            started = time.perf_counter()
            labels, warehouse = build_with_defects(Path(tmp) / f"seed{seed}", seed, args.scale, args.days)
            scores_by_seed[seed] = score(labels, quarantined_records(warehouse))
            print(
                f"seed {seed}: generated, built and scored in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    print(format_table(scores_by_seed))
    if not any(scores_by_seed.values()):
        print("no defect classes were injected or flagged: nothing was measured")
        return 1
    missed = [s for scores in scores_by_seed.values() for s in scores if not s.meets_goal]
    print(f"{len(missed)} class-seed results below the goal (recall >= 0.95, precision >= 0.90)")
    return 1 if missed else 0


def _cmd_verification_sample(args: argparse.Namespace) -> int:
    from quality.verification import write_verification_sample

    settings = Settings.from_env()
    files = write_verification_sample(settings.warehouse_path, settings.site_dir / "verification", args.week)
    for path in files:
        print(f"wrote {path}")
    if not files:
        print("no visits or reported intentions to verify in that week")
    return 0


def _cmd_load_verdicts(args: argparse.Namespace) -> int:
    from quality.verification import load_verdicts

    settings = Settings.from_env()
    report = load_verdicts(
        settings.warehouse_path,
        settings.landing_dir / "manual" / "verification_verdicts",
        settings.archive_dir,
        strict=args.strict,
    )
    print(json.dumps(report.to_metadata(), ensure_ascii=False, indent=1, default=str))
    for problem in report.problems:
        print(problem.describe())
    return 1 if report.rejected else 0


def _cmd_contract_docs(_: argparse.Namespace) -> int:
    from pipelines.lib.contract_docs import write_all

    for path in write_all(REPO_ROOT):
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="salesreview", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a sample company's CRM and ERP extracts into a landing folder")
    p.add_argument("--scale", type=float, default=1.0, help="1 = about 50 reps and 5,000 customers")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="landing folder to write")
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE, help="last delivery date")
    p.add_argument("--days", type=int, default=730, help="number of daily deliveries")
    p.add_argument("--labels", help="inject labelled defects (quality/DEFECTS.md) and write the labels here")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("prepare", help="prepare the dbt manifest for Dagster")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser("build", help="run the nightly build (ingest, dbt, packs) through Dagster")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="rebuild as of this extract date")
    p.add_argument("--timings", help="also write the seconds per phase to this JSON file")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("benchmark", help="time generate, ingest, dbt and packs at several data sizes")
    p.add_argument("--scales", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--workdir", help="keep the generated data and warehouses here (default: a temp folder)")
    p.set_defaults(func=_cmd_benchmark)

    p = sub.add_parser("run", help="sample data if the landing folder is empty, then the nightly build")
    p.add_argument("--scale", type=float, default=1.0)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("verification-sample", help="issue and export the week's phone-verification sample")
    p.add_argument(
        "--week", type=date.fromisoformat, default=None, help="Monday of the week (default: latest)"
    )
    p.set_defaults(func=_cmd_verification_sample)

    p = sub.add_parser("load-verdicts", help="load managers' returned verification files")
    p.add_argument(
        "--strict", action="store_true", help="stop at the first rejected file instead of loading the others"
    )
    p.set_defaults(func=_cmd_load_verdicts)

    p = sub.add_parser(
        "evaluate-detection", help="precision and recall of the data-quality rules on labelled defects"
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[101, 202, 303], help="seeds not used for tuning")
    p.add_argument("--scale", type=float, default=0.2)
    p.add_argument("--days", type=int, default=365)
    p.set_defaults(func=_cmd_evaluate_detection)

    p = sub.add_parser("contract-docs", help="regenerate the contract page and dbt sources from extracts.yml")
    p.set_defaults(func=_cmd_contract_docs)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
