{{ config(
    materialized=incremental_materialization(),
    unique_key='payment_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('erp', 'payments'),
        load_mode='delta',
        primary_key=['payment_id']
    ) }}
),

renamed as (

    select
        {{ from_text('payment_id') }} as payment_id,
        {{ from_text('invoice_id') }} as invoice_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('payment_date', 'date') }} as payment_date,
        {{ from_text('payment_amount', 'decimal(18, 2)') }} as payment_amount,
        {{ from_text('method') }} as payment_method,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select * from renamed

)

select * from final
