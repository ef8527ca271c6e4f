-- Paths taken (成交路径, 004 §2.2.2): the sequence of stages each CLOSED deal went through, e.g.
-- lead>discovery>negotiation>won (4 steps, the demo skipped) vs lead>discovery>demo>negotiation>won
-- (5 steps). One row per outcome and path over all deals closed by the as-of date: how many deals,
-- their share of the deals with the same outcome, and the average days from entering the first
-- stage to entering the closing stage.
with

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

closed_deals as (

    -- the closing entry of every deal whose current stage is closed
    select
        opportunity_id,
        stage_key as outcome_stage_key,
        entered_date as closed_date
    from stage_events
    where is_current and is_closed_stage

),

deal_paths as (

    select
        closed_deals.opportunity_id,
        closed_deals.outcome_stage_key,
        {{ ordered_string_agg('stage_events.stage_key', "'>'", 'stage_events.entry_sequence') }} as path,
        count(*) as step_count,
        {{ days_between('min(stage_events.entered_date)', 'closed_deals.closed_date') }} as days_to_close
    from closed_deals
    inner join stage_events
        on closed_deals.opportunity_id = stage_events.opportunity_id
    group by closed_deals.opportunity_id, closed_deals.outcome_stage_key, closed_deals.closed_date

),

aggregated as (

    select
        outcome_stage_key,
        path,
        step_count,
        count(*) as deal_count,
        avg(days_to_close) as avg_days_to_close,
        median(days_to_close) as median_days_to_close
    from deal_paths
    group by all

),

final as (

    select
        outcome_stage_key || ':' || path as deal_path_id,
        outcome_stage_key,
        path,
        cast(step_count as integer) as step_count,
        cast(deal_count as integer) as deal_count,
        cast(deal_count as double) / sum(deal_count) over (partition by outcome_stage_key) as deal_share,
        avg_days_to_close,
        cast(median_days_to_close as double) as median_days_to_close
    from aggregated

)

select * from final
