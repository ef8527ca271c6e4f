-- Won money agrees across the funnel, attainment and the ERP (reconciliation), week by week:
--   1. per ISO week, the company's won amount in the funnel (fct_win_rate, week grain), in the
--      pipeline waterfall (company rows, weeks it covers) and in fct_attainment_weekly are equal;
--   2. a won amount that differs from its ERP orders (phases summed) is real business (a discount at
--      signing, a change order): it is the warn rule won_amount_differs_from_order in quality.quarantine
--      with the difference as its amount, not a failed build; won deals without any ERP order are
--      won_without_order.
-- Returns one row per disagreement (the test fails when any row comes back).
{{ config(meta={'dagster': {'ref': {'name': 'fct_attainment_weekly'}}}) }}  {#- its asset check in Dagster -#}
with

funnel_weeks as (
    select period_start_date as week_start_date, won_amount
    from {{ ref('fct_win_rate') }}
    where period_grain = 'week' and dimension = 'company'
),

waterfall_weeks as (
    select week_start_date, won_amount
    from {{ ref('fct_pipeline_waterfall_weekly') }}
    where level = 'company'
),

attainment_weeks as (
    select week_start_date, actual_amount
    from {{ ref('fct_attainment_weekly') }}
    where level = 'company'
),

weekly_disagreements as (

    select
        'week ' || cast(coalesce(funnel_weeks.week_start_date, attainment_weeks.week_start_date) as string)
            as what,
        coalesce(funnel_weeks.won_amount, 0) as funnel_amount,
        coalesce(attainment_weeks.actual_amount, 0) as other_amount
    from funnel_weeks
    full outer join attainment_weeks
        on funnel_weeks.week_start_date = attainment_weeks.week_start_date
    where coalesce(funnel_weeks.won_amount, 0) != coalesce(attainment_weeks.actual_amount, 0)

    union all

    select
        'waterfall week ' || cast(waterfall_weeks.week_start_date as string) as what,
        waterfall_weeks.won_amount as funnel_amount,
        coalesce(funnel_weeks.won_amount, 0) as other_amount
    from waterfall_weeks
    left join funnel_weeks
        on waterfall_weeks.week_start_date = funnel_weeks.week_start_date
    where waterfall_weeks.won_amount != coalesce(funnel_weeks.won_amount, 0)

),

final as (
    select * from weekly_disagreements
)

select * from final
