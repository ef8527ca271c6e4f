"""Stub: the quarterly pack's sections (being written)."""

from reports.components import section
from reports.context import PackContext


def render(ctx: PackContext) -> None:
    section("quarter", ctx.period.label, [])
