-- Won revenue kept out of the marts by 'block' rules: one row per blocking rule (quality_rules seed, also
-- rules that flagged nothing) and one total row (rule_id 'all_blocking_rules', each record once even when
-- two rules block it). Won revenue = the CRM amount of opportunities in a won stage closed on or before the
-- as-of date, held back or not (staging), so the share is of the revenue the company really won to date.
-- The build fails above var max_held_back_won_share (test assert_held_back_won_share_within_limit) and
-- its summary prints the total row (pipelines/lib/build_report.py).
with

rules as (
    select * from {{ ref('quality_rules') }}
),

quarantine as (
    select * from {{ ref('quarantine') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

won as (

    select
        opportunities.opportunity_id,
        opportunities.amount
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    cross join warehouse_as_of
    where funnel_stages.is_won and opportunities.closed_date <= warehouse_as_of.as_of_date

),

won_total as (

    select
        count(*) as won_deals,
        cast(coalesce(sum(amount), 0) as decimal(18, 2)) as won_amount
    from won

),

blocked as (

    select
        quarantine.rule_id,
        quarantine.entity,
        quarantine.record_id,
        quarantine.amount,
        won.opportunity_id as won_opportunity_id,
        won.amount as won_amount
    from quarantine
    left join won
        on quarantine.entity = 'opportunities' and quarantine.record_id = won.opportunity_id
    where quarantine.severity = 'block'

),

per_rule as (

    select
        rules.rule_id,
        rules.defect_class,
        false as is_total,
        count(blocked.record_id) as records,
        cast(coalesce(sum(blocked.amount), 0) as decimal(18, 2)) as amount_held_back,
        count(blocked.won_opportunity_id) as won_deals_held_back,
        cast(coalesce(sum(blocked.won_amount), 0) as decimal(18, 2)) as won_amount_held_back
    from rules
    left join blocked
        on rules.rule_id = blocked.rule_id
    where rules.severity = 'block'
    group by rules.rule_id, rules.defect_class

),

blocked_records as (

    -- each record once, whatever the number of rules blocking it
    select
        entity,
        record_id,
        max(amount) as amount,
        max(won_opportunity_id) as won_opportunity_id,
        max(won_amount) as won_amount
    from blocked
    group by entity, record_id

),

all_rules as (

    select
        'all_blocking_rules' as rule_id,
        cast(null as string) as defect_class,
        true as is_total,
        count(*) as records,
        cast(coalesce(sum(amount), 0) as decimal(18, 2)) as amount_held_back,
        count(won_opportunity_id) as won_deals_held_back,
        cast(coalesce(sum(won_amount), 0) as decimal(18, 2)) as won_amount_held_back
    from blocked_records

),

final as (

    select
        held_back.rule_id,
        held_back.defect_class,
        held_back.is_total,
        held_back.records,
        held_back.amount_held_back,
        held_back.won_deals_held_back,
        held_back.won_amount_held_back,
        won_total.won_deals as won_deals_total,
        won_total.won_amount as won_amount_total,
        cast(held_back.won_amount_held_back as double) / nullif(won_total.won_amount, 0) as won_share_held_back,
        {{ var('max_held_back_won_share') }} as max_held_back_won_share
    from (
        select * from per_rule
        union all
        select * from all_rules
    ) as held_back
    cross join won_total

)

select * from final
