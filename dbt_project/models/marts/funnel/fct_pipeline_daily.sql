-- Daily pipeline snapshot (每日商机快照): one row per day and opportunity open at the END of that
-- day, with its stage, amount, probability and promised signing date AS KNOWN THAT DAY, so any past
-- day's pipeline can be shown and forecasts can be back-tested without hindsight.
--   stage:  the latest stage entry (fct_opportunity_stage_events) that was known by the day, i.e.
--           entered on or before it and delivered (extract_date) on or before it;
--   the rest: the opportunity version with the latest known_from_date (extract date) <= the day
--           (int_opportunity_versions); before a deal's first version, the amount recorded with the
--           stage change and the stage's default probability.
-- Days run from the first opportunity extract to the as-of date.
with

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

versions as (
    select * from {{ ref('int_opportunity_versions') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

snapshot_range as (

    select
        (select min(known_from_date) from versions) as first_snapshot_date,
        as_of_date as last_snapshot_date
    from warehouse_as_of

),

known_events as (

    -- a stage entry counts from the day it was both made and delivered
    select
        opportunity_id,
        entry_sequence,
        stage_key,
        is_closed_stage,
        entered_date,
        amount_at_entry,
        greatest(entered_date, extract_date) as known_from_date
    from stage_events

),

event_intervals as (

    -- in force until a later entry of the same deal becomes known (an older entry delivered after a
    -- newer one never takes over: its interval is empty)
    select
        known_events.*,
        cast(
            min(known_events.known_from_date) over (
                partition by known_events.opportunity_id
                order by known_events.entry_sequence
                rows between 1 following and unbounded following
            ) - interval 1 day as date
        ) as known_to_date
    from known_events

),

open_intervals as (

    select
        event_intervals.opportunity_id,
        event_intervals.stage_key,
        event_intervals.entered_date,
        event_intervals.amount_at_entry,
        greatest(event_intervals.known_from_date, snapshot_range.first_snapshot_date) as from_date,
        least(
            coalesce(event_intervals.known_to_date, snapshot_range.last_snapshot_date),
            snapshot_range.last_snapshot_date
        ) as to_date
    from event_intervals
    cross join snapshot_range
    where not event_intervals.is_closed_stage

),

open_days as (

    select
        cast(snapshot_day.day_start as date) as snapshot_date,
        open_intervals.opportunity_id,
        open_intervals.stage_key,
        open_intervals.entered_date,
        open_intervals.amount_at_entry
    from open_intervals
    cross join lateral {{ series_rows(
        'cast(open_intervals.from_date as timestamp)',
        'cast(open_intervals.to_date as timestamp)',
        'interval 1 day'
    ) }} as snapshot_day (day_start)
    where open_intervals.from_date <= open_intervals.to_date

),

with_versions as (

    select
        open_days.*,
        versions.owner_rep_id,
        versions.stage_key as version_stage_key,
        versions.amount as version_amount,
        versions.probability as version_probability,
        versions.expected_close_date,
        versions.next_step
    from open_days
    -- the version in force that day: the latest with known_from_date <= the day (an as-of join)
    left join versions
        on
            open_days.opportunity_id = versions.opportunity_id
            and open_days.snapshot_date >= versions.known_from_date
    qualify row_number() over (
        partition by open_days.snapshot_date, open_days.opportunity_id
        order by versions.known_from_date desc
    ) = 1

),

measured as (

    select
        with_versions.snapshot_date,
        with_versions.opportunity_id,
        with_versions.owner_rep_id,
        with_versions.stage_key,
        funnel_stages.stage_order,
        with_versions.entered_date as stage_entered_date,
        {{ days_between('with_versions.entered_date', 'with_versions.snapshot_date') }} as days_in_stage,
        coalesce(with_versions.version_amount, with_versions.amount_at_entry) as amount,
        -- the version's probability belongs to the version's stage; if the stage history is ahead of
        -- the version (or there is no version), the stage's default probability
        case
            when with_versions.version_stage_key = with_versions.stage_key
                then coalesce(with_versions.version_probability, funnel_stages.default_probability)
            else funnel_stages.default_probability
        end as probability,
        with_versions.expected_close_date,
        with_versions.next_step
    from with_versions
    inner join funnel_stages
        on with_versions.stage_key = funnel_stages.stage_key

),

final as (

    select
        cast(snapshot_date as string) || ':' || opportunity_id as pipeline_daily_id,
        snapshot_date,
        opportunity_id,
        owner_rep_id,
        stage_key,
        stage_order,
        stage_entered_date,
        days_in_stage,
        cast(amount as decimal(18, 2)) as amount,
        probability,
        cast(amount * probability / 100.0 as decimal(18, 2)) as weighted_amount,
        case
            when probability > {{ var('probability_band_high_above') }} then 'high'
            when probability >= {{ var('probability_band_medium_from') }} then 'medium'
            else 'low'
        end as probability_band,
        expected_close_date,
        {{ days_between('expected_close_date', 'snapshot_date') }} as days_past_promised_date,
        coalesce({{ days_between('expected_close_date', 'snapshot_date') }} > {{ var('slip_tolerance_days') }}, false)
            as is_slipped,
        next_step
    from measured

)

select * from final
