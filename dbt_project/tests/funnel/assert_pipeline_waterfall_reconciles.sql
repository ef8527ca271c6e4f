-- The weekly pipeline waterfall reconciles (returns one row per break; the test fails on any row):
--   1. every row: open at start + created - won - lost + amount changes = open at end;
--   2. every complete week's open at end = the next week's open at start (same unit);
--   3. the company's open at end = the daily pipeline snapshot's amount on the week's last snapshot day;
--   4. the company row = the sum of its region rows = the sum of its rep rows, for every measure.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_waterfall_weekly'}}}) }}  {#- its asset check in Dagster -#}
with

waterfall as (
    select * from {{ ref('fct_pipeline_waterfall_weekly') }}
),

identity_breaks as (

    select
        waterfall_id as what,
        open_start_amount + created_amount - won_amount - lost_amount + amount_change as expected_amount,
        open_end_amount as actual_amount
    from waterfall
    where open_start_amount + created_amount - won_amount - lost_amount + amount_change != open_end_amount

),

continuity_breaks as (

    select
        this_week.waterfall_id || ' -> next week' as what,
        this_week.open_end_amount as expected_amount,
        next_week.open_start_amount as actual_amount
    from waterfall as this_week
    inner join waterfall as next_week
        on
            this_week.level = next_week.level
            and this_week.unit_id = next_week.unit_id
            and next_week.week_start_date = this_week.week_start_date + interval 7 day
    where this_week.open_end_amount != next_week.open_start_amount

),

snapshot_totals as (

    select snapshot_date, sum(amount) as amount
    from {{ ref('fct_pipeline_daily') }}
    group by snapshot_date

),

snapshot_breaks as (

    select
        waterfall.waterfall_id || ' vs fct_pipeline_daily' as what,
        coalesce(snapshot_totals.amount, 0) as expected_amount,
        waterfall.open_end_amount as actual_amount
    from waterfall
    left join snapshot_totals
        on waterfall.week_end_snapshot_date = snapshot_totals.snapshot_date
    where waterfall.level = 'company' and waterfall.open_end_amount != coalesce(snapshot_totals.amount, 0)

),

level_sums as (

    select
        week_start_date,
        level,
        sum(open_start_amount) as open_start_amount,
        sum(created_amount) as created_amount,
        sum(won_amount) as won_amount,
        sum(lost_amount) as lost_amount,
        sum(amount_change) as amount_change,
        sum(open_end_amount) as open_end_amount
    from waterfall
    group by week_start_date, level

),

level_breaks as (

    select
        cast(company.week_start_date as string) || ' company vs ' || other.level as what,
        company.open_end_amount as expected_amount,
        other.open_end_amount as actual_amount
    from level_sums as company
    inner join level_sums as other
        on company.week_start_date = other.week_start_date and other.level != 'company'
    where
        company.level = 'company'
        and (
            company.open_start_amount != other.open_start_amount
            or company.created_amount != other.created_amount
            or company.won_amount != other.won_amount
            or company.lost_amount != other.lost_amount
            or company.amount_change != other.amount_change
            or company.open_end_amount != other.open_end_amount
        )

),

final as (
    select * from identity_breaks
    union all
    select * from continuity_breaks
    union all
    select * from snapshot_breaks
    union all
    select * from level_breaks
)

select * from final
