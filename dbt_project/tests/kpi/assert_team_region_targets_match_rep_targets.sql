-- The extract's targets must agree across levels: a quarterly team or region target equals the sum
-- of its reps' weekly targets whose Monday falls in the quarter (the team/region period runs from the
-- quarter's first Monday to the Sunday before the next quarter's first Monday). Reps are placed in
-- teams and regions by the reps extract. Returns one row per team/region target that disagrees.
-- Only quarterly team/region rows are checked (002: they are set per quarter); targets of other
-- periods at those levels are not used anywhere (the marts roll up rep targets).
{{ config(meta={'dagster': {'ref': {'name': 'clean_crm__targets'}}}) }}  {#- its asset check in Dagster -#}
with

targets as (
    select * from {{ ref('clean_crm__targets') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

higher_level_targets as (

    select
        target_id,
        target_level,
        owner_id,
        period_start_date,
        period_end_date,
        target_amount,
        cast(date_trunc('quarter', period_start_date) as date) as quarter_start_date
    from targets
    where target_level in ('team', 'region')

),

quarterly_targets as (

    -- first Monday on or after the quarter's first day: add (8 - isodow) % 7 days
    select
        higher_level_targets.*,
        cast(
            quarter_start_date + cast((8 - {{ iso_day_of_week('quarter_start_date') }}) % 7 as integer) as date
        ) as first_monday,
        cast(
            cast(quarter_start_date + interval 3 month as date)
            + cast((8 - {{ iso_day_of_week('cast(quarter_start_date + interval 3 month as date)') }}) % 7 as integer)
            - 1
            as date
        ) as last_sunday
    from higher_level_targets

),

rep_targets as (

    select
        targets.period_start_date,
        targets.target_amount,
        reps.team_id,
        reps.region
    from targets
    inner join reps
        on targets.owner_id = reps.rep_id
    where targets.target_level = 'rep'

),

compared as (

    select
        quarterly_targets.target_id,
        quarterly_targets.target_level,
        quarterly_targets.owner_id,
        quarterly_targets.period_start_date,
        quarterly_targets.period_end_date,
        quarterly_targets.target_amount,
        coalesce(sum(rep_targets.target_amount), 0) as rep_target_sum
    from quarterly_targets
    left join rep_targets
        on
            rep_targets.period_start_date between quarterly_targets.period_start_date
            and quarterly_targets.period_end_date
            and {{ iso_day_of_week('rep_targets.period_start_date') }} = 1
            and (
                (quarterly_targets.target_level = 'team' and rep_targets.team_id = quarterly_targets.owner_id)
                or (quarterly_targets.target_level = 'region' and rep_targets.region = quarterly_targets.owner_id)
            )
    where
        quarterly_targets.period_start_date = quarterly_targets.first_monday
        and quarterly_targets.period_end_date = quarterly_targets.last_sunday
    group by 1, 2, 3, 4, 5, 6

),

final as (
    select * from compared
    where target_amount != rep_target_sum
)

select * from final
