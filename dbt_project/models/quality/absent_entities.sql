-- Contract entities the source does not have at all (quality/DEFECTS.md, "absent entities"): a source
-- profile declares them, the ingest records the declaration per delivery in
-- raw_meta.delivery_sources.absent_entities (a list, e.g. ['leads', 'feedback']), and the latest
-- delivery of each system on or before the as-of date is what counts. var dq_absent_entities adds
-- entities by hand. A reference into an absent entity is not an orphan: the reference rules stay silent.
-- Until the ingest has created raw_meta.delivery_sources (older warehouses) only the var counts.
-- depends_on: {{ ref('warehouse_as_of') }}
{%- set relation = adapter.get_relation(
    database=target.database, schema='raw_meta', identifier='delivery_sources'
) if execute else none %}
with

declared as (

    select {{ unnest_list(string_list(var('dq_absent_entities'))) }} as entity

),

{% if relation is not none -%}
warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

latest_deliveries as (

    select
        delivery_sources.system,
        delivery_sources.absent_entities
    from {{ relation }} as delivery_sources
    cross join warehouse_as_of
    where
        delivery_sources.extract_date <= warehouse_as_of.as_of_date
        or delivery_sources.initial
    -- the latest delivery by the as-of date; before a first load of history, that delivery
    qualify row_number() over (
        partition by delivery_sources.system
        order by
            delivery_sources.extract_date <= warehouse_as_of.as_of_date desc,
            case
                when delivery_sources.extract_date <= warehouse_as_of.as_of_date
                    then delivery_sources.extract_date
            end desc,
            delivery_sources.extract_date asc
    ) = 1

),

delivered as (

    select {{ unnest_list('absent_entities') }} as entity
    from latest_deliveries

),
{%- else -%}
delivered as (
    select cast(null as string) as entity
    where false
),
{%- endif %}

final as (

    select distinct entity
    from (
        select entity from declared
        union all
        select entity from delivered
    ) as absent
    where entity is not null

)

select * from final
