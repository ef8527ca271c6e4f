{{ config(
    materialized=incremental_materialization(),
    unique_key='order_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('erp', 'sales_orders'),
        load_mode='delta',
        primary_key=['order_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('order_id') }} as order_id,
        {{ from_text('order_date', 'date') }} as order_date,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('product_id') }} as product_id,
        {{ from_text('quantity', 'integer') }} as quantity,
        {{ from_text('unit_price', 'decimal(18, 2)') }} as unit_price,
        {{ from_text('order_amount', 'decimal(18, 2)') }} as order_amount,
        {{ from_text('status') }} as status,
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
