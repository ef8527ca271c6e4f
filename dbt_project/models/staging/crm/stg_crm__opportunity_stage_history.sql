{{ config(
    materialized=incremental_materialization(),
    unique_key='stage_change_id',
    incremental_strategy='delete+insert',
    full_refresh=staging_full_refresh()
) }}

with

source as (
    {{ current_extract_rows(
        source('crm', 'opportunity_stage_history'),
        load_mode='delta',
        primary_key=['stage_change_id']
    ) }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

renamed as (

    select
        {{ from_text('stage_change_id') }} as stage_change_id,
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('from_stage') }} as from_stage_name,
        {{ from_text('to_stage') }} as to_stage_name,
        {{ from_text('amount', 'decimal(18, 2)') }} as amount,
        {{ from_text('changed_at', 'timestamp') }} as changed_at,
        {{ from_text('changed_by') }} as changed_by_rep_id,
        _source_file,
        _row_number,
        _extract_date
    from source

),

final as (

    select
        renamed.stage_change_id,
        renamed.opportunity_id,
        renamed.from_stage_name,
        from_stages.stage_key as from_stage_key,
        renamed.to_stage_name,
        to_stages.stage_key as to_stage_key,
        renamed.amount,
        renamed.changed_at,
        renamed.changed_by_rep_id,
        renamed._source_file,
        renamed._row_number,
        renamed._extract_date
    from renamed
    left join funnel_stages as from_stages
        on renamed.from_stage_name = from_stages.stage_name
    left join funnel_stages as to_stages
        on renamed.to_stage_name = to_stages.stage_name

)

select * from final
