with

source as (
    {{ current_extract_rows(
        source('crm', 'reps'),
        load_mode='snapshot',
        primary_key=['rep_id']
    ) }}
),

renamed as (

    select
        {{ from_text('rep_id') }} as rep_id,
        {{ from_text('rep_name') }} as rep_name,
        {{ from_text('role') }} as role,
        {{ from_text('team_id') }} as team_id,
        {{ from_text('team_name') }} as team_name,
        {{ from_text('region') }} as region,
        {{ from_text('manager_id') }} as manager_id,
        {{ from_text('mobile') }} as mobile,
        {{ from_text('hire_date', 'date') }} as hire_date,
        {{ from_text('leave_date', 'date') }} as leave_date,
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
