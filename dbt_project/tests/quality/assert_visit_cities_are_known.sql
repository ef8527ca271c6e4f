-- Cities written on visits that the cities seed does not know, however written (city_names): their visits
-- are not judged on travel time by rule impossible_schedule (overlaps and too many visits still are).
-- Warns, one row per written city with its visits, so that someone adds the city or an alias to
-- seeds/cities.csv.
{{ config(meta={'dagster': {'ref': {'name': 'city_names'}}}) }}  {#- its asset check in Dagster -#}
{{ config(severity='warn') }}
with

visits as (
    select * from {{ ref('stg_crm__activities') }}
    where activity_type = '拜访' and {{ city_key('city') }} is not null
),

city_names as (
    select * from {{ ref('city_names') }}
),

final as (

    select
        visits.city,
        count(*) as visits,
        min(visits.activity_at) as first_visit_at,
        max(visits.activity_at) as last_visit_at
    from visits
    left join city_names
        on {{ city_key('visits.city') }} = city_names.city_key
    where city_names.city_key is null
    group by visits.city

)

select * from final
