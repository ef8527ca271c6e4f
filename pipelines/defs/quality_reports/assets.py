"""Weekly phone verification (004 §5.5.1): the sample files for managers and their returned verdicts.

Thin wrappers around quality.verification (the logic and its tests live there). Both write to the
warehouse and site of the release being built.

Order in the nightly build: verdict files -> raw_manual.verification_verdicts -> dbt (verification
models, marts.fct_data_accuracy) -> verification_sample (draws this week's sample from
quality.verification_records, freezes it, writes the files into the site) -> the pack.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import LandingResource, ReleaseResource
from quality import verification

VERDICTS_KEY = dg.AssetKey(["raw_manual", "verification_verdicts"])  # = the dbt source, so dbt runs after
SAMPLE_KEY = dg.AssetKey(["quality_reports", "verification_sample"])
VERDICT_FOLDER = Path("manual") / "verification_verdicts"  # inside the landing folder
SITE_SUBDIR = "verification"  # inside the site: <site>/verification/<week_label>/


@dg.asset(
    key=VERDICTS_KEY,
    group_name="quality_reports",
    kinds={"duckdb", "csv", "excel"},
    description=(
        "核查结论: the verdicts managers returned on the weekly verification files (CSV or Excel, dropped "
        "in <landing>/manual/verification_verdicts/), validated against the issued samples and loaded "
        "once per file content; originals archived. A file with problems is left out and reported by "
        "the check verdict_files_valid, naming the file, row and column."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "verdict_files_valid",
            asset=VERDICTS_KEY,
            description="Every returned verdict file could be loaded (a manager should fix the ones named).",
        )
    ],
    metadata={"dagster/table_name": verification.VERDICTS_TABLE},
)
def verification_verdicts(
    context: dg.AssetExecutionContext, release: ReleaseResource, landing: LandingResource
):
    folder = Path(landing.landing_dir) / VERDICT_FOLDER
    report = verification.load_verdicts(
        release.build_warehouse_path, folder, archive_dir=Path(landing.archive_dir)
    )
    for problem in report.problems:
        context.log.warning(f"verdict file not loaded: {problem.describe()}")
    problems_md = "\n".join(f"- {p.describe()}" for p in report.problems) or "none"
    yield dg.MaterializeResult(
        metadata={**report.to_metadata(), "folder": dg.MetadataValue.path(str(folder))}
    )
    yield dg.AssetCheckResult(
        check_name="verdict_files_valid",
        asset_key=VERDICTS_KEY,
        passed=not report.rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_rejected": len(report.rejected),
            "problems": dg.MetadataValue.md(problems_md),
            "what_to_do": verification.WHAT_TO_DO,
        },
    )


class VerificationSampleConfig(dg.Config):
    week_start: str | None = None  # a Monday, YYYY-MM-DD; default: the latest complete week


@dg.asset(
    key=SAMPLE_KEY,
    group_name="quality_reports",
    deps=[dg.AssetKey(["quality", "verification_records"]), dg.AssetKey(["marts", "warehouse_as_of"])],
    kinds={"duckdb", "csv", "excel"},
    description=(
        "核查样本: this week's phone-verification sample per manager (stratum 1: a random 20%; stratum 2: "
        "extra records drawn in proportion to their risk), drawn once and frozen in "
        "raw_manual.verification_sample, written as CSV and Excel files to <site>/verification/<week>/."
    ),
    metadata={"dagster/table_name": verification.SAMPLE_TABLE},
)
def verification_sample(
    context: dg.AssetExecutionContext,
    release: ReleaseResource,
    config: VerificationSampleConfig,
) -> dg.MaterializeResult:
    out_dir = release.build_site_dir / SITE_SUBDIR
    paths = verification.write_verification_sample(
        release.build_warehouse_path, out_dir, config.week_start or None
    )
    if not paths:
        context.log.info("no record to verify in the week: no sample issued")
    # Where the files are once the release is published (they are written into the release first).
    published = [Path(release.site_dir) / p.relative_to(release.build_site_dir) for p in paths]
    return dg.MaterializeResult(
        metadata={
            "files": dg.MetadataValue.json([str(p) for p in published]),
            "folder": dg.MetadataValue.path(str(published[0].parent if published else release.site_dir)),
        }
    )
