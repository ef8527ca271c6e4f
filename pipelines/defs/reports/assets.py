"""The review packs, rendered from the marts into the static site."""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import SiteResource, WarehouseResource
from reports.renderer import render_site


@dg.asset(
    key=dg.AssetKey(["reports", "weekly_pack"]),
    group_name="reports",
    deps=[
        dg.AssetKey(["marts", "fct_attainment_weekly"]),
        dg.AssetKey(["marts", "warehouse_as_of"]),
        dg.AssetKey(["marts", "fct_data_accuracy"]),
        dg.AssetKey(["quality", "quarantine"]),
        dg.AssetKey(["quality_reports", "verification_sample"]),
    ],
    kinds={"quarto", "html"},
    description="Weekly review pack (目标-成果-问题-计划) for the latest complete week, and the site index.",
)
def weekly_pack(warehouse: WarehouseResource, site: SiteResource) -> dg.MaterializeResult:
    pages = render_site(Path(warehouse.path), Path(site.site_dir))
    return dg.MaterializeResult(
        metadata={
            "site_index": dg.MetadataValue.path(str(Path(site.site_dir) / "index.html")),
            "pages": dg.MetadataValue.json([str(p) for p in pages]),
        }
    )
