{{ config(
    materialized=incremental_materialization(),
    unique_key='target_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'targets'),
        load_mode='delta',
        primary_key=['target_id'],
        version_column='updated_at'
    ) }}
),

renamed as (

    select
        {{ from_text('target_id') }} as target_id,
        {{ from_text('target_level') }} as target_level,
        {{ from_text('owner_id') }} as owner_id,
        {{ from_text('period_start', 'date') }} as period_start_date,
        {{ from_text('period_end', 'date') }} as period_end_date,
        {{ from_text('target_amount', 'decimal(18, 2)') }} as target_amount,
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
