-- Time in stage (阶段停留时长): days spent in each open main stage, over the stays that ENDED in the
-- period (exited to any stage: advanced, skipped ahead, lost or moved back). Days are calendar days
-- from the entry date to the exit date. Stays still running are not in the average (their age so far
-- is days_in_stage of the current row in fct_opportunity_stage_events).
with

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

grains as (
    select * from {{ funnel_period_grains_relation() }}
),

open_stage_events as (

    select *
    from stage_events
    where is_main_stage and not is_closed_stage

),

completed as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, open_stage_events.exited_date) as date) as period_start_date,
        open_stage_events.stage_key,
        count(*) as completed_stay_count,
        avg(open_stage_events.days_in_stage) as avg_days_in_stage,
        median(open_stage_events.days_in_stage) as median_days_in_stage,
        count(*) filter (where open_stage_events.is_advanced) as advanced_stay_count,
        avg(open_stage_events.days_in_stage) filter (where open_stage_events.is_advanced)
            as avg_days_before_advancing
    from open_stage_events
    cross join grains
    where open_stage_events.exited_date is not null
    group by all

),

final as (

    select
        completed.period_grain || ':' || cast(completed.period_start_date as string) || ':'
        || completed.stage_key as duration_id,
        completed.period_grain,
        completed.period_start_date,
        {{ funnel_period_end('completed.period_grain', 'completed.period_start_date') }} as period_end_date,
        completed.stage_key,
        cast(completed.completed_stay_count as integer) as completed_stay_count,
        completed.avg_days_in_stage,
        cast(completed.median_days_in_stage as double) as median_days_in_stage,
        cast(completed.advanced_stay_count as integer) as advanced_stay_count,
        completed.avg_days_before_advancing
    from completed

)

select * from final
