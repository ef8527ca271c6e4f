-- Slipped deals (逾期未签单, 004 §4.6.1): open deals whose promised signing date has passed on the
-- as-of date, with owner, team, region, days late, amount and next step. Deals more than
-- var slip_tolerance_days (3) days late are flagged is_slipped (the list managers chase); deals
-- 1-3 days late are listed unflagged, so the list shows who is about to slip.
with

open_opportunities as (
    select * from {{ ref('int_open_opportunities') }}
),

units as (
    select * from {{ ref('int_opportunities_with_units') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

final as (

    select
        open_opportunities.opportunity_id,
        warehouse_as_of.as_of_date,
        open_opportunities.opportunity_name,
        open_opportunities.customer_id,
        open_opportunities.owner_rep_id,
        units.rep_name,
        units.team_id,
        units.team_name,
        units.region,
        open_opportunities.stage_key,
        open_opportunities.stage_name,
        open_opportunities.amount,
        open_opportunities.probability,
        open_opportunities.weighted_amount,
        open_opportunities.probability_band,
        open_opportunities.expected_close_date,
        open_opportunities.days_past_promised_date as days_late,
        open_opportunities.is_slipped,
        open_opportunities.next_step
    from open_opportunities
    inner join units
        on open_opportunities.opportunity_id = units.opportunity_id
    cross join warehouse_as_of
    where open_opportunities.days_past_promised_date > 0

)

select * from final
