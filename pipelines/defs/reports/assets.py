"""The review packs, rendered from the marts into the site of the release being built."""

import dagster as dg

from pipelines.defs.dbt.assets import sales_review_dbt_assets
from pipelines.defs.quality_reports.assets import SAMPLE_KEY
from pipelines.defs.resources import ReleaseResource
from reports.renderer import render_site, site_packs

PACKS_KEY = dg.AssetKey(["reports", "packs"])
# The packs read the marts and the quarantine; every mart is upstream, so a failing mart stops them.
MART_KEYS = sorted(k for k in sales_review_dbt_assets.keys if k.path[0] in ("marts", "quality"))


@dg.asset(
    key=PACKS_KEY,
    group_name="reports",
    deps=[*MART_KEYS, SAMPLE_KEY],
    kinds={"quarto", "html"},
    description=(
        "The review packs: the weekly pack (目标-成果-问题-计划) of the latest complete week and the "
        "quarterly pack of the latest complete quarter, for the company and each region, in Chinese and "
        "English, and the site index with the archive."
    ),
)
def packs(context: dg.AssetExecutionContext, release: ReleaseResource) -> dg.MaterializeResult:
    site_dir = release.build_site_dir
    render_site(release.build_warehouse_path, site_dir)
    pages = site_packs(site_dir)
    return dg.MaterializeResult(
        metadata={
            "site_index": dg.MetadataValue.path(str(release.paths.site_dir / "index.html")),
            "pack_pages": len(pages),
            "latest": dg.MetadataValue.json(sorted({p["period"] for p in pages})[-2:]),
        }
    )
