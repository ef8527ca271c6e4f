-- Money must agree across layers (reconciliation): over all weeks that have started by the as-of
-- date, the company's actual equals the won opportunities' amount, and its target equals the rep
-- targets' daily amounts up to the cent rounding of each rep-week. Returns a row (fails) when either
-- disagrees.
{{ config(meta={'dagster': {'ref': {'name': 'fct_attainment_weekly'}}}) }}  {#- its asset check in Dagster -#}
with

reported_weeks_end as (
    -- the Sunday of the as-of date's week: the mart's last week
    select cast(date_trunc('week', as_of_date) + interval 6 day as date) as last_day
    from {{ ref('warehouse_as_of') }}
),

company as (
    select
        coalesce(sum(actual_amount), 0) as actual_amount,
        coalesce(sum(target_amount), 0) as target_amount
    from {{ ref('fct_attainment_weekly') }}
    where level = 'company'
),

rep_week_count as (
    select count(*) as rep_weeks
    from {{ ref('fct_attainment_weekly') }}
    where level = 'rep'
),

won as (
    select coalesce(sum(amount), 0) as amount
    from {{ ref('int_won_opportunities') }}
    where closed_date is not null
),

targets as (
    select coalesce(sum(target_amount_daily), 0) as amount
    from {{ ref('int_targets_spread_daily') }}
    where target_date <= (select last_day from reported_weeks_end)
),

final as (
    select
        company.actual_amount as company_actual,
        won.amount as won_amount,
        company.target_amount as company_target,
        targets.amount as daily_target_total
    from company
    cross join won
    cross join targets
    cross join rep_week_count
    where
        company.actual_amount != won.amount
        or abs(company.target_amount - targets.amount) > 0.005 * rep_week_count.rep_weeks + 0.000001
)

select * from final
