-- deadline_burst: the week's record filled in at one sitting at the weekend. At least
-- dq_burst_min_activities activities dated on earlier days, logged by one rep within
-- dq_burst_window_minutes, between Friday dq_burst_friday_from_hour:00 and Sunday midnight. Every
-- activity of such a sitting is flagged. The day's own activities logged together on Friday evening
-- are normal (not dated on an earlier day).
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

catch_up_entries as (

    select
        activity_id,
        rep_id,
        activity_at,
        logged_at,
        _extract_date
    from activities
    where
        cast(activity_at as date) < cast(logged_at as date)
        and (
            isodow(logged_at) in (6, 7)
            or (isodow(logged_at) = 5 and hour(logged_at) >= {{ var('dq_burst_friday_from_hour') }})
        )

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
        || '）集中补录 ' || entry_count || ' 条以前日期的活动，本条日期 ' || strftime(activity_at, '%Y-%m-%d')
        || ' / ' || entry_count || ' activities for earlier days logged within '
        || cast(round((epoch(sitting_end) - epoch(sitting_start)) / 60) as integer)
        || ' minutes at the weekend' as evidence,
        complete_extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from flagged

)

select * from final
