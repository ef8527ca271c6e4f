-- Warns when the working calendar (seed working_calendar, CN rows) ends less than
-- var working_calendar_lead_days (30) days after the as-of date. Days beyond it are judged Monday to
-- Friday, so a public holiday there would be flagged as a day without activity (missing_activity_day).
-- Upgrade the chinese-calendar package once the State Council has announced the next year (usually in
-- November), run `salesreview refresh-calendar`, and build again.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'working_calendar'}}}) }}  {#- its asset check in Dagster -#}
with

as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

covered as (

    select max(calendar_date) as last_covered_date
    from {{ ref('working_calendar') }}
    where region = 'CN'

)

select
    covered.last_covered_date,
    as_of.as_of_date,
    '工作日历只到 ' || coalesce({{ format_timestamp('covered.last_covered_date', '%Y-%m-%d') }}, '（空）')
    || '，之后的日期按周一至周五判断（节假日也算工作日）：请升级 chinese-calendar 并运行 salesreview refresh-calendar'
    || ' / the working calendar ends on ' || coalesce({{ format_timestamp('covered.last_covered_date', '%Y-%m-%d') }}, '(empty)')
    || ': later days are judged Monday-Friday, holidays included; upgrade chinese-calendar and run'
    || ' salesreview refresh-calendar' as message
from as_of
cross join covered
where
    covered.last_covered_date is null
    or covered.last_covered_date < as_of.as_of_date + {{ var('working_calendar_lead_days') }}
