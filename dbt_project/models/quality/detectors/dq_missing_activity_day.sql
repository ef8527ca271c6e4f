-- missing_activity_day: a quota rep's working day (Monday to Friday, between hire and leave date) with
-- no activity at all. Days are judged from the first activities extract up to dq_missing_day_grace_days
-- before the as-of date (an activity may be logged a few days late). Public holidays are not modelled.
-- The record is the rep-day '<rep_id>:<YYYY-MM-DD>' (entity rep_days).
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

bounds as (

    select
        (select min(_extract_date) from activities) as first_date,
        as_of_date - {{ var('dq_missing_day_grace_days') }} as last_date
    from as_of

),

calendar_days as (

    select
        cast(unnest(generate_series(
            cast(first_date as timestamp), cast(last_date as timestamp), interval 1 day
        )) as date) as work_date
    from bounds

),

judged_days as (

    select work_date
    from calendar_days
    where isodow(work_date) <= 5

),

rep_work_days as (

    select
        reps.rep_id,
        reps.rep_name,
        judged_days.work_date
    from reps
    inner join judged_days
        on
            judged_days.work_date >= reps.hire_date
            and (reps.leave_date is null or judged_days.work_date <= reps.leave_date)
    -- quota reps: the contract's role value for a rep who carries a target
    where reps.role = 'rep'

),

active_days as (

    select distinct
        rep_id,
        cast(activity_at as date) as work_date
    from activities

),

final as (

    select
        'missing_activity_day' as rule_id,
        'rep_days' as entity,
        rep_work_days.rep_id || ':' || strftime(rep_work_days.work_date, '%Y-%m-%d') as record_id,
        rep_work_days.rep_id,
        rep_work_days.rep_id || ' ' || rep_work_days.rep_name || ' 在 ' || strftime(rep_work_days.work_date, '%Y-%m-%d')
        || '（' || ['周一', '周二', '周三', '周四', '周五'][isodow(rep_work_days.work_date)]
        || '）没有任何拜访、电话或邮件记录 / no visit, call or email logged on a working day' as evidence,
        -- the day is judged (and flagged) once the grace period has passed
        rep_work_days.work_date + {{ var('dq_missing_day_grace_days') }} as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from rep_work_days
    left join active_days
        on rep_work_days.rep_id = active_days.rep_id and rep_work_days.work_date = active_days.work_date
    where active_days.rep_id is null

)

select * from final
