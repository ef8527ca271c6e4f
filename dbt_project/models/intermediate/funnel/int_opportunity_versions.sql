{{ config(materialized='table') }}
-- Every version of every opportunity as delivered, one per extract date: what the CRM said about the
-- deal (stage, amount, probability, promised date, owner) from known_from_date until the next
-- version arrived. Staging keeps only the latest version, so this reads the raw deltas, honouring
-- the as_of_date var as staging does (macros/staging/current_extract_rows.sql). Opportunities that a
-- 'block' quality rule keeps out of clean_crm__opportunities are left out here too.
with

source as (

    select *
    from {{ source('crm', 'opportunities') }}
    where {{ as_of_condition() }}

),

clean_opportunities as (
    select opportunity_id from {{ ref('clean_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

renamed as (

    select
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('owner_rep_id') }} as owner_rep_id,
        {{ from_text('stage') }} as stage_name,
        {{ from_text('amount', 'decimal(18, 2)') }} as amount,
        {{ from_text('probability', 'integer') }} as probability,
        {{ from_text('expected_close_date', 'date') }} as expected_close_date,
        {{ from_text('closed_date', 'date') }} as closed_date,
        {{ from_text('next_step') }} as next_step,
        {{ from_text('created_at', 'timestamp') }} as created_at,
        {{ from_text('updated_at', 'timestamp') }} as updated_at,
        _extract_date,
        _row_number
    from source

),

one_per_day as (

    -- a re-delivered day replaces its rows; within one file the latest version (as staging does)
    select *
    from renamed
    where opportunity_id in (select opportunity_id from clean_opportunities)
    qualify row_number() over (
        partition by opportunity_id, _extract_date
        order by updated_at desc nulls last, _row_number desc
    ) = 1

),

final as (

    select
        one_per_day.opportunity_id || ':' || cast(one_per_day._extract_date as string) as version_id,
        one_per_day.opportunity_id,
        one_per_day._extract_date as known_from_date,
        cast(
            lead(one_per_day._extract_date) over by_opportunity - interval 1 day as date
        ) as known_to_date,
        lead(one_per_day._extract_date) over by_opportunity is null as is_latest,
        one_per_day.owner_rep_id,
        one_per_day.stage_name,
        funnel_stages.stage_key,
        coalesce(funnel_stages.is_closed, false) as is_closed,
        coalesce(funnel_stages.is_closed and funnel_stages.is_won, false) as is_won,
        one_per_day.amount,
        one_per_day.probability,
        one_per_day.expected_close_date,
        one_per_day.closed_date,
        one_per_day.next_step,
        one_per_day.created_at,
        one_per_day.updated_at
    from one_per_day
    left join funnel_stages
        on one_per_day.stage_name = funnel_stages.stage_name
    window by_opportunity as (partition by one_per_day.opportunity_id order by one_per_day._extract_date)

)

select * from final
