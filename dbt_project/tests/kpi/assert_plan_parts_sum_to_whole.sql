-- The plan's parts add up exactly to their whole (倒推法): in fct_plan_periods the quarters to their
-- year and the months to their quarter; in fct_plan_targets the reps to their team, region and the
-- company, and the company to the period's plan in fct_plan_periods. Returns the wholes that disagree.
{{ config(meta={'dagster': {'ref': {'name': 'fct_plan_targets'}}}) }}  {#- its asset check in Dagster -#}
with

plan_periods as (
    select * from {{ ref('fct_plan_periods') }}
),

plan_targets as (
    select * from {{ ref('fct_plan_targets') }}
),

chain_failures as (

    select
        'children vs parent period' as check_name,
        parents.plan_period_id as whole_id,
        parents.plan_amount as whole_amount,
        sum(children.plan_amount) as parts_amount
    from plan_periods as parents
    inner join plan_periods as children
        on
            children.parent_plan_period_id = parents.plan_period_id
            and children.period_type != 'week'
    group by 1, 2, 3
    having sum(children.plan_amount) != parents.plan_amount

),

rep_rows as (
    select * from plan_targets where level = 'rep'
),

unit_sums as (

    select plan_horizon, 'team' as level, team_id as unit_id, sum(plan_amount) as parts_amount
    from rep_rows
    group by 1, 2, 3
    union all
    select plan_horizon, 'region', region, sum(plan_amount)
    from rep_rows
    group by 1, 2, 3
    union all
    select plan_horizon, 'company', 'company', sum(plan_amount)
    from rep_rows
    group by 1, 2, 3

),

unit_failures as (

    select
        'reps vs ' || plan_targets.level as check_name,
        plan_targets.plan_target_id as whole_id,
        plan_targets.plan_amount as whole_amount,
        unit_sums.parts_amount
    from plan_targets
    inner join unit_sums
        on
            plan_targets.plan_horizon = unit_sums.plan_horizon
            and plan_targets.level = unit_sums.level
            and plan_targets.unit_id = unit_sums.unit_id
    where plan_targets.plan_amount != unit_sums.parts_amount

),

company_failures as (

    -- the company's rows equal the plan of the period (when there is a quota rep to carry it)
    select
        'company vs plan period' as check_name,
        plan_periods.plan_period_id as whole_id,
        plan_periods.plan_amount as whole_amount,
        plan_targets.plan_amount as parts_amount
    from plan_periods
    inner join plan_targets
        on
            plan_targets.level = 'company'
            and plan_targets.period_start_date = plan_periods.period_start_date
            and (
                (plan_targets.plan_horizon = 'next_week' and plan_periods.is_next_week)
                or (plan_targets.plan_horizon = 'next_quarter' and plan_periods.is_next_quarter)
            )
    where plan_targets.plan_amount != plan_periods.plan_amount

),

final as (
    select * from chain_failures
    union all
    select * from unit_failures
    union all
    select * from company_failures
)

select * from final
