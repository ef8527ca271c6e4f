-- The bottleneck stage (瓶颈阶段). Rule: among the open main stages (lead .. negotiation), take the
-- stays ENTERED in the trailing window of var funnel_bottleneck_window_days (91) days ending on the
-- as-of date; the resolved conversion of a stage = stays that advanced to a later main stage /
-- stays that have exited (advanced, lost or moved back) by the as-of date. The bottleneck is the
-- stage with the lowest resolved conversion; ties go to the stage with the longer median days in
-- stage, then to the earlier stage. Stays still running are left out of the rate, so young stays
-- do not make the later stages look worse. The same figures for the window before are shown for
-- comparison.
with

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

open_main_stages as (

    select distinct stage_key, main_stage_rank
    from stage_events
    where is_main_stage and not is_closed_stage

),

windows as (

    select
        'current' as window_name,
        cast(as_of_date - interval {{ var('funnel_bottleneck_window_days') - 1 }} day as date) as window_start_date,
        as_of_date as window_end_date
    from warehouse_as_of
    union all
    select
        'previous' as window_name,
        cast(as_of_date - interval {{ 2 * var('funnel_bottleneck_window_days') - 1 }} day as date)
            as window_start_date,
        cast(as_of_date - interval {{ var('funnel_bottleneck_window_days') }} day as date) as window_end_date
    from warehouse_as_of

),

stays as (

    select
        windows.window_name,
        windows.window_start_date,
        windows.window_end_date,
        stage_events.stage_key,
        count(*) as entered_count,
        count(*) filter (where stage_events.exited_date is not null) as exited_count,
        count(*) filter (where stage_events.is_advanced) as advanced_count,
        median(stage_events.days_in_stage) filter (where stage_events.exited_date is not null)
            as median_days_in_stage
    from stage_events
    inner join windows
        on stage_events.entered_date between windows.window_start_date and windows.window_end_date
    where stage_events.is_main_stage and not stage_events.is_closed_stage
    group by all

),

rated as (

    select
        open_main_stages.stage_key,
        open_main_stages.main_stage_rank,
        coalesce(current_window.entered_count, 0) as entered_count,
        coalesce(current_window.exited_count, 0) as exited_count,
        coalesce(current_window.advanced_count, 0) as advanced_count,
        case
            when current_window.exited_count > 0
                then cast(current_window.advanced_count as double) / current_window.exited_count
        end as resolved_conversion_rate,
        cast(current_window.median_days_in_stage as double) as median_days_in_stage,
        case
            when previous_window.exited_count > 0
                then cast(previous_window.advanced_count as double) / previous_window.exited_count
        end as previous_resolved_conversion_rate
    from open_main_stages
    left join stays as current_window
        on
            open_main_stages.stage_key = current_window.stage_key
            and current_window.window_name = 'current'
    left join stays as previous_window
        on
            open_main_stages.stage_key = previous_window.stage_key
            and previous_window.window_name = 'previous'

),

ranked as (

    select
        rated.*,
        case
            when rated.resolved_conversion_rate is not null
                then row_number() over (
                    partition by rated.resolved_conversion_rate is null
                    order by
                        rated.resolved_conversion_rate,
                        rated.median_days_in_stage desc nulls last,
                        rated.main_stage_rank
                )
        end as bottleneck_rank
    from rated

),

final as (

    select
        ranked.stage_key,
        cast(ranked.main_stage_rank as integer) as main_stage_rank,
        warehouse_as_of.as_of_date,
        cast(as_of_date - interval {{ var('funnel_bottleneck_window_days') - 1 }} day as date) as window_start_date,
        cast(ranked.entered_count as integer) as entered_count,
        cast(ranked.exited_count as integer) as exited_count,
        cast(ranked.advanced_count as integer) as advanced_count,
        ranked.resolved_conversion_rate,
        ranked.median_days_in_stage,
        ranked.previous_resolved_conversion_rate,
        ranked.resolved_conversion_rate - ranked.previous_resolved_conversion_rate as conversion_rate_change,
        cast(ranked.bottleneck_rank as integer) as bottleneck_rank,
        coalesce(ranked.bottleneck_rank = 1, false) as is_bottleneck
    from ranked
    cross join warehouse_as_of

)

select * from final
