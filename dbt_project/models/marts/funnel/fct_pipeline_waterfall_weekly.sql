-- Weekly pipeline waterfall (商机漏斗周变动) per rep, team, region and the company:
--   open at start (pipeline at the end of the Sunday before, fct_pipeline_daily)
--   + created (deals new to the pipeline in the week: not open at the start, open at the end or
--     closed in the week; at their first amount seen in the week, or their closing amount)
--   - won, - lost (deals closed in the week by closed_date, at their closing amount)
--   + amount changes (everything else: re-priced deals, and deals that left or re-entered the
--     pipeline without a close dated in the week)
--   = open at end (pipeline at the end of the week's Sunday, or of the as-of date for the week in
--     progress). This identity holds per deal and so per row (tests/funnel).
-- Not part of the identity: advanced (open deals that moved to a later open stage in the week) and
-- slipped (deals open at the start whose promised signing date, as known then, fell in the week,
-- that were not won in the week). Deals are reported under their current owner.
with

pipeline_daily as (
    select * from {{ ref('fct_pipeline_daily') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_with_units') }}
),

stage_events as (
    select * from {{ ref('fct_opportunity_stage_events') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

weeks as (

    -- every week whose previous Sunday has a snapshot, up to the week of the as-of date
    select
        cast(week_series.week_start as date) as week_start_date,
        cast(week_series.week_start - interval 1 day as date) as start_snapshot_date,
        least(cast(week_series.week_start + interval 6 day as date), warehouse_as_of.as_of_date)
            as end_snapshot_date
    from warehouse_as_of
    cross join lateral {{ series_rows(
        "date_trunc('week', (select min(snapshot_date) from pipeline_daily) + interval 7 day)",
        "date_trunc('week', warehouse_as_of.as_of_date)",
        'interval 7 day'
    ) }} as week_series (week_start)

),

at_start as (

    select
        pipeline_daily.opportunity_id,
        weeks.week_start_date,
        pipeline_daily.amount as start_amount,
        pipeline_daily.expected_close_date as start_expected_close_date
    from pipeline_daily
    inner join weeks
        on pipeline_daily.snapshot_date = weeks.start_snapshot_date

),

at_end as (

    select
        pipeline_daily.opportunity_id,
        weeks.week_start_date,
        pipeline_daily.amount as end_amount
    from pipeline_daily
    inner join weeks
        on pipeline_daily.snapshot_date = weeks.end_snapshot_date

),

first_seen_in_week as (

    select
        opportunity_id,
        cast(date_trunc('week', snapshot_date) as date) as week_start_date,
        min_by(amount, snapshot_date) as first_amount
    from pipeline_daily
    group by all

),

closed_in_week as (

    select
        opportunities.opportunity_id,
        weeks.week_start_date,
        case when opportunities.is_won then opportunities.amount end as won_amount,
        case when opportunities.is_lost then opportunities.amount end as lost_amount
    from opportunities
    inner join weeks
        on opportunities.closed_date between weeks.week_start_date and weeks.end_snapshot_date
    where opportunities.is_won or opportunities.is_lost

),

advanced_in_week as (

    select distinct
        stage_events.opportunity_id,
        weeks.week_start_date,
        true as is_advanced
    from stage_events
    inner join weeks
        on stage_events.exited_date between weeks.week_start_date and weeks.end_snapshot_date
    where stage_events.is_advanced and not stage_events.is_won_exit

),

facts as (

    select
        opportunity_id, week_start_date, start_amount, start_expected_close_date,
        null as end_amount, null as won_amount, null as lost_amount, null as is_advanced
    from at_start
    union all
    select
        opportunity_id, week_start_date, null as start_amount, null as start_expected_close_date,
        end_amount, null as won_amount, null as lost_amount, null as is_advanced
    from at_end
    union all
    select
        opportunity_id, week_start_date, null as start_amount, null as start_expected_close_date,
        null as end_amount, won_amount, lost_amount, null as is_advanced
    from closed_in_week
    union all
    select
        opportunity_id, week_start_date, null as start_amount, null as start_expected_close_date,
        null as end_amount, null as won_amount, null as lost_amount, is_advanced
    from advanced_in_week

),

deal_weeks as (

    select
        facts.opportunity_id,
        facts.week_start_date,
        max(facts.start_amount) as start_amount,
        max(facts.start_expected_close_date) as start_expected_close_date,
        max(facts.end_amount) as end_amount,
        max(facts.won_amount) as won_amount,
        max(facts.lost_amount) as lost_amount,
        coalesce(bool_or(facts.is_advanced), false) as is_advanced
    from facts
    group by all

),

deal_flows as (

    select
        deal_weeks.opportunity_id,
        deal_weeks.week_start_date,
        deal_weeks.start_amount is not null as is_open_at_start,
        deal_weeks.end_amount is not null as is_open_at_end,
        deal_weeks.won_amount is not null as is_won,
        deal_weeks.lost_amount is not null as is_lost,
        deal_weeks.start_amount is null
        and (deal_weeks.end_amount is not null or deal_weeks.won_amount is not null or deal_weeks.lost_amount is not null)
            as is_created,
        deal_weeks.is_advanced,
        deal_weeks.start_amount is not null
        and deal_weeks.won_amount is null
        and deal_weeks.start_expected_close_date between deal_weeks.week_start_date and weeks.end_snapshot_date
            as is_slipped,
        coalesce(deal_weeks.start_amount, 0) as start_amount,
        coalesce(deal_weeks.end_amount, 0) as end_amount,
        coalesce(deal_weeks.won_amount, 0) as won_amount,
        coalesce(deal_weeks.lost_amount, 0) as lost_amount,
        case
            when deal_weeks.start_amount is null
                then coalesce(
                    first_seen_in_week.first_amount, deal_weeks.won_amount, deal_weeks.lost_amount, 0
                )
            else 0
        end as created_amount,
        coalesce(deal_weeks.end_amount, deal_weeks.won_amount, deal_weeks.lost_amount, 0) as amount_after
    from deal_weeks
    inner join weeks
        on deal_weeks.week_start_date = weeks.week_start_date
    left join first_seen_in_week
        on
            deal_weeks.opportunity_id = first_seen_in_week.opportunity_id
            and deal_weeks.week_start_date = first_seen_in_week.week_start_date

),

with_units as (

    select
        deal_flows.*,
        deal_flows.end_amount + deal_flows.won_amount + deal_flows.lost_amount
        - deal_flows.start_amount - deal_flows.created_amount as amount_change,
        opportunities.owner_rep_id,
        opportunities.rep_name,
        opportunities.team_id,
        opportunities.team_name,
        opportunities.region
    from deal_flows
    inner join opportunities
        on deal_flows.opportunity_id = opportunities.opportunity_id

),

by_level as (

    select
        levels.level,
        case levels.level
            when 'company' then 'company'
            when 'region' then with_units.region
            when 'team' then with_units.team_id
            when 'rep' then with_units.owner_rep_id
        end as unit_id,
        case levels.level
            when 'company' then '全公司'
            when 'region' then with_units.region
            when 'team' then with_units.team_name
            when 'rep' then with_units.rep_name
        end as unit_name,
        case when levels.level in ('region', 'team', 'rep') then with_units.region end as region,
        case when levels.level in ('team', 'rep') then with_units.team_id end as team_id,
        with_units.week_start_date,
        with_units.is_open_at_start,
        with_units.is_open_at_end,
        with_units.is_won,
        with_units.is_lost,
        with_units.is_created,
        with_units.is_advanced,
        with_units.is_slipped,
        with_units.start_amount,
        with_units.end_amount,
        with_units.won_amount,
        with_units.lost_amount,
        with_units.created_amount,
        with_units.amount_after,
        with_units.amount_change
    from with_units
    cross join (values ('company'), ('region'), ('team'), ('rep')) as levels (level)

),

aggregated as (

    select
        by_level.level,
        by_level.unit_id,
        min(by_level.unit_name) as unit_name,
        min(by_level.region) as region,
        min(by_level.team_id) as team_id,
        by_level.week_start_date,
        count(*) filter (where by_level.is_open_at_start) as open_start_count,
        sum(by_level.start_amount) as open_start_amount,
        count(*) filter (where by_level.is_created) as created_count,
        sum(by_level.created_amount) as created_amount,
        count(*) filter (where by_level.is_advanced) as advanced_count,
        coalesce(sum(by_level.amount_after) filter (where by_level.is_advanced), 0) as advanced_amount,
        count(*) filter (where by_level.is_won) as won_count,
        sum(by_level.won_amount) as won_amount,
        count(*) filter (where by_level.is_lost) as lost_count,
        sum(by_level.lost_amount) as lost_amount,
        count(*) filter (where by_level.is_slipped) as slipped_count,
        coalesce(sum(by_level.start_amount) filter (where by_level.is_slipped), 0) as slipped_amount,
        sum(by_level.amount_change) as amount_change,
        count(*) filter (where by_level.is_open_at_end) as open_end_count,
        sum(by_level.end_amount) as open_end_amount
    from by_level
    group by by_level.level, by_level.unit_id, by_level.week_start_date

),

final as (

    select
        aggregated.level || ':' || aggregated.unit_id || ':' || cast(aggregated.week_start_date as string)
            as waterfall_id,
        aggregated.week_start_date,
        weeks.end_snapshot_date as week_end_snapshot_date,
        weeks.end_snapshot_date = cast(aggregated.week_start_date + interval 6 day as date) as is_complete_week,
        aggregated.level,
        aggregated.unit_id,
        aggregated.unit_name,
        cast(aggregated.region as string) as region,
        cast(aggregated.team_id as string) as team_id,
        cast(aggregated.open_start_count as integer) as open_start_count,
        cast(aggregated.open_start_amount as decimal(18, 2)) as open_start_amount,
        cast(aggregated.created_count as integer) as created_count,
        cast(aggregated.created_amount as decimal(18, 2)) as created_amount,
        cast(aggregated.advanced_count as integer) as advanced_count,
        cast(aggregated.advanced_amount as decimal(18, 2)) as advanced_amount,
        cast(aggregated.won_count as integer) as won_count,
        cast(aggregated.won_amount as decimal(18, 2)) as won_amount,
        cast(aggregated.lost_count as integer) as lost_count,
        cast(aggregated.lost_amount as decimal(18, 2)) as lost_amount,
        cast(aggregated.slipped_count as integer) as slipped_count,
        cast(aggregated.slipped_amount as decimal(18, 2)) as slipped_amount,
        cast(aggregated.amount_change as decimal(18, 2)) as amount_change,
        cast(aggregated.open_end_count as integer) as open_end_count,
        cast(aggregated.open_end_amount as decimal(18, 2)) as open_end_amount
    from aggregated
    inner join weeks
        on aggregated.week_start_date = weeks.week_start_date

)

select * from final
