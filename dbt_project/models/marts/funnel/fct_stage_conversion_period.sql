-- Stage-to-stage conversion, PERIOD view (期间转化率): the flow through stage k within a period.
-- Numerator: exits from stage k during the period to a later main stage (advanced).
-- Denominator: entries into stage k during the period (every entry, not distinct deals).
-- The two counts are different deals in general (a deal entering late in the period leaves in a
-- later one), so the rate describes the period's flow and can exceed 100%.
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

entries as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, open_stage_events.entered_date) as date) as period_start_date,
        open_stage_events.stage_key,
        count(*) as entered_count
    from open_stage_events
    cross join grains
    group by all

),

exits as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, open_stage_events.exited_date) as date) as period_start_date,
        open_stage_events.stage_key,
        count(*) as exited_count,
        count(*) filter (where open_stage_events.is_advanced) as advanced_count,
        count(*) filter (where open_stage_events.is_skip) as skipped_next_count,
        count(*) filter (where open_stage_events.is_lost_exit) as lost_count
    from open_stage_events
    cross join grains
    where open_stage_events.exited_date is not null
    group by all

),

stage_ranks as (

    select distinct stage_key, main_stage_rank
    from open_stage_events

),

combined as (

    select
        coalesce(entries.period_grain, exits.period_grain) as period_grain,
        coalesce(entries.period_start_date, exits.period_start_date) as period_start_date,
        coalesce(entries.stage_key, exits.stage_key) as stage_key,
        coalesce(entries.entered_count, 0) as entered_count,
        coalesce(exits.exited_count, 0) as exited_count,
        coalesce(exits.advanced_count, 0) as advanced_count,
        coalesce(exits.skipped_next_count, 0) as skipped_next_count,
        coalesce(exits.lost_count, 0) as lost_count
    from entries
    full outer join exits
        on
            entries.period_grain = exits.period_grain
            and entries.period_start_date = exits.period_start_date
            and entries.stage_key = exits.stage_key

),

final as (

    select
        combined.period_grain || ':' || cast(combined.period_start_date as string) || ':'
        || combined.stage_key as conversion_id,
        combined.period_grain,
        combined.period_start_date,
        {{ funnel_period_end('combined.period_grain', 'combined.period_start_date') }} as period_end_date,
        combined.stage_key,
        stage_ranks.main_stage_rank,
        cast(combined.entered_count as integer) as entered_count,
        cast(combined.exited_count as integer) as exited_count,
        cast(combined.advanced_count as integer) as advanced_count,
        cast(combined.skipped_next_count as integer) as skipped_next_count,
        cast(combined.lost_count as integer) as lost_count,
        case
            when combined.entered_count > 0 then cast(combined.advanced_count as double) / combined.entered_count
        end as period_conversion_rate,
        case
            when combined.exited_count > 0 then cast(combined.advanced_count as double) / combined.exited_count
        end as exit_advance_rate
    from combined
    inner join stage_ranks
        on combined.stage_key = stage_ranks.stage_key

)

select * from final
