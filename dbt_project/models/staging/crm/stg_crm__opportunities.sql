{{ config(
    materialized=incremental_materialization(),
    unique_key='opportunity_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'opportunities'),
        load_mode='delta',
        primary_key=['opportunity_id'],
        version_column='updated_at'
    ) }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

renamed as (

    select
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('opportunity_name') }} as opportunity_name,
        {{ from_text('lead_id') }} as lead_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('owner_rep_id') }} as owner_rep_id,
        {{ from_text('product_id') }} as product_id,
        {{ from_text('stage') }} as stage_name,
        {{ from_text('amount', 'decimal(18, 2)') }} as amount,
        {{ from_text('probability', 'integer') }} as probability,
        {{ from_text('expected_close_date', 'date') }} as expected_close_date,
        {{ from_text('closed_date', 'date') }} as closed_date,
        {{ from_text('loss_reason') }} as loss_reason,
        {{ from_text('competitor') }} as competitor,
        {{ from_text('next_step') }} as next_step,
        {{ from_text('created_at', 'timestamp') }} as created_at,
        {{ from_text('updated_at', 'timestamp') }} as updated_at,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select
        renamed.opportunity_id,
        renamed.opportunity_name,
        renamed.lead_id,
        renamed.customer_id,
        renamed.owner_rep_id,
        renamed.product_id,
        renamed.stage_name,
        funnel_stages.stage_key,
        renamed.amount,
        renamed.probability,
        renamed.expected_close_date,
        renamed.closed_date,
        renamed.loss_reason,
        renamed.competitor,
        renamed.next_step,
        renamed.created_at,
        renamed.updated_at,
        renamed._source_file,
        renamed._row_number,
        renamed._extract_date
    from renamed
    -- left join: a stage name missing from the seed keeps its row (stage_key null, tested).
    left join funnel_stages
        on renamed.stage_name = funnel_stages.stage_name

)

select * from final
