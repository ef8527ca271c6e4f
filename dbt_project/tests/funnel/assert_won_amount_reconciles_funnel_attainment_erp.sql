-- Won money agrees across the funnel, attainment and the ERP (reconciliation), week by week:
--   1. per ISO week, the company's won amount in the funnel (fct_win_rate, week grain), in the
--      pipeline waterfall (company rows, weeks it covers) and in fct_attainment_weekly are equal;
--   2. per won opportunity that has ERP orders (clean_erp__sales_orders, cancelled orders left out),
--      the CRM amount equals the orders' amount. Won deals without any ERP order are a data-quality
--      finding (quality area), not a reconciliation failure.
-- Returns one row per disagreement (the test fails when any row comes back).
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
        'week ' || strftime(coalesce(funnel_weeks.week_start_date, attainment_weeks.week_start_date), '%Y-%m-%d')
            as what,
        coalesce(funnel_weeks.won_amount, 0) as funnel_amount,
        coalesce(attainment_weeks.actual_amount, 0) as other_amount
    from funnel_weeks
    full outer join attainment_weeks
        on funnel_weeks.week_start_date = attainment_weeks.week_start_date
    where coalesce(funnel_weeks.won_amount, 0) != coalesce(attainment_weeks.actual_amount, 0)

    union all

    select
        'waterfall week ' || strftime(waterfall_weeks.week_start_date, '%Y-%m-%d') as what,
        waterfall_weeks.won_amount as funnel_amount,
        coalesce(funnel_weeks.won_amount, 0) as other_amount
    from waterfall_weeks
    left join funnel_weeks
        on waterfall_weeks.week_start_date = funnel_weeks.week_start_date
    where waterfall_weeks.won_amount != coalesce(funnel_weeks.won_amount, 0)

),

orders_by_opportunity as (
    select opportunity_id, sum(order_amount) as order_amount
    from {{ ref('clean_erp__sales_orders') }}
    where opportunity_id is not null and coalesce(status, '') != 'cancelled'
    group by opportunity_id
),

erp_disagreements as (

    select
        'opportunity ' || won.opportunity_id as what,
        won.amount as funnel_amount,
        orders_by_opportunity.order_amount as other_amount
    from {{ ref('int_won_opportunities') }} as won
    inner join orders_by_opportunity
        on won.opportunity_id = orders_by_opportunity.opportunity_id
    where won.amount != orders_by_opportunity.order_amount

),

final as (
    select * from weekly_disagreements
    union all
    select * from erp_disagreements
)

select * from final
