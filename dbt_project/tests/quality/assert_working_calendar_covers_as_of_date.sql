-- Warns when the working calendar (seed working_calendar, CN rows) does not cover the days the rules
-- judge, up to the as-of date: those days are judged Monday to Friday, so a public holiday there would
-- be flagged as a day without activity. Run `salesreview refresh-calendar` (after upgrading the
-- chinese-calendar package once the State Council has announced the year) and build again.
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
    '工作日历只覆盖到 ' || coalesce(strftime(covered.last_covered_date, '%Y-%m-%d'), '（空）')
    || '，之后的日期按周一至周五判断：请运行 salesreview refresh-calendar / the working calendar ends on '
    || coalesce(strftime(covered.last_covered_date, '%Y-%m-%d'), '(empty)')
    || ': later days are judged Monday-Friday, run salesreview refresh-calendar' as message
from as_of
cross join covered
where covered.last_covered_date is null or covered.last_covered_date < as_of.as_of_date
