-- Next week's and next quarter's plan (fct_plan_periods) decomposed down to reps (倒推法, 002;
-- 004 §2.5.1: next week 100万 = 30 + 25 + 20 + 25), with the teams, regions and the company as the
-- sums of their reps, so every part adds up exactly to its whole.
-- A rep's share blends (vars plan_rep_weight_history / plan_rep_weight_pipeline):
--   history share   the rep's wins over the last var plan_history_months complete months / all quota reps'
--   pipeline share  the rep's weighted open pipeline promised in the plan period / all quota reps'
-- (a part with no data on the company level drops out of the blend; neither -> equal shares). Quota
-- reps: role in var plan_quota_roles, hired by the period's end, not left before its start. The
-- cents are allocated by the largest remainder (macro allocate_cents, ties by rep_id). Targets the
-- extract already holds for the period are shown next to the plan.
with

plan_periods as (
    select * from {{ ref('fct_plan_periods') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

open_opportunities as (
    select * from {{ ref('int_open_opportunities') }}
),

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

horizons as (

    select
        case when is_next_week then 'next_week' else 'next_quarter' end as plan_horizon,
        period_start_date,
        period_end_date,
        period_label,
        cast(round(plan_amount * 100) as bigint) as whole_cents
    from plan_periods
    where is_next_week or is_next_quarter

),

history_window as (

    -- the same complete months the plan's monthly level comes from
    select
        cast(
            date_trunc('month', as_of_date + 1) - interval {{ var('plan_history_months') }} month
            as date
        ) as first_day,
        cast(date_trunc('month', as_of_date + 1) - interval 1 day as date) as last_day
    from warehouse_as_of

),

quota_reps as (

    select
        horizons.plan_horizon,
        reps.rep_id
    from horizons
    inner join reps
        on
            reps.role in ({% for role in var('plan_quota_roles') %}'{{ role }}'{% if not loop.last %}, {% endif %}{% endfor %})
            and (reps.hire_date is null or reps.hire_date <= horizons.period_end_date)
            and (reps.leave_date is null or reps.leave_date >= horizons.period_start_date)

),

rep_extract_targets as (

    select
        horizons.plan_horizon,
        targets_daily.rep_id,
        cast(round(sum(targets_daily.target_amount_daily), 2) as decimal(18, 2)) as extract_target_amount
    from horizons
    inner join targets_daily
        on targets_daily.target_date between horizons.period_start_date and horizons.period_end_date
    group by 1, 2

),

candidates as (

    -- quota reps, plus any rep the extract gives a target for the period (share 0 unless a quota rep)
    select plan_horizon, rep_id from quota_reps
    union
    select plan_horizon, rep_id from rep_extract_targets

),

rep_history as (

    select
        won_opportunities.owner_rep_id as rep_id,
        sum(won_opportunities.amount) as history_won_amount
    from won_opportunities
    cross join history_window
    where won_opportunities.closed_date between history_window.first_day and history_window.last_day
    group by 1

),

rep_pipeline as (

    select
        horizons.plan_horizon,
        open_opportunities.owner_rep_id as rep_id,
        sum(open_opportunities.weighted_amount) as weighted_pipeline_amount,
        count(*) as open_deal_count
    from horizons
    inner join open_opportunities
        on open_opportunities.expected_close_date between horizons.period_start_date and horizons.period_end_date
    group by 1, 2

),

rep_inputs as (

    select
        candidates.plan_horizon,
        candidates.rep_id,
        quota_reps.rep_id is not null as is_quota_rep,
        coalesce(rep_history.history_won_amount, 0) as history_won_amount,
        coalesce(rep_pipeline.weighted_pipeline_amount, 0) as weighted_pipeline_amount,
        coalesce(rep_pipeline.open_deal_count, 0) as open_deal_count,
        rep_extract_targets.extract_target_amount
    from candidates
    left join quota_reps
        on candidates.plan_horizon = quota_reps.plan_horizon and candidates.rep_id = quota_reps.rep_id
    left join rep_history
        on candidates.rep_id = rep_history.rep_id
    left join rep_pipeline
        on candidates.plan_horizon = rep_pipeline.plan_horizon and candidates.rep_id = rep_pipeline.rep_id
    left join rep_extract_targets
        on
            candidates.plan_horizon = rep_extract_targets.plan_horizon
            and candidates.rep_id = rep_extract_targets.rep_id

),

rep_totals as (

    select
        plan_horizon,
        sum(history_won_amount) filter (where is_quota_rep) as history_total,
        sum(weighted_pipeline_amount) filter (where is_quota_rep) as pipeline_total,
        count(*) filter (where is_quota_rep) as quota_rep_count
    from rep_inputs
    group by 1

),

rep_shares as (

    select
        rep_inputs.*,
        case
            when rep_inputs.is_quota_rep and rep_totals.history_total > 0
                -- shares in decimal(20, 10): they are summed per team, region and company below,
                -- and a sum of doubles depends on the order DuckDB's threads add them; 20 digits so
                -- that weight x share stays exact on every engine (Spark rounds wider decimal products)
                then cast(
                    cast(rep_inputs.history_won_amount as double) / cast(rep_totals.history_total as double)
                    as decimal(20, 10)
                )
            else 0
        end as history_share,
        case
            when rep_inputs.is_quota_rep and rep_totals.pipeline_total > 0
                then cast(
                    cast(rep_inputs.weighted_pipeline_amount as double) / cast(rep_totals.pipeline_total as double)
                    as decimal(20, 10)
                )
            else 0
        end as pipeline_share,
        case when rep_totals.history_total > 0 then {{ var('plan_rep_weight_history') }} else 0 end
            as history_weight,
        case when rep_totals.pipeline_total > 0 then {{ var('plan_rep_weight_pipeline') }} else 0 end
            as pipeline_weight,
        rep_totals.quota_rep_count
    from rep_inputs
    inner join rep_totals
        on rep_inputs.plan_horizon = rep_totals.plan_horizon

),

rep_weights as (

    select
        rep_shares.*,
        case
            when not rep_shares.is_quota_rep then 0
            when rep_shares.history_weight + rep_shares.pipeline_weight > 0
                then cast(
                    rep_shares.history_weight * rep_shares.history_share
                    + rep_shares.pipeline_weight * rep_shares.pipeline_share
                    as double
                ) / cast(rep_shares.history_weight + rep_shares.pipeline_weight as double)
            else 1 / cast(rep_shares.quota_rep_count as double)
        end as plan_share,
        horizons.whole_cents
    from rep_shares
    inner join horizons
        on rep_shares.plan_horizon = horizons.plan_horizon

),

to_allocate as (
    select * from rep_weights where plan_share > 0
),

allocated as (
    {{ allocate_cents('to_allocate', ['plan_horizon'], 'whole_cents', 'plan_share', 'rep_id') }}
),

rep_plans as (

    select
        rep_weights.*,
        coalesce(allocated.allocated_cents, 0) as plan_cents,
        coalesce(reps.rep_name, rep_weights.rep_id) as rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region
    from rep_weights
    left join allocated
        on rep_weights.plan_horizon = allocated.plan_horizon and rep_weights.rep_id = allocated.rep_id
    left join reps
        on rep_weights.rep_id = reps.rep_id

),

all_levels as (

    select
        plan_horizon, 'rep' as level, rep_id as unit_id, rep_name as unit_name, region, team_id, team_name,
        plan_cents, history_won_amount, weighted_pipeline_amount, open_deal_count, extract_target_amount,
        history_share, pipeline_share
    from rep_plans

    union all

    select
        plan_horizon, 'team', team_id, min(team_name), min(region), team_id, min(team_name),
        sum(plan_cents), sum(history_won_amount), sum(weighted_pipeline_amount), sum(open_deal_count),
        sum(extract_target_amount), sum(history_share), sum(pipeline_share)
    from rep_plans
    group by plan_horizon, team_id

    union all

    select
        plan_horizon, 'region', region, region, region, null, null,
        sum(plan_cents), sum(history_won_amount), sum(weighted_pipeline_amount), sum(open_deal_count),
        sum(extract_target_amount), sum(history_share), sum(pipeline_share)
    from rep_plans
    group by plan_horizon, region

    union all

    select
        plan_horizon, 'company', 'company', '全公司', null, null, null,
        sum(plan_cents), sum(history_won_amount), sum(weighted_pipeline_amount), sum(open_deal_count),
        sum(extract_target_amount), sum(history_share), sum(pipeline_share)
    from rep_plans
    group by plan_horizon

),

final as (

    select
        all_levels.plan_horizon || ':' || all_levels.level || ':' || all_levels.unit_id as plan_target_id,
        all_levels.plan_horizon,
        horizons.period_start_date,
        horizons.period_end_date,
        horizons.period_label,
        all_levels.level,
        all_levels.unit_id,
        all_levels.unit_name,
        cast(all_levels.region as string) as region,
        cast(all_levels.team_id as string) as team_id,
        cast(all_levels.team_name as string) as team_name,
        cast(all_levels.plan_cents / 100 as decimal(18, 2)) as plan_amount,
        case
            when horizons.whole_cents = 0 then null
            else cast(all_levels.plan_cents as double) / horizons.whole_cents
        end as plan_share,
        cast(all_levels.history_won_amount as decimal(18, 2)) as history_won_amount,
        cast(round(all_levels.history_share, 6) as double) as history_share,
        cast(all_levels.weighted_pipeline_amount as decimal(18, 2)) as weighted_pipeline_amount,
        cast(all_levels.open_deal_count as integer) as open_deal_count,
        cast(round(all_levels.pipeline_share, 6) as double) as pipeline_share,
        case
            when all_levels.plan_cents = 0 then null
            else cast(all_levels.weighted_pipeline_amount as double) / (all_levels.plan_cents / 100)
        end as pipeline_coverage_rate,
        all_levels.extract_target_amount,
        cast(all_levels.plan_cents / 100 - all_levels.extract_target_amount as decimal(18, 2))
            as plan_minus_extract_target_amount
    from all_levels
    inner join horizons
        on all_levels.plan_horizon = horizons.plan_horizon

)

select * from final
