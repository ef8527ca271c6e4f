"""Stub: the results section of the weekly pack (being written)."""

from reports import i18n
from reports.components import section
from reports.context import PackContext


def render(ctx: PackContext) -> None:
    section("results", i18n.t("results", ctx.lang), [])
