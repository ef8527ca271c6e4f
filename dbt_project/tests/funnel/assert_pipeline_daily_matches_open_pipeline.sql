-- The daily snapshot's last day is today's open pipeline: on the as-of date, fct_pipeline_daily holds
-- the same deals with the same amount and probability as int_open_opportunities (which reads the
-- current opportunity rows). Compared over the deals whose stage history ends in their current stage
-- (a deal with no or inconsistent history is a data-quality finding, not a reconciliation break).
-- Returns one row per deal that differs.
{{ config(meta={'dagster': {'ref': {'name': 'fct_pipeline_daily'}}}) }}  {#- its asset check in Dagster -#}
with

consistent_history as (
    select events.opportunity_id, events.stage_key
    from {{ ref('fct_opportunity_stage_events') }} as events
    inner join {{ ref('int_opportunities_with_units') }} as opportunities
        on events.opportunity_id = opportunities.opportunity_id and events.stage_key = opportunities.stage_key
    where events.is_current
),

last_day as (
    select pipeline_daily.*
    from {{ ref('fct_pipeline_daily') }} as pipeline_daily
    inner join consistent_history
        on pipeline_daily.opportunity_id = consistent_history.opportunity_id
    where pipeline_daily.snapshot_date = (select as_of_date from {{ ref('warehouse_as_of') }})
),

open_now as (
    select open_opportunities.*
    from {{ ref('int_open_opportunities') }} as open_opportunities
    inner join consistent_history
        on
            open_opportunities.opportunity_id = consistent_history.opportunity_id
            and open_opportunities.stage_key = consistent_history.stage_key
),

final as (

    select
        coalesce(last_day.opportunity_id, open_now.opportunity_id) as opportunity_id,
        last_day.amount as snapshot_amount,
        open_now.amount as open_amount,
        last_day.probability as snapshot_probability,
        open_now.probability as open_probability
    from last_day
    full outer join open_now
        on last_day.opportunity_id = open_now.opportunity_id
    where
        last_day.opportunity_id is null
        or open_now.opportunity_id is null
        or last_day.amount is distinct from open_now.amount
        or last_day.probability is distinct from open_now.probability
        or last_day.stage_key is distinct from open_now.stage_key

)

select * from final
