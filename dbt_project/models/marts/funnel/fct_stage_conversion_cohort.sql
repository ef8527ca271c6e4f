-- Stage-to-stage conversion, COHORT view (队列转化率): of the opportunities that entered stage k in a
-- period, how many went on (at any time up to the as-of date) to a later main stage, to the next
-- main stage exactly, or past it (skipped it), how many were won, and of the rest how many were
-- lost and how many are still open without having advanced.
-- Denominator: distinct opportunities whose FIRST entry into stage k falls in the period.
with

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

grains as (
    select * from {{ funnel_period_grains_relation() }}
),

first_entries as (

    -- the cohort member: an opportunity's first entry into an open main stage
    select
        opportunity_id,
        stage_key,
        main_stage_rank,
        min(entered_at) as entered_at
    from stage_events
    where is_main_stage and not is_closed_stage
    group by opportunity_id, stage_key, main_stage_rank

),

outcomes as (

    select
        first_entries.opportunity_id,
        first_entries.stage_key,
        first_entries.main_stage_rank,
        cast(first_entries.entered_at as date) as entered_date,
        coalesce(bool_or(later.is_main_stage and later.main_stage_rank > first_entries.main_stage_rank), false)
            as reached_later,
        coalesce(bool_or(later.is_main_stage and later.main_stage_rank = first_entries.main_stage_rank + 1), false)
            as reached_next,
        coalesce(bool_or(later.is_main_stage and later.is_closed_stage), false) as reached_won,
        coalesce(bool_or(later.is_current and later.is_closed_stage and not later.is_main_stage), false)
            as ended_lost
    from first_entries
    left join stage_events as later
        on
            first_entries.opportunity_id = later.opportunity_id
            and later.entered_at > first_entries.entered_at
    group by all

),

cohorts as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, outcomes.entered_date) as date) as period_start_date,
        outcomes.stage_key,
        outcomes.main_stage_rank,
        count(*) as entered_count,
        count(*) filter (where outcomes.reached_later) as reached_later_count,
        count(*) filter (where outcomes.reached_next) as reached_next_count,
        count(*) filter (where outcomes.reached_later and not outcomes.reached_next) as skipped_next_count,
        count(*) filter (where outcomes.reached_won) as won_count,
        count(*) filter (where outcomes.ended_lost and not outcomes.reached_later) as lost_count
    from outcomes
    cross join grains
    group by all

),

final as (

    select
        period_grain || ':' || cast(period_start_date as string) || ':' || stage_key as conversion_id,
        period_grain,
        period_start_date,
        {{ funnel_period_end('period_grain', 'period_start_date') }} as period_end_date,
        stage_key,
        main_stage_rank,
        cast(entered_count as integer) as entered_count,
        cast(reached_later_count as integer) as reached_later_count,
        cast(reached_next_count as integer) as reached_next_count,
        cast(skipped_next_count as integer) as skipped_next_count,
        cast(won_count as integer) as won_count,
        cast(lost_count as integer) as lost_count,
        cast(entered_count - reached_later_count - lost_count as integer) as not_advanced_open_count,
        cast(reached_later_count as double) / entered_count as cohort_conversion_rate,
        cast(reached_next_count as double) / entered_count as next_stage_rate,
        cast(skipped_next_count as double) / entered_count as skip_rate,
        cast(won_count as double) / entered_count as cohort_win_rate
    from cohorts

)

select * from final
