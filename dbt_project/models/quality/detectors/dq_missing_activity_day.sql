-- missing_activity_day: a quota rep's working day (between hire and leave date) with no activity at all.
-- Working days come from the working_calendar seed (the Chinese working calendar): public holidays
-- (春节, 国庆 …) are not working days, make-up working days on a weekend (调休上班) are. A row of the
-- rep's own sales region wins over the mainland ('CN') row of that date. A date the calendar does not
-- cover (no CN row: a year the chinese-calendar package has not published yet) is judged Monday to
-- Friday and its evidence says so; the test assert_working_calendar_covers_as_of_date warns until
-- `salesreview refresh-calendar` is run. Days are judged from the first activities extract up to
-- dq_missing_day_grace_days before the as-of date (an activity may be logged a few days late).
-- A day whose only record is one call or email entered more than dq_token_backfill_hours after it
-- (a token entry back-filled to cover an empty day) counts as a day without activity too: honest reps
-- log within a day, a real visit is not a token, and a day with two or more records is not empty.
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

working_calendar as (
    select * from {{ ref('working_calendar') }}
),

bounds as (

    select
        (select min(_extract_date) from activities) as first_date,
        as_of_date - {{ var('dq_missing_day_grace_days') }} as last_date
    from as_of

),

calendar_days as (

    select
        {{ each_day_between('first_date', 'last_date') }} as work_date
    from bounds

),

rep_days as (

    select
        reps.rep_id,
        reps.rep_name,
        reps.region,
        calendar_days.work_date
    from reps
    inner join calendar_days
        on
            calendar_days.work_date >= reps.hire_date
            and (reps.leave_date is null or calendar_days.work_date <= reps.leave_date)
    -- quota reps: the contract's role value for a rep who carries a target
    where reps.role = 'rep'

),

judged_days as (

    select
        rep_days.rep_id,
        rep_days.rep_name,
        rep_days.work_date,
        coalesce(regional.day_kind, mainland.day_kind) as day_kind,
        coalesce(regional.holiday_name_zh, mainland.holiday_name_zh) as holiday_name_zh,
        coalesce(regional.holiday_name_en, mainland.holiday_name_en) as holiday_name_en,
        mainland.calendar_date is null as is_beyond_calendar,
        -- beyond the calendar: Monday to Friday
        coalesce(regional.is_working_day, mainland.is_working_day, {{ iso_day_of_week('rep_days.work_date') }} <= 5)
            as is_working_day
    from rep_days
    left join working_calendar as mainland
        on mainland.calendar_date = rep_days.work_date and mainland.region = 'CN'
    left join working_calendar as regional
        on regional.calendar_date = rep_days.work_date and regional.region = rep_days.region

),

rep_work_days as (

    select * from judged_days
    where is_working_day

),

logged_days as (

    select
        rep_id,
        cast(activity_at as date) as work_date,
        count(*) as activity_count,
        bool_or(activity_type = '拜访') as has_visit,
        -- minutes as DuckDB's date_diff counts them: the minute boundaries crossed
        cast(min({{ minute_boundaries_between('activity_at', 'logged_at') }}) as double) / 60.0 as first_entry_hours
    from activities
    group by all

),

active_days as (

    select * from logged_days
    where
        activity_count >= 2
        or has_visit
        or first_entry_hours is null  -- no entry time: nothing says it was back-filled
        or first_entry_hours <= {{ var('dq_token_backfill_hours') }}

),

token_days as (

    select * from logged_days
    where rep_id || work_date not in (select rep_id || work_date from active_days)

),

final as (

    select
        'missing_activity_day' as rule_id,
        'rep_days' as entity,
        rep_work_days.rep_id || ':' || {{ timestamp_text('rep_work_days.work_date', '%Y-%m-%d') }} as record_id,
        rep_work_days.rep_id,
        rep_work_days.rep_id || ' ' || rep_work_days.rep_name || ' 在 ' || {{ timestamp_text('rep_work_days.work_date', '%Y-%m-%d') }}
        -- 周一 ... 周日
        || '（周' || substr('一二三四五六日', {{ iso_day_of_week('rep_work_days.work_date') }}, 1)
        || case
            when rep_work_days.day_kind = 'makeup_workday'
                then '，' || coalesce(rep_work_days.holiday_name_zh, '') || '调休上班'
            else ''
        end
        || case
            when token_days.rep_id is null
                then '）没有任何拜访、电话或邮件记录 / no visit, call or email logged on a working day'
            else '）只有 1 条电话或邮件，' || cast(round(token_days.first_entry_hours) as integer)
                || ' 小时后才补录 / only one call or email on a working day, entered '
                || cast(round(token_days.first_entry_hours) as integer) || ' h later'
        end
        || case
            when rep_work_days.day_kind = 'makeup_workday'
                then ' (a make-up working day'
                || coalesce(' for ' || nullif(rep_work_days.holiday_name_en, ''), '') || ')'
            else ''
        end
        || case
            when rep_work_days.is_beyond_calendar
                then '；工作日历未覆盖该日期，按周一至周五判断 / the working calendar does not cover this date:'
                || ' judged Monday-Friday (salesreview refresh-calendar)'
            else ''
        end as evidence,
        -- the day is judged (and flagged) once the grace period has passed
        rep_work_days.work_date + {{ var('dq_missing_day_grace_days') }} as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from rep_work_days
    left join active_days
        on rep_work_days.rep_id = active_days.rep_id and rep_work_days.work_date = active_days.work_date
    left join token_days
        on rep_work_days.rep_id = token_days.rep_id and rep_work_days.work_date = token_days.work_date
    where active_days.rep_id is null

)

select * from final
