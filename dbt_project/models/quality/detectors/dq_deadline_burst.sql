-- deadline_burst: the record back-filled at one sitting just before a review.
-- Reviews: the weekly one on ISO weekday dq_review_weekday at dq_review_time, held on the next working day
-- when that day is a holiday; and, when dq_monthly_review, the monthly one on the first working day of the
-- month at the same time (working days: the working_calendar seed, national rows; Monday-Friday beyond it).
-- A review's back-filling window opens at the review time on the last working weekday before the review
-- day (Friday 10:00 for Monday 10:00; the last afternoon before a holiday for the review after it; the last
-- working day of the month for the monthly review). An activity dated on a day before the day it was
-- logged, and logged in such a window, is a catch-up entry. A sitting is flagged, every entry of it, when
-- one rep logged dq_burst_min_activities or more catch-up entries within dq_burst_window_minutes, or in one
-- run of entries none more than dq_burst_max_gap_minutes after the previous (a sitting spread over an
-- evening). Moving the review moves what is flagged.
-- Normal and not flagged: the day's own activities entered together at the end of the day (not dated on
-- an earlier day); a trip's few visits logged the next morning (fewer than the minimum); a back-filling
-- sitting far from any review (e.g. on the Wednesday after a Monday review).
{%- set weekday = var('dq_review_weekday') %}
{%- set min_activities = var('dq_burst_min_activities') %}
{#- the review time of day ('10:00') in seconds after midnight -#}
{%- set review_time = (var('dq_review_time') ~ ':0:0').split(':') %}
{%- set review_seconds = review_time[0] | int * 3600 + review_time[1] | int * 60 + review_time[2] | int %}
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
    where logged_at is not null and activity_at is not null
),

working_calendar as (
    select * from {{ ref('working_calendar') }}
    where region = 'CN'
),

-- every day around the activities' logging days, working or not
days as (

    select
        days.day,
        coalesce(working_calendar.is_working_day, {{ iso_day_of_week('days.day') }} <= 5) as is_working_day
    from (
        select {{ each_day_between('first_day', 'last_day') }} as day
        from (
            select
                min(cast(logged_at as date)) - 40 as first_day,
                max(cast(logged_at as date)) + 39 as last_day
            from activities
        )
    ) as days
    left join working_calendar
        on working_calendar.calendar_date = days.day

),

working_days as (
    select day from days where is_working_day
),

-- the days a review is meant for: the weekly review's weekday, the first of the month
meant_days as (

    select day from days where {{ iso_day_of_week('day') }} = {{ weekday }}
    {%- if var('dq_monthly_review') %}
    union
    select day from days where day(day) = 1
    {%- endif %}

),

reviews as (

    select distinct
        -- held on the first working day from the day it was meant for
        cast((select min(working_days.day) from working_days where working_days.day >= meant_days.day) as timestamp)
        + interval {{ review_seconds }} seconds as review_at
    from meant_days

),

review_windows as (

    select
        review_at,
        -- opens at the review time on the last working day before the review day, a weekday (a make-up
        -- Saturday before a long holiday is a working day, but the eve of the holiday is the Friday)
        cast((
            select max(working_days.day) from working_days
            where working_days.day < cast(reviews.review_at as date) and {{ iso_day_of_week('working_days.day') }} <= 5
        ) as timestamp)
        + interval {{ review_seconds }} seconds as window_opens_at
    from reviews
    where review_at is not null

),

catch_up_entries as (

    select
        activities.activity_id,
        activities.rep_id,
        activities.activity_at,
        activities.logged_at,
        activities._extract_date,
        min(review_windows.review_at) as review_at
    from activities
    inner join review_windows
        on
            activities.logged_at >= review_windows.window_opens_at
            and activities.logged_at < review_windows.review_at
    where cast(activities.activity_at as date) < cast(activities.logged_at as date)
    group by all

),

-- every window of dq_burst_window_minutes that starts at an entry and holds enough entries
window_sittings as (

    select
        window_start.rep_id,
        window_start.logged_at as sitting_start,
        max(entry.logged_at) as sitting_end,
        count(*) as entry_count,
        max(entry._extract_date) as complete_extract_date
    from catch_up_entries as window_start
    inner join catch_up_entries as entry
        on
            entry.rep_id = window_start.rep_id
            and entry.logged_at >= window_start.logged_at
            and entry.logged_at <= window_start.logged_at + interval {{ var('dq_burst_window_minutes') }} minutes
    group by window_start.rep_id, window_start.logged_at
    having count(*) >= {{ min_activities }}

),

-- runs of entries, each no more than dq_burst_max_gap_minutes after the previous one of the rep
runs as (

    select
        *,
        sum(case when starts_run then 1 else 0 end) over (
            partition by rep_id order by logged_at, activity_id rows unbounded preceding
        ) as run_no
    from (
        select
            *,
            coalesce(
                cast({{ epoch_seconds('logged_at') }} as double)
                - cast({{ epoch_seconds('lag(logged_at) over (partition by rep_id order by logged_at, activity_id)') }} as double)
                > 60 * {{ var('dq_burst_max_gap_minutes') }},
                true
            ) as starts_run
        from catch_up_entries
    )

),

run_sittings as (

    select
        rep_id,
        min(logged_at) as sitting_start,
        max(logged_at) as sitting_end,
        count(*) as entry_count,
        max(_extract_date) as complete_extract_date
    from runs
    group by rep_id, run_no
    having count(*) >= {{ min_activities }}

),

sittings as (

    select * from window_sittings
    union all
    select * from run_sittings

),

-- each flagged entry with the largest sitting it belongs to
flagged as (

    select
        entry.activity_id,
        entry.rep_id,
        entry.activity_at,
        entry.review_at,
        sittings.sitting_start,
        sittings.sitting_end,
        sittings.entry_count,
        sittings.complete_extract_date
    from catch_up_entries as entry
    inner join sittings
        on
            entry.rep_id = sittings.rep_id
            and entry.logged_at between sittings.sitting_start and sittings.sitting_end
    qualify row_number() over (
        partition by entry.activity_id order by sittings.entry_count desc, sittings.sitting_start
    ) = 1

),

final as (

    select
        'deadline_burst' as rule_id,
        'activities' as entity,
        activity_id as record_id,
        rep_id,
        rep_id || ' 于 ' || {{ timestamp_text('sitting_start', '%Y-%m-%d %H:%M') }} || '-'
        || {{ timestamp_text('sitting_end', '%H:%M') }}
        -- 周一 ... 周日
        || '（周' || substr('一二三四五六日', {{ iso_day_of_week('sitting_start') }}, 1)
        || '）集中补录 ' || entry_count || ' 条以前日期的活动，距 ' || {{ timestamp_text('review_at', '%Y-%m-%d %H:%M') }}
        || ' 复盘还有 ' || cast(floor((review_epoch - sitting_end_epoch) / 3600) as integer)
        || ' 小时，本条日期 ' || {{ timestamp_text('activity_at', '%Y-%m-%d') }} || ' / ' || entry_count
        || ' activities for earlier days logged within '
        || cast(round((sitting_end_epoch - sitting_start_epoch) / 60) as integer) || ' minutes, '
        || cast(floor((review_epoch - sitting_end_epoch) / 3600) as integer)
        || ' h before the review of ' || {{ timestamp_text('review_at', '%Y-%m-%d %H:%M') }} as evidence,
        complete_extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from (
        select
            *,
            cast({{ epoch_seconds('review_at') }} as double) as review_epoch,
            cast({{ epoch_seconds('sitting_start') }} as double) as sitting_start_epoch,
            cast({{ epoch_seconds('sitting_end') }} as double) as sitting_end_epoch
        from flagged
    )

)

select * from final
