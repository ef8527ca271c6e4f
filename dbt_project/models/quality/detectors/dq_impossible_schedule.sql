-- impossible_schedule: visits nobody could have made. Two visits of one rep on one day in different
-- cities less than dq_schedule_min_minutes_between_cities apart (start to start; both are flagged), or
-- more than dq_schedule_max_visits_per_day visits in one day (all of them are flagged).
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

visits as (

    select
        activity_id,
        rep_id,
        city,
        activity_at,
        cast(activity_at as date) as visit_date,
        _extract_date
    from activities
    -- '拜访' is the contract's value for a visit (activities.activity_type)
    where activity_type = '拜访' and city is not null

),

too_close as (

    select
        visit.activity_id,
        visit.rep_id,
        '与 ' || other.activity_id || '（' || other.city || ' ' || strftime(other.activity_at, '%H:%M')
        || '）相隔 ' || cast(floor(abs(epoch(visit.activity_at) - epoch(other.activity_at)) / 60) as integer)
        || ' 分钟，却在' || visit.city || ' / '
        || cast(floor(abs(epoch(visit.activity_at) - epoch(other.activity_at)) / 60) as integer)
        || ' min from a visit in another city' as reason,
        greatest(visit._extract_date, other._extract_date) as evidence_extract_date
    from visits as visit
    inner join visits as other
        on
            visit.rep_id = other.rep_id
            and visit.visit_date = other.visit_date
            and visit.activity_id <> other.activity_id
            and visit.city <> other.city
    where
        abs(epoch(visit.activity_at) - epoch(other.activity_at))
        < 60 * {{ var('dq_schedule_min_minutes_between_cities') }}

),

crowded_days as (

    select
        rep_id,
        visit_date,
        count(*) as visit_count,
        -- the day is crowded from the extract that brought the visit one over the limit
        list_sort(list(_extract_date))[{{ var('dq_schedule_max_visits_per_day') + 1 }}] as crowded_extract_date
    from visits
    group by rep_id, visit_date
    having count(*) > {{ var('dq_schedule_max_visits_per_day') }}

),

too_many as (

    select
        visits.activity_id,
        visits.rep_id,
        '当天共 ' || crowded_days.visit_count || ' 次拜访（上限 {{ var("dq_schedule_max_visits_per_day") }}）/ '
        || crowded_days.visit_count || ' visits in one day (limit '
        || '{{ var("dq_schedule_max_visits_per_day") }})' as reason,
        greatest(visits._extract_date, crowded_days.crowded_extract_date) as evidence_extract_date
    from visits
    inner join crowded_days
        on visits.rep_id = crowded_days.rep_id and visits.visit_date = crowded_days.visit_date

),

reasons as (

    select * from too_close
    union all
    select * from too_many

),

final as (

    select
        'impossible_schedule' as rule_id,
        'activities' as entity,
        activity_id as record_id,
        rep_id,
        string_agg(reason, '; ' order by reason) as evidence,
        min(evidence_extract_date) as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from reasons
    group by activity_id, rep_id

)

select * from final
