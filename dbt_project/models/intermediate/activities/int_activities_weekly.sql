-- Visits, calls and emails per rep and week (Monday to Sunday), weeks without activity included as 0.
-- A rep's weeks run from the first week with any activity in the warehouse (or the rep's hire week,
-- if later) to the as-of week (or the week the rep left, if earlier), and always cover the rep's own
-- activities. Reps: every quota rep (role 'rep') and anyone else who logged an activity.
with

activities as (
    select * from {{ ref('int_activities_enriched') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

bounds as (

    select
        min(activities.week_start_date) as first_week_start_date,
        cast(date_trunc('week', (select as_of_date from warehouse_as_of)) as date) as as_of_week_start_date
    from activities

),

rep_activity_span as (

    select
        rep_id,
        min(week_start_date) as first_activity_week,
        max(week_start_date) as last_activity_week
    from activities
    group by rep_id

),

rep_ids as (

    select rep_id from reps where role = 'rep'
    union
    select rep_id from rep_activity_span

),

rep_spans as (

    select
        rep_ids.rep_id,
        least(
            greatest(
                bounds.first_week_start_date,
                coalesce(cast(date_trunc('week', reps.hire_date) as date), bounds.first_week_start_date)
            ),
            coalesce(rep_activity_span.first_activity_week, bounds.as_of_week_start_date)
        ) as span_start,
        greatest(
            least(
                bounds.as_of_week_start_date,
                coalesce(cast(date_trunc('week', reps.leave_date) as date), bounds.as_of_week_start_date)
            ),
            coalesce(rep_activity_span.last_activity_week, bounds.first_week_start_date)
        ) as span_end
    from rep_ids
    cross join bounds
    left join reps
        on rep_ids.rep_id = reps.rep_id
    left join rep_activity_span
        on rep_ids.rep_id = rep_activity_span.rep_id
    where bounds.first_week_start_date is not null

),

rep_weeks as (

    select
        rep_id,
        cast(week_start as date) as week_start_date
    from (
        select
            rep_id,
            {{ unnest_series(
                'cast(rep_spans.span_start as timestamp)',
                'cast(rep_spans.span_end as timestamp)',
                'interval 7 day'
            ) }} as week_start
        from rep_spans
    ) as week_series

),

weekly_counts as (

    select
        rep_id,
        week_start_date,
        count(*) filter (where activity_type = '拜访') as visit_count,
        count(*) filter (where activity_type = '电话') as call_count,
        count(*) filter (where activity_type = '邮件') as email_count,
        count(*) as activity_count,
        count(*) filter (where activity_type = '拜访' and is_high_potential_customer)
            as high_potential_visit_count,
        count(*) filter (where is_high_potential_customer) as high_potential_activity_count
    from activities
    group by 1, 2

),

final as (

    select
        rep_weeks.rep_id,
        rep_weeks.week_start_date,
        cast(coalesce(weekly_counts.visit_count, 0) as integer) as visit_count,
        cast(coalesce(weekly_counts.call_count, 0) as integer) as call_count,
        cast(coalesce(weekly_counts.email_count, 0) as integer) as email_count,
        cast(coalesce(weekly_counts.activity_count, 0) as integer) as activity_count,
        cast(coalesce(weekly_counts.high_potential_visit_count, 0) as integer) as high_potential_visit_count,
        cast(coalesce(weekly_counts.high_potential_activity_count, 0) as integer)
            as high_potential_activity_count
    from rep_weeks
    left join weekly_counts
        on
            rep_weeks.rep_id = weekly_counts.rep_id
            and rep_weeks.week_start_date = weekly_counts.week_start_date

)

select * from final
