-- Sales attainment (目标达成) per rep, team, region and company for weeks, calendar months and
-- calendar quarters, with the to-date view as of the warehouse's as-of date: target to date (the
-- pro-rata, time-elapsed plan), lag behind it and the lag warning (002 §risk), and the region
-- reallocation flag (002: a region below 70% attainment).
-- Grain: one row per period_type, level, unit and period. Rep rows add daily spread targets and
-- wins (by closed_date, credited to the owner rep) over the period; higher levels are sums of rep
-- rows, so every level and period type reconciles with the daily rows.
with

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

period_types as (
    select * from (values ('week', 1), ('month', 2), ('quarter', 3)) as period_types (period_type, period_order)
),

rep_days as (

    -- one row per rep and day with a target, and per won deal (target 0)
    select
        rep_id,
        target_date as activity_date,
        target_amount_daily,
        cast(0 as decimal(18, 2)) as won_amount,
        0 as won_deal_count
    from targets_daily

    union all

    select
        owner_rep_id as rep_id,
        closed_date as activity_date,
        0 as target_amount_daily,
        amount as won_amount,
        1 as won_deal_count
    from won_opportunities
    where
        closed_date is not null
        and closed_date <= (select as_of_date from warehouse_as_of)

),

rep_day_periods as (

    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, rep_days.activity_date) as date) as period_start_date,
        rep_days.*
    from rep_days
    cross join period_types

),

rep_periods as (

    -- rounded once per rep and period; higher levels add these rounded figures (as the weekly mart)
    select
        rep_day_periods.period_type,
        rep_day_periods.period_start_date,
        rep_day_periods.rep_id,
        cast(round(sum(rep_day_periods.target_amount_daily), 2) as decimal(18, 2)) as target_amount,
        cast(round(coalesce(sum(rep_day_periods.target_amount_daily) filter (
            where rep_day_periods.activity_date <= warehouse_as_of.as_of_date
        ), 0), 2) as decimal(18, 2)) as target_to_date_amount,
        sum(rep_day_periods.won_amount) as actual_amount,
        sum(rep_day_periods.won_deal_count) as won_deal_count
    from rep_day_periods
    cross join warehouse_as_of
    -- periods that have started by the as-of date; later ones are plan (marts/plan)
    where rep_day_periods.period_start_date <= warehouse_as_of.as_of_date
    group by 1, 2, 3

),

rep_periods_with_units as (

    -- a rep missing from the reps extract still counts, in an unknown team and region (as the weekly mart)
    select
        rep_periods.*,
        coalesce(reps.rep_name, rep_periods.rep_id) as rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region
    from rep_periods
    left join reps
        on rep_periods.rep_id = reps.rep_id

),

period_spine as (

    -- every period from the first to the last with a target or an actual, per period type
    select
        period_type,
        cast(period_start as date) as period_start_date
    from (
        select
            bounds.period_type,
            {{ unnest_list(inclusive_series(
                'cast(bounds.first_start as timestamp)',
                'cast(bounds.last_start as timestamp)',
                period_type_interval('bounds.period_type')
            )) }} as period_start
        from (
            select
                period_type,
                min(period_start_date) as first_start,
                max(period_start_date) as last_start
            from rep_periods
            group by period_type
        ) as bounds
    ) as period_series

),

rep_rows as (

    select
        period_type,
        period_start_date,
        'rep' as level,
        rep_id as unit_id,
        rep_name as unit_name,
        region,
        team_id,
        team_name,
        target_amount,
        target_to_date_amount,
        actual_amount,
        won_deal_count
    from rep_periods_with_units

),

team_rows as (

    select
        period_type,
        period_start_date,
        'team' as level,
        team_id as unit_id,
        min(team_name) as unit_name,
        min(region) as region,
        team_id,
        min(team_name) as team_name,
        sum(target_amount) as target_amount,
        sum(target_to_date_amount) as target_to_date_amount,
        sum(actual_amount) as actual_amount,
        sum(won_deal_count) as won_deal_count
    from rep_periods_with_units
    group by period_type, period_start_date, team_id

),

region_rows as (

    select
        period_type,
        period_start_date,
        'region' as level,
        region as unit_id,
        region as unit_name,
        region,
        null as team_id,
        null as team_name,
        sum(target_amount) as target_amount,
        sum(target_to_date_amount) as target_to_date_amount,
        sum(actual_amount) as actual_amount,
        sum(won_deal_count) as won_deal_count
    from rep_periods_with_units
    group by period_type, period_start_date, region

),

company_rows as (

    select
        period_spine.period_type,
        period_spine.period_start_date,
        'company' as level,
        'company' as unit_id,
        '全公司' as unit_name,
        null as region,
        null as team_id,
        null as team_name,
        coalesce(sum(rep_periods.target_amount), 0) as target_amount,
        coalesce(sum(rep_periods.target_to_date_amount), 0) as target_to_date_amount,
        coalesce(sum(rep_periods.actual_amount), 0) as actual_amount,
        coalesce(sum(rep_periods.won_deal_count), 0) as won_deal_count
    from period_spine
    left join rep_periods
        on
            period_spine.period_type = rep_periods.period_type
            and period_spine.period_start_date = rep_periods.period_start_date
    group by period_spine.period_type, period_spine.period_start_date

),

all_levels as (

    select * from company_rows
    union all
    select * from region_rows
    union all
    select * from team_rows
    union all
    select * from rep_rows

),

dated as (

    select
        all_levels.*,
        cast(
            all_levels.period_start_date
            + {{ period_type_interval('all_levels.period_type') }}
            - interval 1 day
            as date
        ) as period_end_date,
        warehouse_as_of.as_of_date
    from all_levels
    cross join warehouse_as_of

),

measured as (

    select
        *,
        {{ days_between('period_start_date', 'period_end_date') }} + 1 as days_in_period,
        least(
            {{ days_between('period_start_date', 'as_of_date') }} + 1,
            {{ days_between('period_start_date', 'period_end_date') }} + 1
        ) as days_elapsed,
        case
            when target_amount = 0 then null
            else cast(actual_amount as double) / cast(target_amount as double)
        end as attainment_rate,
        case
            when target_to_date_amount = 0 then null
            else cast(actual_amount as double) / cast(target_to_date_amount as double)
        end as attainment_to_date_rate
    from dated

),

final as (

    select
        period_type || ':' || level || ':' || unit_id || ':' || cast(period_start_date as string)
            as attainment_period_id,
        period_type,
        period_start_date,
        period_end_date,
        case period_type
            when 'week' then {{ iso_week_label('period_start_date') }}
            when 'month' then left(cast(period_start_date as string), 7)
            else year(period_start_date) || '-Q' || quarter(period_start_date)
        end as period_label,
        level,
        unit_id,
        unit_name,
        cast(region as string) as region,
        cast(team_id as string) as team_id,
        cast(team_name as string) as team_name,
        period_end_date <= as_of_date as is_period_complete,
        cast(days_in_period as integer) as days_in_period,
        cast(days_elapsed as integer) as days_elapsed,
        cast(target_amount as decimal(18, 2)) as target_amount,
        cast(actual_amount as decimal(18, 2)) as actual_amount,
        cast(won_deal_count as integer) as won_deal_count,
        cast(target_amount - actual_amount as decimal(18, 2)) as gap_amount,
        attainment_rate,
        {{ status_light('attainment_rate') }} as status_light,
        cast(target_to_date_amount as decimal(18, 2)) as target_to_date_amount,
        cast(target_to_date_amount - actual_amount as decimal(18, 2)) as gap_to_date_amount,
        attainment_to_date_rate,
        case
            when target_to_date_amount = 0 then null
            else 1 - attainment_to_date_rate
        end as behind_plan_rate,
        -- compared in decimals so that exactly 10% / 20% behind is a warning (no float rounding)
        case
            when target_to_date_amount = 0 then 'none'
            when actual_amount <= target_to_date_amount * (1 - {{ var('lag_warning_red_behind') }}) then 'red'
            when actual_amount <= target_to_date_amount * (1 - {{ var('lag_warning_yellow_behind') }}) then 'yellow'
            else 'on_track'
        end as lag_warning,
        coalesce(
            level = 'region'
            and attainment_to_date_rate < {{ var('region_reallocation_attainment_below') }},
            false
        ) as needs_reallocation
    from measured

)

select * from final
