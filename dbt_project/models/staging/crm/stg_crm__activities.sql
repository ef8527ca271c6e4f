{{ config(
    materialized=incremental_materialization(),
    unique_key='activity_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'activities'),
        load_mode='delta',
        primary_key=['activity_id']
    ) }}
),

renamed as (

    select
        {{ from_text('activity_id') }} as activity_id,
        {{ from_text('activity_type') }} as activity_type,
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('activity_at', 'timestamp') }} as activity_at,
        {{ from_text('duration_minutes', 'integer') }} as duration_minutes,
        {{ from_text('city') }} as city,
        {{ from_text('intention_level') }} as intention_level,
        {{ from_text('summary') }} as summary,
        {{ from_text('logged_at', 'timestamp') }} as logged_at,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select * from renamed

)

select * from final
