-- impossible_schedule: visits (拜访) of one rep on one day that nobody could have made. A visit lasts
-- from activity_at for duration_minutes (none when not recorded).
--   1. Two visits that overlap: the later starts before the earlier's recorded end. A rep cannot be in
--      two meetings at once, in one city or two, and here his own record says he was.
--   2. Two consecutive visits in different cities with less time between the end of the first and the
--      start of the second than the trip takes. Recorded durations are estimates (often a default), so
--      for a trip the rule believes only that a visit took dq_schedule_duration_share of its recorded
--      duration, and judges from that believed end. The trip's time is the fastest of the travel modes
--      of var dq_travel_modes over the great-circle distance between the two cities (seed cities, found
--      however the city was written: city_names). A city the table does not know is not judged on
--      distance (the warn test assert_visit_cities_are_known names it).
--   3. More than dq_schedule_max_visits_per_day visits in one day (all of them are flagged).
-- Both visits of a pair are flagged. One row per visit, every reason it was flagged for in the evidence,
-- which gives the recorded times.
{%- set modes = var('dq_travel_modes') %}
{%- set mode_labels = {'road': '驾车', 'rail': '高铁', 'air': '飞机'} %}
{%- set labelled_modes = [] %}
{%- for name in modes %}{% do labelled_modes.append((mode_labels.get(name, name), name)) %}{% endfor %}
{%- set share = var('dq_schedule_duration_share') %}
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

city_names as (
    select * from {{ ref('city_names') }}
),

visits as (

    select
        activities.activity_id,
        activities.rep_id,
        {{ city_key('activities.city') }} as city_key,
        -- the city as the table names it (上海市 and 上海 are one city); as written when unknown
        coalesce(city_names.city, activities.city) as city,
        city_names.city is not null as is_known_city,
        city_names.latitude,
        city_names.longitude,
        activities.activity_at,
        -- a duration not recorded counts as none: the visit is judged by its start only
        greatest(coalesce(activities.duration_minutes, 0), 0) as duration_minutes,
        activities.activity_at
        + greatest(coalesce(activities.duration_minutes, 0), 0) * interval 1 minute as ends_at,
        cast(activities.activity_at as date) as visit_date,
        activities._extract_date,
        row_number() over (
            partition by activities.rep_id, cast(activities.activity_at as date)
            order by activities.activity_at, activities.activity_id
        ) as visit_no
    from activities
    left join city_names
        on {{ city_key('activities.city') }} = city_names.city_key
    -- '拜访' is the contract's value for a visit (activities.activity_type)
    where activities.activity_type = '拜访'

),

-- every two visits of a rep on one day, the earlier first
pairs as (

    select
        earlier.rep_id,
        earlier.activity_id as earlier_id,
        earlier.city as earlier_city,
        earlier.activity_at as earlier_at,
        earlier.ends_at as earlier_ends_at,
        later.activity_id as later_id,
        later.city as later_city,
        later.activity_at as later_at,
        later.ends_at as later_ends_at,
        later.visit_no = earlier.visit_no + 1 as is_consecutive,
        -- from the recorded end (the evidence) and from the believed end (the judgement)
        (cast({{ epoch_seconds('later.activity_at') }} as double) - cast({{ epoch_seconds('earlier.ends_at') }} as double))
        / 60.0 as gap_minutes,
        (cast({{ epoch_seconds('later.activity_at') }} as double) - cast({{ epoch_seconds('earlier.activity_at') }} as double))
        / 60.0 - {{ share }} * earlier.duration_minutes as believed_gap_minutes,
        case
            when earlier.is_known_city and later.is_known_city and earlier.city <> later.city
                then 2 * 6371 * asin(sqrt(
                    power(sin(radians(later.latitude - earlier.latitude) / 2), 2)
                    + cos(radians(earlier.latitude)) * cos(radians(later.latitude))
                    * power(sin(radians(later.longitude - earlier.longitude) / 2), 2)
                ))
        end as distance_km,
        greatest(earlier._extract_date, later._extract_date) as evidence_extract_date
    from visits as earlier
    inner join visits as later
        on
            earlier.rep_id = later.rep_id
            and earlier.visit_date = later.visit_date
            and later.visit_no > earlier.visit_no

),

-- the trip by each way to make it: overhead + distance x route factor / speed
trips as (

    select
        *,
        {%- for name, mode in modes.items() %}
        {{ mode.overhead_minutes }} + distance_km * {{ mode.route_factor }} / {{ mode.kmh }} * 60 as {{ name }}_minutes
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from pairs

),

judged_pairs as (

    select
        *,
        -- the fastest way to make the trip
        {% if modes | length > 1 -%}
        least({% for name in modes %}{{ name }}_minutes{% if not loop.last %}, {% endif %}{% endfor %})
        {%- else -%}
        {% for name in modes %}{{ name }}_minutes{% endfor %}
        {%- endif %} as fastest_minutes
    from trips

),

conflicts as (

    select
        *,
        -- the fastest mode's label (of two as fast, the first label in text order)
        case
            {%- for label, name in labelled_modes | sort %}
            when {{ name }}_minutes = fastest_minutes then '{{ label }}'
            {%- endfor %}
        end as fastest_mode,
        case
            when gap_minutes < 0 then 'overlap'
            when is_consecutive and distance_km is not null and believed_gap_minutes < fastest_minutes
                then 'travel'
        end as conflict
    from judged_pairs

),

-- each conflict seen from both of its visits
conflict_sides as (

    select
        earlier_id as activity_id,
        later_id as other_id,
        later_city as other_city,
        later_at as other_at,
        later_ends_at as other_ends_at,
        *
    from conflicts
    where conflict is not null
    union all
    select
        later_id as activity_id,
        earlier_id as other_id,
        earlier_city as other_city,
        earlier_at as other_at,
        earlier_ends_at as other_ends_at,
        *
    from conflicts
    where conflict is not null

),

impossible_pairs as (

    select
        conflict_sides.activity_id,
        conflict_sides.rep_id,
        case
            when conflict = 'overlap' then
                '与 ' || other_id || '（' || other_city || ' ' || {{ timestamp_text('other_at', '%H:%M') }} || '-'
                || {{ timestamp_text('other_ends_at', '%H:%M') }} || '）时间重叠 '
                || cast(floor(-gap_minutes) as integer) || ' 分钟 / overlaps visit ' || other_id || ' by '
                || cast(floor(-gap_minutes) as integer) || ' min'
            else
                '与 ' || other_id || '（' || other_city || ' ' || {{ timestamp_text('other_at', '%H:%M') }} || '-'
                || {{ timestamp_text('other_ends_at', '%H:%M') }} || '）之间只有 '
                || cast(floor(greatest(gap_minutes, 0)) as integer) || ' 分钟，' || earlier_city || '→'
                || later_city || '约 ' || cast(round(distance_km) as integer) || ' 公里，最快也要 '
                || cast(ceil(fastest_minutes) as integer) || ' 分钟（' || fastest_mode || '） / only '
                || cast(floor(greatest(gap_minutes, 0)) as integer) || ' min between this visit and '
                || other_id || ', ' || cast(round(distance_km) as integer) || ' km away: the trip takes at least '
                || cast(ceil(fastest_minutes) as integer) || ' min'
        end as reason,
        evidence_extract_date
    from conflict_sides

),

crowded_days as (

    select
        rep_id,
        visit_date,
        count(*) as visit_count,
        -- the day is crowded from the extract that brought the visit one over the limit
        max(case when extract_no = {{ var('dq_schedule_max_visits_per_day') + 1 }} then _extract_date end)
            as crowded_extract_date
    from (
        select
            *,
            row_number() over (partition by rep_id, visit_date order by _extract_date nulls last) as extract_no
        from visits
    )
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

    select * from impossible_pairs
    union all
    select * from too_many

),

final as (

    select
        'impossible_schedule' as rule_id,
        'activities' as entity,
        activity_id as record_id,
        rep_id,
        {{ string_agg_sorted('reason', "'; '") }} as evidence,
        min(evidence_extract_date) as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from reasons
    group by activity_id, rep_id

)

select * from final
