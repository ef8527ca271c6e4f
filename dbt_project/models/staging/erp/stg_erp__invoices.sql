{{ config(
    materialized=incremental_materialization(),
    unique_key='invoice_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('erp', 'invoices'),
        load_mode='delta',
        primary_key=['invoice_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('invoice_id') }} as invoice_id,
        {{ from_text('order_id') }} as order_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('invoice_date', 'date') }} as invoice_date,
        {{ from_text('credit_terms_days', 'integer') }} as credit_terms_days,
        {{ from_text('due_date', 'date') }} as due_date,
        {{ from_text('invoice_amount', 'decimal(18, 2)') }} as invoice_amount,
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
