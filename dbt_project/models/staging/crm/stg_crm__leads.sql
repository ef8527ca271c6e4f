{{ config(
    materialized=incremental_materialization(),
    unique_key='lead_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'leads'),
        load_mode='delta',
        primary_key=['lead_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('lead_id') }} as lead_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('channel') }} as channel,
        {{ from_text('status') }} as status,
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('created_at', 'timestamp') }} as created_at,
        {{ from_text('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select * from renamed

)

select * from final
