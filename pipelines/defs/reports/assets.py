"""The review packs, rendered from the marts into the site of the release being built."""

from pathlib import Path

import dagster as dg

from pipelines.defs.dbt.assets import sales_review_dbt_assets
from pipelines.defs.quality_reports.assets import SAMPLE_KEY
from pipelines.defs.resources import ReleaseResource
from reports.renderer import render_site

WEEKLY_PACK_KEY = dg.AssetKey(["reports", "weekly_pack"])
# The packs read the marts and the quarantine; every mart is upstream, so a failing mart stops them.
MART_KEYS = sorted(k for k in sales_review_dbt_assets.keys if k.path[0] in ("marts", "quality"))


@dg.asset(
    key=WEEKLY_PACK_KEY,
    group_name="reports",
    deps=[*MART_KEYS, SAMPLE_KEY],
    kinds={"quarto", "html"},
    description="Weekly review pack (目标-成果-问题-计划) for the latest complete week, and the site index.",
)
def weekly_pack(release: ReleaseResource) -> dg.MaterializeResult:
    site_dir = release.build_site_dir
    pages = render_site(release.build_warehouse_path, site_dir)
    return dg.MaterializeResult(
        metadata={
            "site_index": dg.MetadataValue.path(str(Path(release.site_dir) / "index.html")),
            "pages": dg.MetadataValue.json([str(p.relative_to(site_dir)) for p in pages]),
        }
    )
