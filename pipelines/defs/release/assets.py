"""The last step of a build: publish the night's warehouse and site together (pipelines/lib/release.py).

It runs only when every step before it succeeded: it depends on the packs and the verification sample,
which depend on every mart, which depend on every ingest step (tests/test_definitions.py holds every
asset of the nightly build to be upstream of it). Until it runs, readers see the previous night.
"""

import dagster as dg

from pipelines.defs.quality_reports.assets import SAMPLE_KEY
from pipelines.defs.reports.assets import PACKS_KEY
from pipelines.defs.resources import PUBLISH_KEY, ReleaseResource
from pipelines.lib.child_processes import termination_requested
from pipelines.lib.removals import applied_requests, forget


@dg.asset(
    key=PUBLISH_KEY,
    group_name="release",
    deps=[PACKS_KEY, SAMPLE_KEY],
    kinds={"duckdb", "html"},
    description=(
        "The night's warehouse and site, published together with one atomic rename once every step "
        "passed; a build that fails or is killed before this step leaves the previous night published."
    ),
)
def published_release(context: dg.AssetExecutionContext, release: ReleaseResource) -> dg.MaterializeResult:
    if termination_requested():  # a SIGTERM whose interruption was lost on the way: still not published
        raise dg.DagsterExecutionInterruptedError()
    with release.connect(read_only=True) as con:
        as_of = con.execute("select as_of_date from marts.warehouse_as_of").fetchone()
        removals = applied_requests(release.paths, con)
    folder = release.release.publish({"as_of_date": str(as_of[0]) if as_of else None})
    forget(release.paths, removals)
    for removal in removals:
        context.log.info(f"removal applied and published: {removal['system']} {removal['extract_date']}")
    return dg.MaterializeResult(
        metadata={
            "release": folder.name,
            "as_of_date": str(as_of[0]) if as_of else "none",
            "warehouse": dg.MetadataValue.path(release.warehouse_path),
            "site": dg.MetadataValue.path(release.site_dir),
        }
    )
