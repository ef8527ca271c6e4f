"""`salesreview`: the command line for operators and developers.

salesreview generate --scale 1 --seed 42 --out data/landing   sample company extracts
salesreview next-day [--landing DIR]                          one more day for a generated company
salesreview prepare                                           parse dbt (manifest for Dagster)
salesreview build [--as-of YYYY-MM-DD] [--rebuild] [--wait]    nightly build, through Dagster
salesreview run                                               sample data if the landing is empty,
                                                              prepare, build; prints where things are
salesreview remove-day --system crm --date YYYY-MM-DD          take a (misdated) delivery out again
salesreview contract-docs                                     regenerate the contract's docs + dbt sources
salesreview refresh-calendar                                  rewrite the working calendar seed (holidays)
salesreview refresh-pinyin                                    rewrite the pinyin seed of name matching
salesreview deliver --profile NAME [--date D] [--initial] FILES  a CRM/ERP's own exports as a delivery
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path

from pipelines.lib.build_report import BuildSummary, format_summary, summarize
from pipelines.lib.child_processes import stop_children, termination_requested, watch_for_termination
from pipelines.lib.nightly_run import nightly_run_config, partition_range_tags
from pipelines.lib.progress import BuildProgress, Progress, dbt_node_count
from pipelines.lib.release import BuildRunning, describe_running_build, running_build
from pipelines.lib.settings import COMMAND_VARIABLE, REPO_ROOT, Settings, use_project_dagster_instance

DEFAULT_END_DATE = date(2026, 11, 22)


def generate_progress(progress: Progress):
    """The generator's progress callback: a line per stage, the entities written on it."""

    def say(stage: str, item: str | None = None) -> None:
        if progress.label != stage:
            progress.start(stage)
        if item:
            progress.note(item)

    return say


def _cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.sample.generator import generate

    started = time.perf_counter()
    progress = Progress()
    say = generate_progress(progress)
    if args.shape:  # a real export's files: generate the contract-shaped landing aside, then convert it
        if args.labels:
            print("--labels writes a landing folder's defect labels: not with --shape", file=sys.stderr)
            return 2
        import tempfile

        from pipelines.sample.generator.shapes import write_shape

        with tempfile.TemporaryDirectory(prefix="salesreview-shape-") as landing:
            generate(
                Path(landing),
                scale=args.scale,
                seed=args.seed,
                end_date=args.end_date,
                days=args.days,
                progress=say,
            )
            progress.start(f"writing the {args.shape} export")
            files = write_shape(args.shape, Path(landing), Path(args.out))
            progress.end()
        print(f"wrote the sample company as a {args.shape} export in {time.perf_counter() - started:.1f} s:")
        for path in files:
            print(f"  {path}")
        return 0
    rows = generate(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        end_date=args.end_date,
        days=args.days,
        labels_path=Path(args.labels) if args.labels else None,
        progress=say,
    )
    progress.end()
    print(f"generated {sum(rows.values()):,} rows in {time.perf_counter() - started:.1f} s into {args.out}")
    if args.labels:
        print(f"labelled defects written to {args.labels}")
    for entity, n in rows.items():
        print(f"  {entity:<28}{n:>10,}")
    return 0


def _cmd_next_day(args: argparse.Namespace) -> int:
    import json

    from pipelines.sample.generator import add_next_day
    from quality.contract import load_contract

    landing = Path(args.landing) if args.landing else Settings.from_env().landing_dir
    started = time.perf_counter()
    try:
        day = add_next_day(landing, seed=args.seed)
    except ValueError as problem:
        print(problem, file=sys.stderr)
        return 2
    contract = load_contract()
    print(f"delivered {day.isoformat()} into {landing} in {time.perf_counter() - started:.1f} s:")
    for system in contract.systems:
        manifest = json.loads((landing / contract.manifest_path(system, day.isoformat())).read_text("utf-8"))
        for entity, listed in manifest["files"].items():
            print(f"  {system}/{entity:<28}{listed['rows']:>8,}")
    return 0


def prepare_dbt() -> None:
    """Write dbt's manifest, which the Dagster definitions read (never parsed at import)."""
    from pipelines.defs.dbt.project import prepare_manifest

    prepare_manifest()


def _cmd_prepare(_: argparse.Namespace) -> int:
    prepare_dbt()
    print("dbt manifest prepared")
    return 0


EXIT_BUILD_RUNNING = 75  # EX_TEMPFAIL: another build holds the lock; try again later
EXIT_INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C


@contextmanager
def _output_to(log_file: Path):
    """Send everything written to stdout and stderr (Dagster's log, dbt, warnings) to the log file;
    yields a stream to the console as it was, for the build's progress lines."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_file, "ab") as log, os.fdopen(os.dup(saved[0]), "w", encoding="utf-8") as console:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_nightly_build(
    as_of_date: date | None = None,
    *,
    require_new_delivery: bool = True,
    log_file: Path | None = None,
    full_refresh: bool = False,
    dates: tuple[date, date] | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Execute the nightly_build job in this process, recorded in the project's Dagster instance
    (DAGSTER_HOME, else the project's own: pipelines.lib.settings.use_project_dagster_instance), so
    `dagster dev` shows the run. Dagster's own log goes to `log_file`; the console gets a line per
    phase (and dbt's nodes done) while it runs."""
    import uuid

    import dagster as dg

    phases = Progress(sys.stdout if progress else io.StringIO())
    phases.start("start-up")  # loading the definitions takes a while: said, so nobody waits in silence
    from pipelines.definitions import defs
    from pipelines.defs.dbt.project import dbt_project

    os.environ.setdefault(COMMAND_VARIABLE, "salesreview build")
    use_project_dagster_instance()
    run_config = nightly_run_config(as_of_date, require_new_delivery, full_refresh)
    tags = partition_range_tags(*dates) if dates else None
    run_id = str(uuid.uuid4())
    instance = dg.DagsterInstance.get()
    with instance, _output_to(log_file) if log_file else nullcontext(sys.stdout) as console:
        if progress:
            phases.stream = console
        instance.add_event_listener(run_id, BuildProgress(phases, dbt_node_count(dbt_project.manifest_path)))
        job = defs.resolve_job_def("nightly_build")
        try:
            result = job.execute_in_process(
                instance=instance, run_config=run_config, raise_on_error=False, run_id=run_id, tags=tags
            )
        finally:
            phases.end("stopped")  # a phase still open: the run ended without saying so
        # the held-back line reads the warehouse just published (a failed build's comes from its check)
        published = Settings.from_env().warehouse_path if result.success else None
        return summarize(instance.all_logs(result.run_id), result.success, published)


def _interrupt(signum, _frame) -> None:
    # SIGTERM (systemd, cron's kill, an operator) ends a build like Ctrl-C: dbt is told to stop, the
    # unfinished release is dropped, the lock is let go. The children stop first, so none writes into the
    # release while it is being dropped.
    stop_children()
    raise KeyboardInterrupt(f"signal {signum}")


def _build(
    settings: Settings,
    as_of_date: date | None,
    *,
    require_new_delivery: bool,
    wait: bool = False,
    full_refresh: bool = False,
    dates: tuple[date, date] | None = None,
) -> tuple[int, BuildSummary | None]:
    """A build from the command line: said plainly when another one runs, the log to a file, a summary."""
    running = running_build(settings.release_paths.lock_path)
    if running and not wait:
        print(describe_running_build(running), file=sys.stderr)
        return EXIT_BUILD_RUNNING, None
    if running:
        print(f"waiting for the running build to finish (process {running.get('pid', '?')}) ...", flush=True)
        while running_build(settings.release_paths.lock_path):
            time.sleep(2)
    signal.signal(signal.SIGTERM, _interrupt)
    watch_for_termination()  # a signal whose exception gets lost still stops the publish
    log_file = settings.log_dir / f"build-{datetime.now():%Y%m%d-%H%M%S}.log"
    started = time.perf_counter()
    if require_new_delivery and as_of_date is None and dates is None and not full_refresh:
        summary = _nothing_new_summary(settings, log_file, started)
        if summary is not None:
            return 1, summary
    try:
        summary = run_nightly_build(
            as_of_date,
            require_new_delivery=require_new_delivery,
            log_file=log_file,
            full_refresh=full_refresh,
            dates=dates,
        )
    except KeyboardInterrupt:
        stop_children()
        print(
            "nightly build interrupted: nothing was published, the warehouse and the site are as they were.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED, None
    if termination_requested() and not summary.interrupted_in:  # its exception was lost on the way
        summary.interrupted_in = summary.failed_step or summary.unfinished_step or "the run"
    if summary.interrupted_in:
        stop_children()
    print(format_summary(summary, time.perf_counter() - started))
    print(f"log:       {log_file}")
    _print_locations(settings)
    if summary.interrupted_in:
        return EXIT_INTERRUPTED, summary
    return (0 if summary.success else 1), summary


def _nothing_new_summary(settings: Settings, log_file: Path, started: float) -> BuildSummary | None:
    """A night with nothing new to load, reported without starting Dagster (pipelines/lib/nothing_new.py);
    None when the nightly job has to run."""
    from pipelines.lib.ingest import today_in_china
    from pipelines.lib.nothing_new import nothing_new_to_load

    failed = nothing_new_to_load(settings, today=today_in_china())
    if failed is None:
        return None
    seconds = time.perf_counter() - started
    summary = BuildSummary(
        success=False, problems=[check.description for check in failed], phases={"delivery check": seconds}
    )
    text = format_summary(summary, seconds) + (
        "\n\n(Every manifest in the landing folder was loaded before: Dagster was not started.)"
    )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"log:       {log_file}")
    _print_locations(settings)
    return summary


def _cmd_build(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    code, summary = _build(
        settings,
        args.as_of,
        require_new_delivery=not (args.rebuild or args.as_of or args.full_refresh),
        wait=args.wait,
        full_refresh=args.full_refresh,
    )
    if args.timings and summary is not None:
        _write_timings(args.timings, summary)
    return code


def _write_timings(path: str, summary: BuildSummary) -> None:
    """The seconds per phase of a run (its steps' durations), for `salesreview benchmark`; with where the
    dbt step's run_results.json is (seconds per dbt node)."""
    timings = {"success": summary.success, "phases": summary.phases}
    if summary.dbt_run_results:
        timings.update(dbt_run_results=summary.dbt_run_results, dbt_mode=summary.dbt_mode)
    Path(path).write_text(json.dumps(timings, indent=1), encoding="utf-8")


def _cmd_backfill(args: argparse.Namespace) -> int:
    """The deliveries of first..last (new, corrected or already loaded) in one partitioned run; the
    dates around them are left alone. Like a single-run backfill of the ingest partitions in the UI."""
    if args.last < args.first:
        print(f"--to {args.last} is before --from {args.first}", file=sys.stderr)
        return 2
    code, _ = _build(
        Settings.from_env(), None, require_new_delivery=False, wait=args.wait, dates=(args.first, args.last)
    )
    return code


def _cmd_backfill_packs(args: argparse.Namespace) -> int:
    """The packs of a range of finished weeks or quarters, rendered again from the published warehouse in
    one run of the weekly_packs / quarterly_packs job (what a backfill of its partitions in the UI does).
    A line per phase on the console, as a build has."""
    import uuid

    import dagster as dg

    phases = Progress()
    phases.start("start-up")  # loading the definitions takes a while
    from pipelines.definitions import defs

    job_name, (first, last) = (
        ("weekly_packs", args.weeks) if args.weeks else ("quarterly_packs", args.quarters)
    )
    job = defs.resolve_job_def(job_name)
    keys = job.partitions_def.get_partition_keys()
    for day in (first, last):
        if day.isoformat() not in keys:
            what = "a Monday of a finished week" if args.weeks else "the first day of a finished quarter"
            phases.end("stopped")
            print(f"{day} is not {what} (the latest is {keys[-1] if keys else 'none'})", file=sys.stderr)
            return 2
    settings = Settings.from_env()
    running = running_build(settings.release_paths.lock_path)
    if running:
        phases.end("stopped")
        print(describe_running_build(running), file=sys.stderr)
        return EXIT_BUILD_RUNNING
    os.environ.setdefault(COMMAND_VARIABLE, f"salesreview backfill-packs ({job_name})")
    log_file = settings.log_dir / f"{job_name}-{datetime.now():%Y%m%d-%H%M%S}.log"
    use_project_dagster_instance()
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    with instance, _output_to(log_file) as console:
        phases.stream = console
        instance.add_event_listener(run_id, BuildProgress(phases))
        try:
            result = job.execute_in_process(
                instance=instance, tags=partition_range_tags(first, last), raise_on_error=False, run_id=run_id
            )
        finally:
            phases.end("stopped")  # a phase still open: the run ended without saying so
        summary = summarize(instance.all_logs(result.run_id), result.success)
    if args.timings:
        _write_timings(args.timings, summary)
    periods = keys[keys.index(first.isoformat()) : keys.index(last.isoformat()) + 1]
    if result.success:
        print(f"{job_name}: rendered and published {len(periods)} period(s): {', '.join(periods)}")
    else:
        print(f"{job_name} FAILED: nothing was published", file=sys.stderr)
        for problem in summary.problems:
            print(f"- {problem}", file=sys.stderr)
    print(f"log:       {log_file}")
    _print_locations(settings)
    return 0 if result.success else 1


def _cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not any(settings.landing_dir.glob("*/_manifests/*.json")):
        print(
            f"landing folder {settings.landing_dir} is empty: "
            f"generating the sample company (scale {args.scale}) with its labelled defects"
        )
        # The sample has the fake and missing entries real CRMs have, so the quality checks and the
        # pack's data-quality section have something to show; the answer key stays out of the landing.
        labels = settings.landing_dir.parent / "sample_defect_labels.csv"
        gen = ["generate", "--out", str(settings.landing_dir), "--scale", str(args.scale), "--days", "730"]
        _cmd_generate(build_parser().parse_args([*gen, "--labels", str(labels)]))  # the command's defaults
    prepare_dbt()
    # The sample company delivers nothing new after the first run: `make run` rebuilds what is loaded.
    code, _ = _build(settings, None, require_new_delivery=False)
    return code


def _print_locations(settings: Settings) -> None:
    print(f"warehouse: {settings.warehouse_path}")
    print(f"site:      {settings.site_dir / 'index.html'}")


def _cmd_remove_day(args: argparse.Namespace) -> int:
    from pipelines.lib.release import BuildLock, holder
    from pipelines.lib.removals import request_removal
    from quality.contract import load_contract

    settings = Settings.from_env()
    paths = settings.release_paths
    lock = BuildLock(paths.lock_path)
    lock.acquire(holder("salesreview remove-day"))
    try:
        request = request_removal(
            paths,
            load_contract(),
            settings.landing_dir,
            settings.archive_dir,
            args.system,
            args.date,
            args.reason,
        )
    finally:
        lock.release()
    for moved in request.moved_files:
        print(f"moved out of the landing folder: {settings.archive_dir / moved}")
    print(
        f"{args.system} {args.date}: its loaded rows are removed by the next build "
        "(raw rows and load registry; the archived originals stay)."
    )
    if args.no_build:
        return 0
    code, _ = _build(settings, None, require_new_delivery=False)
    return code


def _cmd_benchmark(args: argparse.Namespace) -> int:
    from pipelines.sample.benchmark import (
        describe_machine,
        evaluate_goals,
        format_benchmark,
        format_ingest_benchmark,
        run_benchmark,
        run_ingest_benchmark,
        write_report,
    )

    workdir = Path(args.workdir) if args.workdir else None
    progress = Progress()
    if args.ingest_rows:
        measured = []
        for rows in args.ingest_rows:
            progress.start(f"ingest of {rows:,} rows")
            result = run_ingest_benchmark(rows, workdir)
            progress.end(f"peak {result.peak_rss_mb:,.0f} MB, done" if result.success else "FAILED")
            measured.append(result)
        print(format_ingest_benchmark(measured))
        return 0 if all(r.success for r in measured) else 1
    started, clock = datetime.now(UTC), time.perf_counter()
    machine = describe_machine(workdir)
    results = []
    for number, scale in enumerate(args.scales):
        # several rebuilds in a row show whether the file grows every time; once is enough at larger scales
        rebuilds = args.rebuilds if number == 0 else min(args.rebuilds, 1)
        results.append(run_benchmark(scale, args.days, workdir, progress=progress, rebuilds=rebuilds))
    machine["load average (1/5/15 min) at the end"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    goals = evaluate_goals(results, *args.goal_scales)
    print(format_benchmark(results, goals))
    command = "salesreview " + " ".join(sys.argv[1:]) if sys.argv[1:] else "salesreview benchmark"
    output = Path(args.output) if args.output else REPO_ROOT / "BENCHMARKS.md"
    for path in write_report(results, goals, machine, command, started, time.perf_counter() - clock, output):
        print(f"wrote {path}")
    return 0 if all(r.ok for r in results) else 1


def _cmd_evaluate_detection(args: argparse.Namespace) -> int:
    import tempfile

    from pipelines.sample import evaluation

    scores_by_seed, shapes_by_seed, clean_by_seed = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="srw-eval-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        for seed in [*args.seeds, *args.clean_seeds]:
            clean = seed in args.clean_seeds
            started = time.perf_counter()
            labels, warehouse = evaluation.build_company(
                workdir / f"{'clean' if clean else 'seed'}{seed}",
                seed,
                args.scale,
                args.days,
                labelled=not clean,
            )
            if clean:
                clean_by_seed[seed] = evaluation.clean_rates(warehouse)
            else:
                flagged = evaluation.quarantined_records(warehouse)
                scores_by_seed[seed] = evaluation.score(labels, flagged)
                shapes_by_seed[seed] = evaluation.score_shapes(labels, flagged)
            print(
                f"{'clean company' if clean else 'seed'} {seed}: generated, built and scored in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
    if args.seeds and not any(scores_by_seed.values()):
        print("no defect classes were injected or flagged: nothing was measured")
        return 1
    report = evaluation.format_report(scores_by_seed, shapes_by_seed, clean_by_seed)
    print(report)
    missed = evaluation.misses(scores_by_seed, clean_by_seed)
    verdict = (
        f"{len(missed)} result(s) below the goal: " + "; ".join(missed) if missed else "every goal is met"
    )
    print(verdict)
    if args.output:
        command = (
            "salesreview " + " ".join(sys.argv[1:]) if sys.argv[1:] else "salesreview evaluate-detection"
        )
        Path(args.output).write_text(
            f"# Measured detection\n\n`{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"scale {args.scale:g}, {args.days} days.\n\n{report}\n\n**{verdict}**\n",
            encoding="utf-8",
        )
        print(f"wrote {args.output}")
    return 1 if missed else 0


def _cmd_verification_sample(args: argparse.Namespace) -> int:
    from pipelines.lib.release import release_in_progress
    from quality.verification import write_verification_sample

    settings = Settings.from_env()
    with release_in_progress(settings.release_paths, "salesreview verification-sample") as release:
        files = write_verification_sample(
            release.warehouse_path, release.site_dir / "verification", args.week
        )
        release.publish({"command": "verification-sample"})
    for path in files:
        print(f"wrote {settings.site_dir / path.relative_to(release.site_dir)}")
    if not files:
        print("no visits or reported intentions to verify in that week")
    return 0


def _cmd_load_verdicts(args: argparse.Namespace) -> int:
    from pipelines.lib.release import release_in_progress
    from quality.verification import load_verdicts

    settings = Settings.from_env()
    with release_in_progress(settings.release_paths, "salesreview load-verdicts") as release:
        report = load_verdicts(
            release.warehouse_path,
            settings.landing_dir / "manual" / "verification_verdicts",
            settings.archive_dir,
            strict=args.strict,
        )
        release.publish({"command": "load-verdicts"})
    print(json.dumps(report.to_metadata(), ensure_ascii=False, indent=1, default=str))
    for problem in report.problems:
        print(problem.describe())
    return 1 if report.rejected else 0


def _cmd_contract_docs(_: argparse.Namespace) -> int:
    from pipelines.lib.contract_docs import write_all

    for path in write_all(REPO_ROOT):
        print(f"wrote {path}")
    return 0


def _cmd_refresh_calendar(_: argparse.Namespace) -> int:
    from pipelines.lib.working_calendar import refresh_seed

    result = refresh_seed()
    print(f"wrote {result.describe()}")
    print("the next build judges every day again by it (a changed seed rebuilds the warehouse)")
    return 0


def _cmd_refresh_pinyin(_: argparse.Namespace) -> int:
    from quality.pinyin_seed import write_seed

    print(f"wrote {write_seed()}: the pinyin of the 6,763 GB2312 characters, as pypinyin reads them")
    print("the next build matches customer names by it (a changed seed rebuilds the warehouse)")
    return 0


EXIT_UNUSABLE_INPUT = 2  # deliver: the profile or the files do not fit (the message says what to change)


def _cmd_deliver(args: argparse.Namespace) -> int:
    from pipelines.lib.deliver import DeliverError, deliver
    from pipelines.lib.profiles import ProfileError, load_profile

    landing = Path(args.landing) if args.landing else Settings.from_env().landing_dir
    try:
        profile = load_profile(args.profile)
        result = deliver(
            profile, [Path(f) for f in args.files], landing, extract_date=args.date, initial=args.initial
        )
    except (ProfileError, DeliverError) as error:
        print(f"nothing delivered:\n{error}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    kind = "first load of history (--initial)" if args.initial else "delivery"
    print(f"{result.system} {kind} {result.extract_date} with profile {result.profile}, into {landing}:")
    for written in result.entities.values():
        if written.name in result.absent_entities:
            continue
        how = " (one row per key)" if written.one_row_per_key else ""
        print(f"  {written.name:<28}{written.rows:>10,} rows{how} from {', '.join(written.source_files)}")
        if written.defaulted_columns:
            print(f"  {'':<28}defaulted (not in the source): {', '.join(written.defaulted_columns)}")
        if written.unmapped_columns:
            print(f"  {'':<28}left empty (not in the profile): {', '.join(written.unmapped_columns)}")
    if result.absent_entities:
        print(f"  header only (not in the source): {', '.join(result.absent_entities)}")
    if result.not_converted:
        print("values that did not convert, written as they were (the ingest names each row):")
        for (entity, column), problem in result.not_converted.items():
            print(f"  {entity}.{column}: {problem.count:,}, e.g. {problem.example!r}: {problem.reason}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"manifest:  {result.manifest_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salesreview", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate", help="write a sample company's CRM and ERP extracts into a landing folder")
    p.add_argument("--scale", type=float, default=1.0, help="1 = about 50 reps and 5,000 customers")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True, help="landing folder to write")
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE, help="last delivery date")
    p.add_argument("--days", type=int, default=730, help="number of daily deliveries")
    p.add_argument("--labels", help="inject labelled defects (quality/DEFECTS.md) and write the labels here")
    p.add_argument(
        "--shape",
        choices=["salesforce", "cn_crm", "cn_erp"],
        help="write the company as that system's real export files (profiles/ read them), not a landing",
    )
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser(
        "next-day",
        help="add one more day to a generated company (the day after the newest delivery in the landing)",
    )
    p.add_argument("--landing", help="landing folder (default: SRW_LANDING_DIR or data/landing)")
    p.add_argument("--seed", type=int, default=None, help="vary the day's content (default: from the date)")
    p.set_defaults(func=_cmd_next_day)

    p = sub.add_parser("prepare", help="prepare the dbt manifest for Dagster")
    p.set_defaults(func=_cmd_prepare)

    p = sub.add_parser("build", help="run the nightly build (ingest, dbt, packs, publish) through Dagster")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="rebuild as of this extract date")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild from what is loaded even when no system delivered anything new (not an error then)",
    )
    p.add_argument("--wait", action="store_true", help="if another build is running, wait for it, then build")
    p.add_argument("--timings", help="also write the seconds per phase to this JSON file")
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental model from all rows (implies --rebuild)",
    )
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser(
        "backfill",
        help="(re)load the deliveries of a range of extract dates in one run, then build and publish",
    )
    p.add_argument("--from", dest="first", required=True, type=date.fromisoformat, help="first extract date")
    p.add_argument("--to", dest="last", required=True, type=date.fromisoformat, help="last extract date")
    p.add_argument("--wait", action="store_true", help="if another build is running, wait for it, then build")
    p.set_defaults(func=_cmd_backfill)

    p = sub.add_parser(
        "backfill-packs", help="render the packs of a range of finished weeks or quarters again, in one run"
    )
    periods = p.add_mutually_exclusive_group(required=True)
    periods.add_argument("--weeks", nargs=2, type=date.fromisoformat, metavar=("FIRST_MONDAY", "LAST_MONDAY"))
    periods.add_argument(
        "--quarters", nargs=2, type=date.fromisoformat, metavar=("FIRST_QUARTER_START", "LAST_QUARTER_START")
    )
    p.add_argument("--timings", help="also write the seconds per phase to this JSON file")
    p.set_defaults(func=_cmd_backfill_packs)

    p = sub.add_parser(
        "remove-day", help="take a loaded or misdated delivery out again (the archived original stays)"
    )
    p.add_argument("--system", required=True, help="crm or erp")
    p.add_argument("--date", required=True, type=date.fromisoformat, help="its extract date, YYYY-MM-DD")
    p.add_argument("--reason", help="why, kept with the removal in raw_meta.removed_deliveries")
    p.add_argument("--no-build", action="store_true", help="leave the removal to the next nightly build")
    p.set_defaults(func=_cmd_remove_day)

    p = sub.add_parser(
        "benchmark",
        help="the performance goals measured: full, one-new-day and nothing-new nights, the packs of a week "
        "and the floor at several scales, written to BENCHMARKS.md",
    )
    p.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0, 10.0, 30.0],
        help="company sizes (1 = about 50 reps and 5,000 customers; default 1 10 30)",
    )
    p.add_argument("--days", type=int, default=730, help="daily deliveries of each company (two years)")
    p.add_argument(
        "--workdir",
        help="keep the generated companies and warehouses here (default: a temp folder); a company "
        "generated here before at the same scale and days is reused",
    )
    p.add_argument("--output", help="the report to write (default: BENCHMARKS.md in the repository)")
    p.add_argument(
        "--goal-scales",
        type=float,
        nargs=2,
        default=[10.0, 30.0],
        metavar=("REFERENCE", "LARGE"),
        help="the scales the goals name (default 10 30: the full night, memory and packs at 10; "
        "30 completes within 3.5 × 10's time)",
    )
    p.add_argument(
        "--rebuilds",
        type=int,
        default=3,
        metavar="N",
        help="`build --rebuild`s in a row after the nights at the first scale, to see whether the warehouse "
        "file grows on each (default 3; one at the other scales; 0: none)",
    )
    p.add_argument(
        "--ingest-rows",
        type=int,
        nargs="+",
        metavar="N",
        help="instead: ingest one delivery of N opportunities into a fresh warehouse in a child process "
        "and report its wall time and peak RSS (the --ingest-rows data is always removed afterwards)",
    )
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
    p.add_argument("--seeds", type=int, nargs="*", default=[101, 202, 303], help="seeds not used for tuning")
    p.add_argument(
        "--clean-seeds", type=int, nargs="*", default=[404], help="companies built with nothing injected"
    )
    p.add_argument("--scale", type=float, default=0.2)
    p.add_argument("--days", type=int, default=365, help="a year: every public holiday and make-up day")
    p.add_argument("--workdir", help="keep the companies and warehouses here (default: a temporary folder)")
    p.add_argument("--output", help="also write the report to this Markdown file")
    p.set_defaults(func=_cmd_evaluate_detection)

    p = sub.add_parser("contract-docs", help="regenerate the contract page and dbt sources from extracts.yml")
    p.set_defaults(func=_cmd_contract_docs)

    p = sub.add_parser(
        "refresh-calendar",
        help="rewrite the working calendar seed (public holidays, 调休 make-up days) from chinese-calendar",
    )
    p.set_defaults(func=_cmd_refresh_calendar)

    p = sub.add_parser(
        "refresh-pinyin",
        help="rewrite the pinyin seed of customer-name matching (pinyin_chars) from pypinyin",
    )
    p.set_defaults(func=_cmd_refresh_pinyin)

    p = sub.add_parser(
        "deliver", help="turn a CRM/ERP's own export files into a landing delivery, with a source profile"
    )
    p.add_argument("--profile", required=True, help="a profile name (profiles/NAME.yml) or a YAML file")
    p.add_argument("--date", type=date.fromisoformat, help="extract date YYYY-MM-DD (default: the profile's)")
    p.add_argument("--initial", action="store_true", help="a first load of the full history")
    p.add_argument("--landing", help="landing folder (default: SRW_LANDING_DIR or data/landing)")
    p.add_argument("files", nargs="+", metavar="FILES", help="the export files (CSV or Excel)")
    p.set_defaults(func=_cmd_deliver)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BuildRunning as running:  # a command that writes the warehouse found a build running
        print(running, file=sys.stderr)
        return EXIT_BUILD_RUNNING


if __name__ == "__main__":
    sys.exit(main())
