{{ config(
    materialized=incremental_materialization(),
    unique_key='feedback_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'feedback'),
        load_mode='delta',
        primary_key=['feedback_id']
    ) }}
),

renamed as (

    select
        {{ from_text('feedback_id') }} as feedback_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('feedback_date', 'date') }} as feedback_date,
        {{ from_text('satisfaction', 'integer') }} as satisfaction,
        {{ from_text('category') }} as category,
        {{ from_text('comment') }} as comment,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select * from renamed

)

select * from final
