-- Weekly sales attainment (目标达成) per rep, team, region and the company.
-- Grain: one row per level, unit and ISO week (Monday to Sunday).
-- Rep rows come from rep targets (spread per day) and won deals (by closed_date, credited to the
-- owner rep); team, region and company rows are sums of rep rows, so every level reconciles.
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

rep_week_targets as (

    select
        rep_id,
        cast(date_trunc('week', target_date) as date) as week_start_date,
        -- rounded once per rep and week; higher levels add these rounded figures
        cast(round(sum(target_amount_daily), 2) as decimal(18, 2)) as target_amount
    from targets_daily
    group by 1, 2

),

rep_week_actuals as (

    select
        owner_rep_id as rep_id,
        cast(date_trunc('week', closed_date) as date) as week_start_date,
        sum(amount) as actual_amount,
        count(*) as won_deal_count
    from won_opportunities
    where closed_date is not null
    group by 1, 2

),

rep_weeks_all as (

    select
        coalesce(rep_week_targets.rep_id, rep_week_actuals.rep_id) as rep_id,
        coalesce(rep_week_targets.week_start_date, rep_week_actuals.week_start_date) as week_start_date,
        coalesce(rep_week_targets.target_amount, 0) as target_amount,
        coalesce(rep_week_actuals.actual_amount, 0) as actual_amount,
        coalesce(rep_week_actuals.won_deal_count, 0) as won_deal_count
    from rep_week_targets
    full outer join rep_week_actuals
        on
            rep_week_targets.rep_id = rep_week_actuals.rep_id
            and rep_week_targets.week_start_date = rep_week_actuals.week_start_date

),

rep_weeks as (

    -- weeks that have started by the as-of date (quarterly targets reach past it; those weeks are plan)
    select rep_weeks_all.*
    from rep_weeks_all
    where rep_weeks_all.week_start_date <= (select as_of_date from warehouse_as_of)

),

rep_weeks_with_units as (

    -- A rep missing from the reps extract still counts (in an "unknown" team and region), so the
    -- company total stays complete; the quality checks report the unknown rep.
    select
        rep_weeks.*,
        coalesce(reps.rep_name, rep_weeks.rep_id) as rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region
    from rep_weeks
    left join reps
        on rep_weeks.rep_id = reps.rep_id

),

weeks as (

    -- every week from the first to the last with a target or an actual, gaps included
    select cast(week_start as date) as week_start_date
    from (
        select {{ unnest_list(inclusive_series(
            '(select cast(min(week_start_date) as timestamp) from rep_weeks)',
            '(select cast(max(week_start_date) as timestamp) from rep_weeks)',
            'interval 7 day'
        )) }} as week_start
    ) as week_series

),

rep_rows as (

    select
        'rep' as level,
        rep_id as unit_id,
        rep_name as unit_name,
        region,
        team_id,
        team_name,
        week_start_date,
        target_amount,
        actual_amount,
        won_deal_count
    from rep_weeks_with_units

),

team_rows as (

    select
        'team' as level,
        team_id as unit_id,
        min(team_name) as unit_name,
        -- a team sits in one region; min() keeps one row per team even if the extract disagrees
        min(region) as region,
        team_id,
        min(team_name) as team_name,
        week_start_date,
        sum(target_amount) as target_amount,
        sum(actual_amount) as actual_amount,
        sum(won_deal_count) as won_deal_count
    from rep_weeks_with_units
    group by team_id, week_start_date

),

region_rows as (

    select
        'region' as level,
        region as unit_id,
        region as unit_name,
        region,
        null as team_id,
        null as team_name,
        week_start_date,
        sum(target_amount) as target_amount,
        sum(actual_amount) as actual_amount,
        sum(won_deal_count) as won_deal_count
    from rep_weeks_with_units
    group by region, week_start_date

),

company_rows as (

    select
        'company' as level,
        'company' as unit_id,
        '全公司' as unit_name,
        null as region,
        null as team_id,
        null as team_name,
        weeks.week_start_date,
        coalesce(sum(rep_weeks.target_amount), 0) as target_amount,
        coalesce(sum(rep_weeks.actual_amount), 0) as actual_amount,
        coalesce(sum(rep_weeks.won_deal_count), 0) as won_deal_count
    from weeks
    left join rep_weeks
        on weeks.week_start_date = rep_weeks.week_start_date
    group by weeks.week_start_date

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

measured as (

    select
        *,
        case
            when target_amount = 0 then null
            else cast(actual_amount as double) / cast(target_amount as double)
        end as attainment_rate
    from all_levels

),

final as (

    select
        level || ':' || unit_id || ':' || cast(week_start_date as string) as attainment_id,
        week_start_date,
        cast(week_start_date + 6 as date) as week_end_date,
        {{ iso_week_label('week_start_date') }} as week_label,
        level,
        unit_id,
        unit_name,
        cast(region as string) as region,
        cast(team_id as string) as team_id,
        cast(team_name as string) as team_name,
        cast(target_amount as decimal(18, 2)) as target_amount,
        cast(actual_amount as decimal(18, 2)) as actual_amount,
        cast(won_deal_count as integer) as won_deal_count,
        cast(target_amount - actual_amount as decimal(18, 2)) as gap_amount,
        attainment_rate,
        {{ status_light('attainment_rate') }} as status_light
    from measured

)

select * from final
