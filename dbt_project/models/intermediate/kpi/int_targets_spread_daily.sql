-- Every rep-level target spread evenly over the days of its period (one row per rep per day),
-- so a week, month or quarter target is the sum of its days even when periods straddle them.
with

targets as (
    select * from {{ ref('clean_crm__targets') }}
),

rep_targets as (

    select
        target_id,
        owner_id as rep_id,
        period_start_date,
        period_end_date,
        target_amount,
        {{ days_between('period_start_date', 'period_end_date') }} + 1 as period_days
    from targets
    where
        target_level = 'rep'
        and period_start_date <= period_end_date

),

target_days as (

    select
        rep_targets.*,
        {{ unnest_series(
            'cast(rep_targets.period_start_date as timestamp)',
            'cast(rep_targets.period_end_date as timestamp)',
            'interval 1 day'
        ) }} as day_start
    from rep_targets

),

final as (

    select
        target_days.target_id,
        target_days.rep_id,
        cast(target_days.day_start as date) as target_date,
        target_days.period_days,
        target_days.target_amount as period_target_amount,
        -- decimal with 10 places, rounded once per day: the marts sum days into weeks, months and
        -- quarters, and a sum of doubles depends on the order DuckDB's threads add them (a target
        -- of x.xx5 rounded either way between two builds); a decimal sum is exact. Rounding to
        -- cents happens once, on the period's sum in the mart.
        cast(cast(target_days.target_amount as double) / target_days.period_days as decimal(38, 10))
            as target_amount_daily
    from target_days

)

select * from final
