-- slipping_close_date (quality/DEFECTS.md): the promised signing date (expected_close_date) moved later in
-- var dq_slipping_min_postponements (3) or more delivered versions of the opportunity. Staging keeps only
-- the latest version, so this reads every delivered version from the raw table, with the same as-of filter
-- as staging (macros/staging/current_extract_rows.sql). Postponed once or twice stays unflagged. A date
-- cleared and entered again later counts as moved from the last date promised.
with

raw_versions as (

    select
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('expected_close_date', 'date') }} as expected_close_date,
        {{ from_text('updated_at', 'timestamp') }} as updated_at,
        _extract_date,
        _row_number
    from {{ source('crm', 'opportunities') }}
    where {{ as_of_condition() }}

),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

versions as (

    select
        raw_versions.*,
        -- the last promised date before, skipping versions where it was cleared: clearing the date and
        -- entering a later one is a postponement too (a near variant that would hide a push)
        {{ lag_ignore_nulls('raw_versions.expected_close_date') }} over (
            partition by raw_versions.opportunity_id
            order by raw_versions._extract_date, raw_versions.updated_at, raw_versions._row_number
        ) as previous_close_date
    from raw_versions

),

postponements as (

    select
        versions.*,
        row_number() over (
            partition by versions.opportunity_id
            order by versions._extract_date, versions.updated_at, versions._row_number
        ) as postponement_number
    from versions
    where versions.expected_close_date > versions.previous_close_date

),

{%- set postponement -%}
    {{ timestamp_text('updated_at', '%Y-%m-%d') }} || ' 从 ' || {{ timestamp_text('previous_close_date', '%Y-%m-%d') }}
            || ' 推到 ' || {{ timestamp_text('expected_close_date', '%Y-%m-%d') }}
{%- endset %}
per_opportunity as (

    select
        opportunity_id,
        count(*) as postponement_count,
        min(_extract_date) filter (
            where postponement_number = {{ var('dq_slipping_min_postponements') }}
        ) as first_seen_date,
        {{ ordered_string_agg(postponement, "'；'", 'postponement_number') }} as postponed_dates
    from postponements
    group by opportunity_id

),

final as (

    select
        'slipping_close_date' as rule_id,
        'opportunities' as entity,
        per_opportunity.opportunity_id as record_id,
        opportunities.owner_rep_id as rep_id,
        '预计签约日期推迟了 ' || per_opportunity.postponement_count || ' 次：'
        || per_opportunity.postponed_dates as evidence,
        per_opportunity.first_seen_date,
        cast(opportunities.amount as decimal(18, 2)) as amount
    from per_opportunity
    left join opportunities
        on per_opportunity.opportunity_id = opportunities.opportunity_id
    where per_opportunity.postponement_count >= {{ var('dq_slipping_min_postponements') }}

)

select * from final
