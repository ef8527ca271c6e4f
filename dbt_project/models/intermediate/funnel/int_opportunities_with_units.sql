-- Every opportunity with the units it is reported under: owner rep, team and region (from the reps
-- extract, 'unknown' / '未知区域' when the rep is missing, as fct_attainment_weekly does), the
-- customer's industry and acquisition channel, and its outcome (won / lost / open by the
-- funnel_stages seed).
with

opportunities as (
    select * from {{ ref('clean_crm__opportunities') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

customers as (
    select * from {{ ref('clean_crm__customers') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

final as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.lead_id,
        opportunities.customer_id,
        opportunities.owner_rep_id,
        coalesce(reps.rep_name, opportunities.owner_rep_id) as rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        coalesce(customers.industry, '未知行业') as industry,
        coalesce(customers.channel, '未知渠道') as channel,
        opportunities.stage_key,
        opportunities.stage_name,
        coalesce(funnel_stages.is_closed and funnel_stages.is_won, false) as is_won,
        coalesce(funnel_stages.is_closed and not funnel_stages.is_won, false) as is_lost,
        coalesce(not funnel_stages.is_closed, false) as is_open,
        opportunities.amount,
        opportunities.probability,
        opportunities.expected_close_date,
        opportunities.closed_date,
        opportunities.next_step,
        opportunities.created_at
    from opportunities
    left join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    left join reps
        on opportunities.owner_rep_id = reps.rep_id
    left join customers
        on opportunities.customer_id = customers.customer_id

)

select * from final
