-- One row per stage entry of an opportunity (the CRM's stage history, including the entry into the
-- first stage when the deal was created): when it entered and left the stage, the stage it went to
-- next and how many days it stayed. Stage order and the main path come from the funnel_stages seed:
-- main stages are every stage except closed-lost ones, ranked by stage_order (lead = 1 ... won = 5).
with

stage_history as (
    select * from {{ ref('clean_crm__opportunity_stage_history') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

stages as (

    select
        stage_key,
        stage_order,
        is_closed,
        is_won,
        not (is_closed and not is_won) as is_main_stage,
        case
            when not (is_closed and not is_won)
                then dense_rank() over (partition by not (is_closed and not is_won) order by stage_order)
        end as main_stage_rank
    from funnel_stages

),

entries as (

    -- stage names missing from the seed are left out (staging tests report them)
    select
        stage_history.stage_change_id as stage_event_id,
        stage_history.opportunity_id,
        stage_history.to_stage_key as stage_key,
        stage_history.to_stage_name as stage_name,
        stage_history.changed_at as entered_at,
        stage_history.amount as amount_at_entry,
        stage_history.changed_by_rep_id,
        stage_history._extract_date as extract_date
    from stage_history
    where
        stage_history.to_stage_key is not null
        and stage_history.changed_at is not null
        and stage_history.opportunity_id is not null

),

sequenced as (

    select
        entries.*,
        row_number() over by_opportunity as entry_sequence,
        lag(entries.stage_key) over by_opportunity as previous_stage_key,
        lead(entries.stage_key) over by_opportunity as next_stage_key,
        lead(entries.entered_at) over by_opportunity as exited_at,
        lead(entries.entered_at) over by_opportunity is null as is_current
    from entries
    window by_opportunity as (partition by entries.opportunity_id order by entries.entered_at, entries.stage_event_id)

),

with_stages as (

    select
        sequenced.*,
        this_stage.stage_order,
        this_stage.is_main_stage,
        this_stage.main_stage_rank,
        this_stage.is_closed as is_closed_stage,
        this_stage.is_won as is_won_stage,
        next_stage.is_main_stage as next_is_main_stage,
        next_stage.main_stage_rank as next_main_stage_rank,
        next_stage.is_closed as next_is_closed,
        next_stage.is_won as next_is_won
    from sequenced
    inner join stages as this_stage
        on sequenced.stage_key = this_stage.stage_key
    left join stages as next_stage
        on sequenced.next_stage_key = next_stage.stage_key

),

final as (

    select
        with_stages.stage_event_id,
        with_stages.opportunity_id,
        with_stages.entry_sequence,
        with_stages.stage_key,
        with_stages.stage_name,
        with_stages.stage_order,
        with_stages.main_stage_rank,
        with_stages.is_main_stage,
        with_stages.is_closed_stage,
        with_stages.previous_stage_key,
        with_stages.entered_at,
        cast(with_stages.entered_at as date) as entered_date,
        with_stages.exited_at,
        cast(with_stages.exited_at as date) as exited_date,
        with_stages.next_stage_key,
        -- days: calendar days from the entry date to the exit date; for the current open stage, to
        -- the as-of date (still running); null for a closed stage (won / lost: nothing to wait for)
        case
            when with_stages.exited_at is not null
                then {{ days_between('cast(with_stages.entered_at as date)', 'cast(with_stages.exited_at as date)') }}
            when not with_stages.is_closed_stage
                then {{ days_between('cast(with_stages.entered_at as date)', 'warehouse_as_of.as_of_date') }}
        end as days_in_stage,
        with_stages.is_current,
        coalesce(
            with_stages.is_main_stage
            and with_stages.next_is_main_stage
            and with_stages.next_main_stage_rank > with_stages.main_stage_rank,
            false
        ) as is_advanced,
        coalesce(
            with_stages.is_main_stage
            and with_stages.next_is_main_stage
            and with_stages.next_main_stage_rank > with_stages.main_stage_rank + 1,
            false
        ) as is_skip,
        coalesce(with_stages.next_is_closed and with_stages.next_is_won, false) as is_won_exit,
        coalesce(with_stages.next_is_closed and not with_stages.next_is_won, false) as is_lost_exit,
        coalesce(
            with_stages.next_is_main_stage and with_stages.next_main_stage_rank < with_stages.main_stage_rank,
            false
        ) as is_backward,
        with_stages.amount_at_entry,
        with_stages.changed_by_rep_id,
        with_stages.extract_date
    from with_stages
    cross join warehouse_as_of

)

select * from final
