with

source as (
    {{ current_extract_rows(
        source('erp', 'products'),
        load_mode='snapshot',
        primary_key=['product_id']
    ) }}
),

renamed as (

    select
        {{ from_text('product_id') }} as product_id,
        {{ from_text('product_name') }} as product_name,
        {{ from_text('product_line') }} as product_line,
        {{ from_text('list_price', 'decimal(18, 2)') }} as list_price,
        {{ from_text('unit') }} as unit,
        {{ from_text('is_active', 'boolean') }} as is_active,
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
