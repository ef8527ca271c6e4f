-- The week rows of fct_attainment_periods are the weekly mart's rows: same units and weeks, same
-- target, actual and won deals (both spread targets per day and round once per rep and week).
-- Returns the rows that are missing on either side or disagree.
{{ config(meta={'dagster': {'ref': {'name': 'fct_attainment_periods'}}}) }}  {#- its asset check in Dagster -#}
with

period_weeks as (
    select * from {{ ref('fct_attainment_periods') }}
    where period_type = 'week'
),

weekly as (
    select * from {{ ref('fct_attainment_weekly') }}
),

final as (

    select
        coalesce(period_weeks.attainment_period_id, 'week:' || weekly.attainment_id) as attainment_period_id,
        period_weeks.target_amount as periods_target,
        weekly.target_amount as weekly_target,
        period_weeks.actual_amount as periods_actual,
        weekly.actual_amount as weekly_actual
    from period_weeks
    full outer join weekly
        on period_weeks.attainment_period_id = 'week:' || weekly.attainment_id
    where
        period_weeks.attainment_period_id is null
        or weekly.attainment_id is null
        or period_weeks.target_amount != weekly.target_amount
        or period_weeks.actual_amount != weekly.actual_amount
        or period_weeks.won_deal_count != weekly.won_deal_count
        or period_weeks.status_light != weekly.status_light

)

select * from final
