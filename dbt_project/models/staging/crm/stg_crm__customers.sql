{{ config(
    materialized=incremental_materialization(),
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'customers'),
        load_mode='delta',
        primary_key=['customer_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('customer_name') }} as customer_name,
        {{ from_text('industry') }} as industry,
        {{ from_text('region') }} as region,
        {{ from_text('city') }} as city,
        {{ from_text('tier') }} as tier,
        {{ from_text('channel') }} as channel,
        {{ from_text('budget', 'decimal(18, 2)') }} as budget,
        {{ from_text('owner_rep_id') }} as owner_rep_id,
        {{ from_text('contact_name') }} as contact_name,
        {{ from_text('contact_mobile') }} as contact_mobile,
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
