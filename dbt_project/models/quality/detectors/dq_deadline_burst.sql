-- deadline_burst: the record back-filled at one sitting just before a review. The weekly review meets on
-- ISO weekday dq_review_weekday at dq_review_time; an activity dated on a day before the day it was
-- logged, and logged within dq_burst_hours_before_review hours before the next review, is a catch-up
-- entry. When one rep logged dq_burst_min_activities or more of them within dq_burst_window_minutes, every
-- entry of the sitting is flagged, whatever the weekday: moving the review moves what is flagged.
-- Normal and not flagged: the day's own activities entered together at the end of the day (not dated
-- on an earlier day); a trip's few visits logged the next morning (fewer than the minimum); a back-filling
-- sitting far from any review (e.g. on the Wednesday after a Monday review).
{%- set weekday = var('dq_review_weekday') %}
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

with_review as (

    select
        activity_id,
        rep_id,
        activity_at,
        logged_at,
        _extract_date,
        -- the review of this week's review weekday, on the logging day or after it
        cast(logged_at as date) + cast(({{ weekday }} - isodow(logged_at) + 7) % 7 as integer)
        + cast('{{ var("dq_review_time") }}' as time) as review_this_week
    from activities
    where logged_at is not null and activity_at is not null

),

entries as (

    select
        activity_id,
        rep_id,
        activity_at,
        logged_at,
        _extract_date,
        -- the first review after the entry (a review at the very moment of logging is over)
        case
            when review_this_week > logged_at then review_this_week
            else review_this_week + interval 7 day
        end as next_review_at
    from with_review

),

catch_up_entries as (

    select *
    from entries
    where
        cast(activity_at as date) < cast(logged_at as date)
        and epoch(next_review_at) - epoch(logged_at) <= 3600 * {{ var('dq_burst_hours_before_review') }}

),

-- every window of dq_burst_window_minutes that starts at an entry and holds enough entries
sittings as (

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
            and entry.logged_at <= window_start.logged_at + to_minutes({{ var('dq_burst_window_minutes') }})
    group by window_start.rep_id, window_start.logged_at
    having count(*) >= {{ var('dq_burst_min_activities') }}

),

-- each flagged entry with the largest sitting it belongs to
flagged as (

    select
        entry.activity_id,
        entry.rep_id,
        entry.activity_at,
        entry.next_review_at,
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
        rep_id || ' 于 ' || strftime(sitting_start, '%Y-%m-%d %H:%M') || '-' || strftime(sitting_end, '%H:%M')
        || '（' || ['周一', '周二', '周三', '周四', '周五', '周六', '周日'][isodow(sitting_start)]
        || '）集中补录 ' || entry_count || ' 条以前日期的活动，距 ' || strftime(next_review_at, '%Y-%m-%d %H:%M')
        || ' 复盘还有 ' || cast(floor((epoch(next_review_at) - epoch(sitting_end)) / 3600) as integer)
        || ' 小时，本条日期 ' || strftime(activity_at, '%Y-%m-%d') || ' / ' || entry_count
        || ' activities for earlier days logged within '
        || cast(round((epoch(sitting_end) - epoch(sitting_start)) / 60) as integer) || ' minutes, '
        || cast(floor((epoch(next_review_at) - epoch(sitting_end)) / 3600) as integer)
        || ' h before the review of ' || strftime(next_review_at, '%Y-%m-%d %H:%M') as evidence,
        complete_extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from flagged

)

select * from final
