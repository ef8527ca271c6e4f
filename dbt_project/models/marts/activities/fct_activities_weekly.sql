-- Visits (拜访), calls (电话) and emails (邮件) per rep and week, with the change on the week before and
-- the visits to high-potential customers (004 §3.1.1: 12 visits, +3 WoW, 6 with high-potential
-- customers). Weeks without activity are rows of zeros, so week-over-week changes compare adjacent weeks.
with

weekly as (
    select * from {{ ref('int_activities_weekly') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

with_previous as (

    select
        *,
        lag(visit_count) over rep_weeks as previous_visit_count,
        lag(call_count) over rep_weeks as previous_call_count,
        lag(email_count) over rep_weeks as previous_email_count,
        lag(activity_count) over rep_weeks as previous_activity_count,
        -- the previous row is the previous week only when the rep's weeks are contiguous (they are)
        lag(week_start_date) over rep_weeks as previous_week_start_date
    from weekly
    window rep_weeks as (partition by rep_id order by week_start_date)

),

final as (

    select
        with_previous.rep_id || ':' || cast(with_previous.week_start_date as string) as rep_week_id,
        with_previous.rep_id,
        coalesce(reps.rep_name, with_previous.rep_id) as rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        with_previous.week_start_date,
        cast(with_previous.week_start_date + 6 as date) as week_end_date,
        {{ iso_week_label('with_previous.week_start_date') }} as week_label,
        with_previous.week_start_date + 6 <= warehouse_as_of.as_of_date as is_complete_week,
        with_previous.visit_count,
        with_previous.call_count,
        with_previous.email_count,
        with_previous.activity_count,
        with_previous.high_potential_visit_count,
        with_previous.high_potential_activity_count,
        cast(with_previous.high_potential_visit_count as double) / nullif(with_previous.visit_count, 0)
            as high_potential_visit_share,
        cast(with_previous.high_potential_activity_count as double) / nullif(with_previous.activity_count, 0)
            as high_potential_activity_share,
        with_previous.previous_visit_count,
        with_previous.visit_count - with_previous.previous_visit_count as visit_count_wow_change,
        with_previous.call_count - with_previous.previous_call_count as call_count_wow_change,
        with_previous.email_count - with_previous.previous_email_count as email_count_wow_change,
        with_previous.activity_count - with_previous.previous_activity_count as activity_count_wow_change,
        cast(with_previous.visit_count - with_previous.previous_visit_count as double)
        / nullif(with_previous.previous_visit_count, 0) as visit_count_wow_rate
    from with_previous
    cross join warehouse_as_of
    left join reps
        on with_previous.rep_id = reps.rep_id

)

select * from final
