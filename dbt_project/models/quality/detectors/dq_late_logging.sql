-- late_logging: an activity entered in the CRM more than dq_late_logging_max_hours after it happened.
-- Visits written up days later are often reconstructed, or invented (quality/DEFECTS.md).
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

delays as (

    select
        activity_id,
        rep_id,
        activity_at,
        logged_at,
        _extract_date,
        (cast({{ epoch_seconds('logged_at') }} as double) - cast({{ epoch_seconds('activity_at') }} as double))
        / 3600.0 as hours_late
    from activities

),

final as (

    select
        'late_logging' as rule_id,
        'activities' as entity,
        activity_id as record_id,
        rep_id,
        '活动发生于 ' || {{ timestamp_text('activity_at', '%Y-%m-%d %H:%M') }}
        || '，' || {{ timestamp_text('logged_at', '%Y-%m-%d %H:%M') }} || ' 才录入，晚了 '
        || cast(floor(hours_late) as integer) || ' 小时（上限 {{ var("dq_late_logging_max_hours") }} 小时）'
        || ' / logged ' || cast(floor(hours_late) as integer) || ' h after it happened (limit '
        || '{{ var("dq_late_logging_max_hours") }} h)' as evidence,
        _extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from delays
    where hours_late > {{ var('dq_late_logging_max_hours') }}

)

select * from final
