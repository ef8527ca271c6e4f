-- Key deals for the plan (重点商机): open deals promised to sign next week or next quarter (the
-- periods of fct_plan_periods), with owner, amount, probability band, promised date and next step,
-- ranked by weighted amount (amount x probability) within the horizon. Slipped deals (promised date
-- already passed) are not in a horizon: they are in fct_attainment_gap_deals and the funnel marts.
with

plan_periods as (
    select * from {{ ref('fct_plan_periods') }}
),

open_opportunities as (
    select * from {{ ref('int_open_opportunities') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

horizons as (

    select
        case when is_next_week then 'next_week' else 'next_quarter' end as plan_horizon,
        period_start_date,
        period_end_date,
        period_label
    from plan_periods
    where is_next_week or is_next_quarter

),

horizon_deals as (

    select
        horizons.*,
        open_opportunities.*
    from horizons
    inner join open_opportunities
        on open_opportunities.expected_close_date between horizons.period_start_date and horizons.period_end_date

),

ranked as (

    select
        horizon_deals.*,
        row_number() over (
            partition by horizon_deals.plan_horizon
            order by horizon_deals.weighted_amount desc, horizon_deals.amount desc, horizon_deals.opportunity_id
        ) as deal_rank,
        sum(horizon_deals.weighted_amount) over (
            partition by horizon_deals.plan_horizon
            order by horizon_deals.weighted_amount desc, horizon_deals.amount desc, horizon_deals.opportunity_id
            rows between unbounded preceding and current row
        ) as cumulative_weighted_amount
    from horizon_deals

),

final as (

    select
        ranked.plan_horizon || ':' || ranked.opportunity_id as plan_key_deal_id,
        ranked.plan_horizon,
        ranked.period_start_date,
        ranked.period_end_date,
        ranked.period_label,
        cast(ranked.deal_rank as integer) as deal_rank,
        ranked.opportunity_id,
        ranked.opportunity_name,
        ranked.customer_id,
        ranked.owner_rep_id,
        coalesce(reps.rep_name, ranked.owner_rep_id) as owner_rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        ranked.stage_key,
        ranked.stage_name,
        ranked.amount,
        ranked.probability,
        ranked.probability_band,
        ranked.weighted_amount,
        cast(ranked.cumulative_weighted_amount as decimal(18, 2)) as cumulative_weighted_amount,
        ranked.expected_close_date,
        ranked.next_step
    from ranked
    left join reps
        on ranked.owner_rep_id = reps.rep_id

)

select * from final
