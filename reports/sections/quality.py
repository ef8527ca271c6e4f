"""Stub: the quality section of the weekly pack (being written)."""

from reports import i18n
from reports.components import section
from reports.context import PackContext


def render(ctx: PackContext) -> None:
    section("quality", i18n.t("quality", ctx.lang), [])
