{{ config(
    materialized=incremental_materialization(),
    unique_key='plan_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('erp', 'collection_plan'),
        load_mode='delta',
        primary_key=['plan_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('plan_id') }} as plan_id,
        {{ from_text('invoice_id') }} as invoice_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('planned_week_start', 'date') }} as planned_week_start_date,
        {{ from_text('planned_amount', 'decimal(18, 2)') }} as planned_amount,
        {{ from_text('risk_reason') }} as risk_reason,
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
