"""数据质量 Data quality (数据失真, 004 §5.5.1, §4.1.2, §6.1.3): how far the CRM can be trusted this week.

- data accuracy per rep from the managers' phone verification, month to date (marts.fct_data_accuracy,
  the month of the week's Sunday): verdicts, accuracy, the Horvitz-Thompson estimate of the fake rate, the
  status light and the veto (one confirmed fake);
- open quality flags by rule (quality.quarantine, first seen up to the week's Sunday): new this week vs.
  older, with the rule's description (seeds.quality_rules);
- this week's verification sample per manager (raw_manual.verification_sample, frozen when issued), the
  verdicts returned so far and links to the managers' files (CSV / Excel, written next to the site by
  `salesreview verification`). The sample's contact numbers never reach the pack.

A region's pack shows its reps (marts.dim_reps.region), the flags on its reps' records and its managers.
The mart has no region level: a region pack shows its managers' accuracy (the mart's manager rows) and
the counts of its reps' verdicts, and states no region-wide rate of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reports import i18n
from reports.components import Column, Kpi, esc, kpi_cards, light_badge, section, table
from reports.context import PackContext

ACCURACY_MART = "marts.fct_data_accuracy"
QUARANTINE_TABLE = "quality.quarantine"
QUALITY_RULES_SEED = "seeds.quality_rules"
SAMPLE_TABLE = "raw_manual.verification_sample"
REPS_MART = "marts.dim_reps"
# The managers' files, relative to the pack page <site>/weekly/<week>/<audience>.<lang>.html; the files
# are in <site>/verification/<week>/ (quality.verification.sample_file_stem names them).
VERIFICATION_HREF = "../../verification/{week}/verification_{week}_{who}.{ext}"
LIGHTS = ("green", "yellow", "red", "none")
COUNT_KEYS = ("verified_count", "fake_count", "unverifiable_count")
VETOED_NAMES_SHOWN = 3

tx = i18n.Texts(
    {
        "accuracy": ("数据准确率", "Data accuracy"),
        "accuracy_of": ("数据准确率 · {name}", "Data accuracy · {name}"),
        "verdicts": ("核查结论", "Verdicts"),
        "verified": ("已核实", "Verified"),
        "confirmed": ("真实", "Confirmed"),
        "fake": ("虚假", "Fake"),
        "unverifiable": ("无法核实", "Unverifiable"),
        "fake_rate_ht": ("估计失真率", "Est. fake rate"),
        "veto": ("一票否决", "Veto"),
        "vetoed_reps": ("被否决代表", "Reps vetoed"),
        "manager": ("经理", "Manager"),
        "rule": ("规则", "Rule"),
        "description": ("说明", "Description"),
        "severity": ("级别", "Severity"),
        "entity": ("对象", "Records"),
        "new": ("本周新增", "New this week"),
        "older": ("此前", "Older"),
        "total": ("合计", "Total"),
        "population": ("记录数", "Records"),
        "stratum1": ("随机抽取", "Random"),
        "stratum2": ("风险加抽", "Risk extra"),
        "sampled": ("样本", "Sampled"),
        "returned": ("已返回", "Returned"),
        "files": ("核查文件", "Verification files"),
        "everyone": ("全部", "Everyone"),
        "severity_block": ("拦截", "Block"),
        "severity_warn": ("警告", "Warn"),
        # the accuracy light: the mart decides it (88% target), "none" = nothing verified yet
        "light_green": ("达标", "On target"),
        "light_yellow": ("预警", "At risk"),
        "light_red": ("不达标", "Below target"),
        "light_none": ("未核实", "Not verified"),
        "accuracy_title": ("销售代表数据准确率：{month}至今", "Data accuracy by rep: {month} to date"),
        "flags_title": ("待处理数据问题（按规则）", "Open quality flags by rule"),
        "sample_title": ("本周电话核查样本：{week}", "This week's phone-verification sample: {week}"),
        "no_verdicts": ("{month}至今尚无核查结论。", "No verification verdicts for {month} yet."),
        "no_flags": ("没有待处理的数据问题。", "No quality flags are open."),
        "no_sample": (
            "{week} 的核查样本尚未生成。",
            "The verification sample for {week} has not been issued yet.",
        ),
        "not_built": ("尚未生成：{tables}", "Not built yet: {tables}"),
        # what the flags are on (quality.quarantine.entity)
        "entity_customers": ("客户", "customers"),
        "entity_activities": ("活动", "activities"),
        "entity_opportunities": ("商机", "opportunities"),
        "entity_sales_orders": ("销售订单", "sales orders"),
        "entity_payments": ("回款", "payments"),
        "entity_invoices": ("发票", "invoices"),
        "entity_rep_days": ("销售工作日", "rep days"),
        "entity_reps": ("销售代表", "reps"),
        "entity_products": ("产品", "products"),
    }
)


@dataclass
class QualityData:
    week_label: str  # the pack's week: its sample and its files
    month_start: date  # accuracy is shown for the month of the week's Sunday, month to date
    company: dict[str, Any] | None = None  # the company row of the month (company pack only)
    managers: list[dict[str, Any]] = field(default_factory=list)  # the month's manager rows (region pack)
    reps: list[dict[str, Any]] = field(default_factory=list)  # the month's rep rows, problems first
    flags: list[dict[str, Any]] = field(default_factory=list)  # per rule and severity
    sample: list[dict[str, Any]] = field(default_factory=list)  # per manager
    missing: list[str] = field(default_factory=list)  # tables the warehouse does not have (yet)

    @property
    def vetoed(self) -> list[dict[str, Any]]:
        return [r for r in self.reps if r["has_veto"]]


# ---------------------------------------------------------------------------------------------- loading

_ACCURACY_COLUMNS = (
    "a.level, a.unit_id, a.unit_name, a.manager_id, a.manager_name, a.verdict_count, a.verified_count, "
    "a.confirmed_count, a.fake_count, a.unverifiable_count, a.accuracy_rate, a.fake_rate_ht, a.has_veto, "
    "a.status_light"
)


def by_accuracy_problems(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems first: vetoed reps, then lowest accuracy; not yet verified last; ties by name."""
    return sorted(
        rows,
        key=lambda r: (
            not r["has_veto"],
            r["accuracy_rate"] is None,
            r["accuracy_rate"] or 0.0,
            r["unit_name"] or "",
            r["unit_id"],
        ),
    )


def _existing(ctx: PackContext, tables: tuple[str, ...]) -> set[str]:
    found = ctx.rows(
        "select table_schema || '.' || table_name as name from information_schema.tables "
        "where table_schema || '.' || table_name in (" + ", ".join("?" * len(tables)) + ")",
        list(tables),
    )
    return {r["name"] for r in found}


def _region_managers(ctx: PackContext) -> tuple[str, list[Any]]:
    """Managers of the pack's region: those the reps extract puts in it, and managers it does not know
    who manage reps of the region (their files hold their reps' records)."""
    if ctx.audience.region is None:
        return "true", []
    return (
        f"(select rep_id from {REPS_MART} where region = ? "
        f"union select manager_id from {REPS_MART} where region = ? and manager_id is not null "
        f"and manager_id not in (select rep_id from {REPS_MART}))",
        [ctx.audience.region, ctx.audience.region],
    )


def load(ctx: PackContext) -> QualityData:
    region = ctx.audience.region
    needed = (ACCURACY_MART, QUARANTINE_TABLE, SAMPLE_TABLE, *((REPS_MART,) if region else ()))
    existing = _existing(ctx, (*needed, QUALITY_RULES_SEED))
    data = QualityData(
        week_label=ctx.period.label,
        month_start=ctx.period.end.replace(day=1),
        missing=[t for t in needed if t not in existing],
    )
    if region and REPS_MART not in existing:
        return data  # a region's rows cannot be told apart
    in_region, region_params = ctx.in_region("reps.region")
    managers_sql, managers_params = _region_managers(ctx)
    if ACCURACY_MART in existing:
        month = [data.month_start]
        if region is None:
            data.company = (
                ctx.rows(
                    f"select {_ACCURACY_COLUMNS} from {ACCURACY_MART} as a where a.period_type = 'month' "
                    "and a.period_start_date = ? and a.level = 'company'",
                    month,
                )
                or [None]
            )[0]
        else:
            data.managers = ctx.rows(
                f"select {_ACCURACY_COLUMNS} from {ACCURACY_MART} as a where a.period_type = 'month' "
                f"and a.period_start_date = ? and a.level = 'manager' and a.unit_id in {managers_sql} "
                "order by a.unit_name, a.unit_id",
                month + managers_params,
            )
        join = f"left join {REPS_MART} as reps on reps.rep_id = a.unit_id" if region else ""
        data.reps = by_accuracy_problems(
            ctx.rows(
                f"select {_ACCURACY_COLUMNS} from {ACCURACY_MART} as a {join} where a.period_type = 'month' "
                f"and a.period_start_date = ? and a.level = 'rep' and {in_region}",
                month + region_params,
            )
        )
    if QUARANTINE_TABLE in existing:
        data.flags = _flags(ctx, QUALITY_RULES_SEED in existing)
    if SAMPLE_TABLE in existing:
        data.sample = _sample(ctx, ACCURACY_MART in existing)
    return data


def _flags(ctx: PackContext, with_rules: bool) -> list[dict[str, Any]]:
    """Flags first seen up to the week's Sunday (a rebuilt past pack shows what was open then)."""
    description = "description_zh" if ctx.lang == "zh-CN" else "description_en"
    rules = (
        (f"any_value(rules.{description})", f"left join {QUALITY_RULES_SEED} as rules using (rule_id)")
        if with_rules
        else ("null", "")
    )
    reps = f"left join {REPS_MART} as reps on reps.rep_id = flags.rep_id" if ctx.audience.region else ""
    in_region, region_params = ctx.in_region("reps.region")
    return ctx.rows(
        f"""
        select
            flags.rule_id,
            flags.severity,
            any_value(flags.entity) as entity,
            {rules[0]} as description,
            count(*) filter (where flags.first_seen_date >= ?) as new_count,
            count(*) filter (where flags.first_seen_date < ? or flags.first_seen_date is null) as older_count,
            count(*) as total_count
        from {QUARANTINE_TABLE} as flags
        {rules[1]}
        {reps}
        where (flags.first_seen_date <= ? or flags.first_seen_date is null) and {in_region}
        group by flags.rule_id, flags.severity
        order by flags.severity = 'block' desc, count(*) desc, flags.rule_id
        """,
        [ctx.period.start, ctx.period.start, ctx.period.end, *region_params],
    )


def _sample(ctx: PackContext, with_accuracy: bool) -> list[dict[str, Any]]:
    """The week's sample per manager (counts only: no record, no contact), with the verdicts back so far."""
    if with_accuracy:
        returned, fakes = "any_value(accuracy.verdict_count)", "any_value(accuracy.fake_count)"
        join = (
            f"left join {ACCURACY_MART} as accuracy on accuracy.period_type = 'week' "
            "and accuracy.level = 'manager' and accuracy.unit_id = sample.manager_id "
            "and accuracy.period_start_date = sample.week_start_date"
        )
    else:
        returned, fakes, join = "0", "0", ""
    managers_sql, managers_params = _region_managers(ctx)
    where = "true" if ctx.audience.region is None else f"sample.manager_id in {managers_sql}"
    return ctx.rows(
        f"""
        select
            sample.manager_id,
            any_value(sample.manager_name) as manager_name,
            max(sample.population_count) as population_count,
            count(*) filter (where sample.stratum = 1) as stratum1_count,
            count(*) filter (where sample.stratum = 2) as stratum2_count,
            count(*) as sampled_count,
            coalesce({returned}, 0) as returned_count,
            coalesce({fakes}, 0) as fake_count
        from {SAMPLE_TABLE} as sample
        {join}
        where sample.week_start_date = ? and {where}
        group by sample.manager_id
        order by sample.manager_id
        """,
        [ctx.period.start, *managers_params],
    )


# ---------------------------------------------------------------------------------------------- findings


def _month_text(month_start: date, lang: str) -> str:
    return f"{month_start.year}年{month_start.month}月" if lang == "zh-CN" else f"{month_start:%B %Y}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _names(rows: list[dict[str, Any]], lang: str) -> str:
    names = [r["unit_name"] or r["unit_id"] for r in rows[:VETOED_NAMES_SHOWN]]
    if len(rows) <= VETOED_NAMES_SHOWN:
        return i18n.join(names, lang)
    return "、".join(names) + " 等" if lang == "zh-CN" else ", ".join(names) + " and others"


def _rate_with_light(row: dict[str, Any], lang: str) -> str:
    """94.4%（预警） / 94.4% (at risk); 未核实 / not verified when nothing was verified."""
    light = tx("light_" + (row["status_light"] if row["status_light"] in LIGHTS else "none"), lang)
    if row["accuracy_rate"] is None:
        return light if lang == "zh-CN" else light.lower()
    if lang == "zh-CN":
        return f"{i18n.rate(row['accuracy_rate'])}（{light}）"
    return f"{i18n.rate(row['accuracy_rate'])} ({light.lower()})"


def _accuracy_counts(data: QualityData, ctx: PackContext) -> dict[str, Any] | None:
    """The verdict counts the pack states: the company's row, or the sum over the region's reps."""
    if ctx.audience.region is None:
        return data.company
    if not data.reps:
        return None
    return {k: sum(r[k] for r in data.reps) for k in COUNT_KEYS}


def _accuracy_sentence(data: QualityData, ctx: PackContext) -> str:
    lang, month = ctx.lang, _month_text(data.month_start, ctx.lang)
    counts = _accuracy_counts(data, ctx)
    if counts is None:
        return tx("no_verdicts", lang, month=month)
    verified, fake, unverifiable = (counts[k] for k in COUNT_KEYS)
    rated = data.company if data.company and data.company["accuracy_rate"] is not None else None
    managers = [f"{m['unit_name'] or m['unit_id']} {_rate_with_light(m, lang)}" for m in data.managers]
    vetoed = data.vetoed
    if lang == "zh-CN":
        if rated:
            text = f"{month}至今数据准确率 {_rate_with_light(rated, lang)}，已核实 {verified} 条"
        else:
            text = f"{month}至今{'本区域' if ctx.audience.region else ''}已核实 {verified} 条记录"
        text += f"，其中虚假 {fake} 条" + (f"，无法核实 {unverifiable} 条" if unverifiable else "")
        text += f"；各经理数据准确率：{'、'.join(managers)}" if managers else ""
        if vetoed:
            text += f"；{len(vetoed)} 名销售代表因虚假记录被一票否决：{_names(vetoed, lang)}"
        return text + "。"
    records = _plural(verified, "record")
    if rated:
        text = f"Data accuracy for {month} to date is {_rate_with_light(rated, lang)}: {records} verified"
    else:
        where = " of this region" if ctx.audience.region else ""
        text = f"{month} to date, {records}{where} {'was' if verified == 1 else 'were'} verified"
    text += f", {fake} fake" + (f", {unverifiable} unverifiable" if unverifiable else "")
    text += f"; accuracy by manager: {', '.join(managers)}" if managers else ""
    if vetoed:
        text += f"; {_plural(len(vetoed), 'rep')} vetoed for a fake record: {_names(vetoed, lang)}"
    return text + "."


def rule_name(flag: dict[str, Any]) -> str:
    """The rule's description up to its first colon or bracket (what a sentence can carry); a colon
    inside a time of day (15:00) is not a cut."""
    description = (flag.get("description") or "").strip()
    for mark in ("：", ": ", "（", " ("):
        description = description.split(mark)[0].strip()
    return description or flag["rule_id"]


def _flags_sentence(data: QualityData, ctx: PackContext) -> str:
    lang, flags = ctx.lang, data.flags
    if not flags:
        return tx("no_flags", lang)
    total = sum(f["total_count"] for f in flags)
    new = sum(f["new_count"] for f in flags)
    block = sum(f["total_count"] for f in flags if f["severity"] == "block")
    top = sorted(flags, key=lambda f: (-f["total_count"], f["rule_id"]))[0]
    if lang == "zh-CN":
        text = f"待处理数据问题 {total} 条" + (f"（其中拦截级 {block} 条）" if block else "")
        text += f"，本周新增 {new} 条" if new else "，本周无新增"
        return text + f"；最多的是“{rule_name(top)}”（{top['total_count']} 条）。"
    text = f"{_plural(total, 'quality flag')} {'is' if total == 1 else 'are'} open"
    text += f" ({block} blocking)" if block else ""
    text += f", {new} new this week" if new else ", none new this week"
    return text + f"; the most frequent rule: “{rule_name(top)}” ({top['total_count']})."


def _sample_sentence(data: QualityData, ctx: PackContext) -> str:
    lang, week, sample = ctx.lang, data.week_label, data.sample
    if not sample:
        return tx("no_sample", lang, week=week)
    sampled = sum(s["sampled_count"] for s in sample)
    returned = sum(s["returned_count"] for s in sample)
    fake = sum(s["fake_count"] for s in sample)
    if lang == "zh-CN":
        text = f"本周（{week}）电话核查样本 {sampled} 条，分给 {len(sample)} 名经理"
        text += f"；已返回结论 {returned} 条，其中虚假 {fake} 条" if returned else "；尚未返回结论"
        return text + "。"
    text = (
        f"This week's phone-verification sample ({week}): {_plural(sampled, 'record')} "
        f"for {_plural(len(sample), 'manager')}"
    )
    text += (
        f"; {_plural(returned, 'verdict')} returned so far, {fake} fake" if returned else "; no verdicts yet"
    )
    return text + "."


def findings(data: QualityData, ctx: PackContext) -> list[str]:
    """2026年11月至今数据准确率 94.4%（预警），已核实 18 条，其中虚假 1 条…；待处理数据问题 7 条…；
    本周（2026-W47）电话核查样本 5 条，分给 2 名经理；已返回结论 4 条，其中虚假 1 条。"""
    return [_accuracy_sentence(data, ctx), _flags_sentence(data, ctx), _sample_sentence(data, ctx)]


# ---------------------------------------------------------------------------------------------- page


def accuracy_lights(markup: str, lang: str) -> str:
    """The status lights of `markup` (components.light_badge) with the data-accuracy words: the mart's
    'none' means nothing verified yet, not 'no target'."""
    for key in LIGHTS:
        generic = light_badge(key, lang)
        words = esc(i18n.t("light_" + key, lang))
        markup = markup.replace(
            generic,
            generic.replace(f"</span>{words}</span>", f"</span>{esc(tx('light_' + key, lang))}</span>"),
        )
    return markup


class _AccuracyDownloads:
    """The pack context, with the accuracy words for the lights in the table downloads."""

    def __init__(self, ctx: PackContext):
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def write_table(self, table_id: str, header: list[str], rows: list[list[Any]]) -> list[tuple[str, str]]:
        lang = self._ctx.lang
        words = {i18n.t("light_" + k, lang): tx("light_" + k, lang) for k in LIGHTS}
        status = i18n.t("status", lang)
        index = header.index(status) if status in header else None
        if index is not None:
            rows = [[*r[:index], words.get(r[index], r[index]), *r[index + 1 :]] for r in rows]
        return self._ctx.write_table(table_id, header, rows)


def _kpis(data: QualityData, ctx: PackContext) -> str:
    """The company's accuracy (or each of the region's managers'), the verdict counts, the reps vetoed."""
    lang = ctx.lang
    counts = _accuracy_counts(data, ctx)
    if counts is None:
        month = _month_text(data.month_start, lang)
        return f'<p class="srw-empty" data-kpi="accuracy">{esc(tx("no_verdicts", lang, month=month))}</p>'
    rated = [data.company] if ctx.audience.region is None else data.managers
    cards = [
        Kpi(
            "accuracy" if row["level"] == "company" else f"accuracy-{row['unit_id']}",
            tx("accuracy", lang)
            if row["level"] == "company"
            else tx("accuracy_of", lang, name=row["unit_name"] or row["unit_id"]),
            row["accuracy_rate"],
            "rate",
            light=row["status_light"] if row["status_light"] in LIGHTS else "none",
        )
        for row in rated
    ]
    cards += [
        Kpi("verified", tx("verified", lang), counts["verified_count"], "int"),
        Kpi("fake", tx("fake", lang), counts["fake_count"], "int"),
        Kpi("unverifiable", tx("unverifiable", lang), counts["unverifiable_count"], "int"),
        Kpi("vetoed_reps", tx("vetoed_reps", lang), len(data.vetoed), "int"),
    ]
    return accuracy_lights(kpi_cards(ctx, cards), lang)


def _accuracy_table(data: QualityData, ctx: PackContext) -> str:
    lang = ctx.lang
    if not data.reps:
        return ""  # the cards' place already says that no verdict is back
    month = _month_text(data.month_start, lang)
    rows = [
        {
            **r,
            "rep": r["unit_name"] or r["unit_id"],
            "light": r["status_light"] if r["status_light"] in LIGHTS else "none",
            "veto": tx("veto", lang) if r["has_veto"] else i18n.MISSING,
        }
        for r in data.reps
    ]
    columns = [
        Column("rep", i18n.t("rep", lang)),
        Column("manager_name", tx("manager", lang)),
        Column("verified_count", tx("verified", lang), "int"),
        Column("confirmed_count", tx("confirmed", lang), "int"),
        Column("fake_count", tx("fake", lang), "int"),
        Column("unverifiable_count", tx("unverifiable", lang), "int"),
        Column("accuracy_rate", tx("accuracy", lang), "rate"),
        Column("fake_rate_ht", tx("fake_rate_ht", lang), "rate"),
        Column("light", i18n.t("status", lang), "light"),
        Column("veto", tx("veto", lang)),
    ]
    markup = table(
        _AccuracyDownloads(ctx),  # type: ignore[arg-type]
        "quality_accuracy",
        columns,
        rows,
        caption=tx("accuracy_title", lang, month=month),
        row_key="unit_id",
    )
    return accuracy_lights(markup, lang)


def _flags_table(data: QualityData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {
            **f,
            "severity_text": tx("severity_" + f["severity"], lang)
            if f["severity"] in ("block", "warn")
            else f["severity"],
            "entity_text": tx("entity_" + f["entity"], lang)
            if f["entity"] and "entity_" + f["entity"] in tx.texts
            else f["entity"],
            "description": f["description"] or i18n.MISSING,
        }
        for f in data.flags
    ]
    if rows:
        rows.append(
            {
                "rule_id": "total",
                "rule": tx("total", lang),
                "new_count": sum(f["new_count"] for f in data.flags),
                "older_count": sum(f["older_count"] for f in data.flags),
                "total_count": sum(f["total_count"] for f in data.flags),
            }
        )
    for row in rows:
        row.setdefault("rule", row["rule_id"])
    columns = [
        Column("rule", tx("rule", lang)),
        Column("description", tx("description", lang)),
        Column("severity_text", tx("severity", lang)),
        Column("entity_text", tx("entity", lang)),
        Column("new_count", tx("new", lang), "int"),
        Column("older_count", tx("older", lang), "int"),
        Column("total_count", tx("total", lang), "int"),
    ]
    return table(
        ctx,
        "quality_flags",
        columns,
        rows,
        caption=tx("flags_title", lang),
        row_key="rule_id",
        empty=tx("no_flags", lang),
    )


def _file_links(week: str, who: str) -> str:
    return " · ".join(
        f'<a href="{esc(VERIFICATION_HREF.format(week=week, who=who, ext=ext))}">{label}</a>'
        for ext, label in (("xlsx", "Excel"), ("csv", "CSV"))
    )


def _sample_table(data: QualityData, ctx: PackContext) -> str:
    lang, week = ctx.lang, data.week_label
    if not data.sample:
        return f'<p class="srw-empty" data-table="quality_sample">{esc(tx("no_sample", lang, week=week))}</p>'
    count_keys = ("population_count", "stratum1_count", "stratum2_count", "sampled_count", "returned_count",
                  "fake_count")  # fmt: skip
    rows = [{**s, "manager": s["manager_name"] or s["manager_id"]} for s in data.sample]
    rows.append(
        {
            "manager_id": "all",
            "manager": tx("total", lang),
            **{k: sum(s[k] for s in data.sample) for k in count_keys},
        }
    )
    columns = [
        Column("manager", tx("manager", lang)),
        Column("population_count", tx("population", lang), "int"),
        Column("stratum1_count", tx("stratum1", lang), "int"),
        Column("stratum2_count", tx("stratum2", lang), "int"),
        Column("sampled_count", tx("sampled", lang), "int"),
        Column("returned_count", tx("returned", lang), "int"),
        Column("fake_count", tx("fake", lang), "int"),
    ]
    markup = table(
        ctx,
        "quality_sample",
        columns,
        rows,
        caption=tx("sample_title", lang, week=week),
        row_key="manager_id",
    )
    # The managers' own files; the file of everyone (all regions' records) only in the company pack.
    files = [
        f'<span data-manager-id="{esc(s["manager_id"])}">{esc(s["manager_name"] or s["manager_id"])} '
        f"{_file_links(week, s['manager_id'])}</span>"
        for s in data.sample
    ]
    if ctx.audience.region is None:
        files.append(
            f'<span data-manager-id="all">{esc(tx("everyone", lang))} {_file_links(week, "all")}</span>'
        )
    colon, separator = ("：", "；") if lang == "zh-CN" else (": ", "; ")
    label = esc(tx("files", lang)) + colon
    return markup + f'<p class="srw-downloads srw-verification-files">{label}{separator.join(files)}</p>'


def _missing_note(data: QualityData, ctx: PackContext) -> str:
    if not data.missing:
        return ""
    return f'<p class="srw-note">{esc(tx("not_built", ctx.lang, tables=", ".join(data.missing)))}</p>'


def render(ctx: PackContext) -> QualityData:
    data = load(ctx)
    section(
        "quality",
        i18n.t("quality", ctx.lang),
        findings(data, ctx),
        _missing_note(data, ctx),
        _kpis(data, ctx),
        _accuracy_table(data, ctx),
        _flags_table(data, ctx),
        _sample_table(data, ctx),
    )
    return data
