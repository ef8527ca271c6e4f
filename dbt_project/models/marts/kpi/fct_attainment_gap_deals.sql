-- The gap attributed to named deals (缺口归因, 004 §2.1.1): for every unit and period of
-- fct_attainment_periods with a gap (target > actual), the deals behind it:
--   lost      lost with closed_date in the period (amount, loss reason, competitor)
--   slipped   promised signing date in the period and more than var slip_tolerance_days before the
--             as-of date, not closed by the period's end (still open, or won/lost later)
--   open_due  still open, promised for the rest of the period (not slipped yet)
-- Deals are credited to their owner rep and so to the rep's team, region and the company. Ranked by
-- amount within the unit and period; a deal still open in a period not yet over would close part of
-- the gap if won: gap_closable_amount and the cumulative share of the gap in rank order.
-- The promised date is the CRM's current one: a deal re-dated into a later period is counted there.
with

attainment_periods as (
    select * from {{ ref('fct_attainment_periods') }}
),

opportunities as (
    select * from {{ ref('clean_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

open_opportunities as (
    select * from {{ ref('int_open_opportunities') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

gaps as (

    select *
    from attainment_periods
    where gap_amount > 0

),

deals as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.customer_id,
        opportunities.owner_rep_id,
        opportunities.stage_key,
        opportunities.stage_name,
        opportunities.amount,
        opportunities.probability,
        opportunities.expected_close_date,
        opportunities.closed_date,
        opportunities.loss_reason,
        opportunities.competitor,
        opportunities.next_step,
        funnel_stages.is_closed,
        funnel_stages.is_won,
        open_opportunities.opportunity_id is not null as is_open,
        open_opportunities.weighted_amount,
        open_opportunities.probability_band,
        open_opportunities.days_past_promised_date,
        coalesce(reps.rep_name, opportunities.owner_rep_id) as owner_rep_name,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.region, {{ unknown_label('region') }}) as region
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    left join open_opportunities
        on opportunities.opportunity_id = open_opportunities.opportunity_id
    left join reps
        on opportunities.owner_rep_id = reps.rep_id

),

deal_units as (

    -- each deal counts for its owner, the owner's team and region, and the company
    select opportunity_id, expected_close_date, closed_date, 'rep' as level, owner_rep_id as unit_id from deals
    union all
    select opportunity_id, expected_close_date, closed_date, 'team' as level, team_id as unit_id from deals
    union all
    select opportunity_id, expected_close_date, closed_date, 'region' as level, region as unit_id from deals
    union all
    select opportunity_id, expected_close_date, closed_date, 'company' as level, 'company' as unit_id from deals

),

deal_unit_periods as (

    -- the periods a deal touches: those holding its promised or its close date (weeks, months and
    -- quarters start at date_trunc, as in fct_attainment_periods), so that deals meet the gaps on
    -- equal keys rather than every deal of a unit being compared with every period of that unit
    select
        deal_units.opportunity_id,
        deal_units.level,
        deal_units.unit_id,
        period_types.period_type,
        -- distinct and without nulls (no close date yet), as DuckDB's list_distinct
        {{ unnest_list("filter(array_distinct(" ~ array_literal([
            'cast(date_trunc(period_types.period_type, deal_units.expected_close_date) as date)',
            'cast(date_trunc(period_types.period_type, deal_units.closed_date) as date)'
        ]) ~ "), period_start -> period_start is not null)") }} as period_start_date
    from deal_units
    cross join (values ('week'), ('month'), ('quarter')) as period_types (period_type)

),

classified as (

    select
        gaps.attainment_period_id,
        gaps.period_type,
        gaps.period_start_date,
        gaps.period_end_date,
        gaps.period_label,
        gaps.level,
        gaps.unit_id,
        gaps.unit_name,
        gaps.is_period_complete,
        gaps.target_amount,
        gaps.actual_amount,
        gaps.gap_amount,
        deals.*,
        case
            when
                deals.is_closed and not deals.is_won
                and deals.closed_date between gaps.period_start_date and gaps.period_end_date
                then 'lost'
            when
                deals.expected_close_date between gaps.period_start_date and gaps.period_end_date
                and {{ days_between('deals.expected_close_date', 'warehouse_as_of.as_of_date') }}
                > {{ var('slip_tolerance_days') }}
                and (deals.closed_date is null or deals.closed_date > gaps.period_end_date)
                then 'slipped'
            when
                deals.is_open
                and deals.expected_close_date between gaps.period_start_date and gaps.period_end_date
                then 'open_due'
        end as gap_reason
    from gaps
    inner join deal_unit_periods
        on
            gaps.level = deal_unit_periods.level
            and gaps.unit_id = deal_unit_periods.unit_id
            and gaps.period_type = deal_unit_periods.period_type
            and gaps.period_start_date = deal_unit_periods.period_start_date
    inner join deals
        on deal_unit_periods.opportunity_id = deals.opportunity_id
    cross join warehouse_as_of

),

attributed as (

    select
        *,
        -- still winnable in time to count: open, and the period is not over
        case
            when is_open and not is_period_complete then amount else 0
        end as gap_closable_amount
    from classified
    where gap_reason is not null

),

ranked as (

    select
        *,
        row_number() over unit_period as deal_rank,
        sum(case when is_open and not is_period_complete then amount else 0 end) over (
            partition by attainment_period_id
            order by amount desc, opportunity_id
            rows between unbounded preceding and current row
        ) as cumulative_closable_amount
    from attributed
    window unit_period as (partition by attainment_period_id order by amount desc, opportunity_id)

),

final as (

    select
        attainment_period_id || ':' || opportunity_id as gap_deal_id,
        attainment_period_id,
        period_type,
        period_start_date,
        period_end_date,
        period_label,
        level,
        unit_id,
        unit_name,
        is_period_complete,
        target_amount,
        actual_amount,
        gap_amount,
        cast(deal_rank as integer) as deal_rank,
        gap_reason,
        opportunity_id,
        opportunity_name,
        customer_id,
        owner_rep_id,
        owner_rep_name,
        stage_key,
        stage_name,
        amount,
        probability,
        weighted_amount,
        probability_band,
        expected_close_date,
        closed_date,
        days_past_promised_date,
        loss_reason,
        competitor,
        next_step,
        is_open,
        cast(gap_closable_amount as decimal(18, 2)) as gap_closable_amount,
        cast(cumulative_closable_amount as decimal(18, 2)) as cumulative_closable_amount,
        least(cast(cumulative_closable_amount as double) / cast(gap_amount as double), 1.0)
            as cumulative_gap_closed_share
    from ranked

)

select * from final
