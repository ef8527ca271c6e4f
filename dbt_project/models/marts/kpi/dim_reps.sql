-- Sales reps as of the latest reps snapshot, with their manager's name (for report labels).
with

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

final as (

    select
        reps.rep_id,
        reps.rep_name,
        reps.role,
        reps.team_id,
        reps.team_name,
        reps.region,
        reps.manager_id,
        managers.rep_name as manager_name,
        reps.hire_date,
        reps.leave_date,
        reps.leave_date is null as is_employed
    from reps
    left join reps as managers
        on reps.manager_id = managers.rep_id

)

select * from final
