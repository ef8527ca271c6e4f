-- Won deals, promised vs actual signing date (承诺签约日 vs 实际签约日, 004 §4.6.1): one row per won
-- deal with the promised date it carried when it was won (the last promise) and the first promise
-- known in the extracts, days late against each, and whether it closed late: more than
-- var slip_tolerance_days (3) days after the last promise.
with

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

units as (
    select * from {{ ref('int_opportunities_with_units') }}
),

versions as (
    select * from {{ ref('int_opportunity_versions') }}
),

first_promises as (

    select
        opportunity_id,
        min_by(expected_close_date, known_from_date) as first_promised_date,
        count(distinct expected_close_date) - 1 as promise_change_count
    from versions
    where expected_close_date is not null
    group by opportunity_id

),

final as (

    select
        won_opportunities.opportunity_id,
        won_opportunities.opportunity_name,
        won_opportunities.customer_id,
        won_opportunities.owner_rep_id,
        units.rep_name,
        units.team_id,
        units.team_name,
        units.region,
        won_opportunities.amount,
        won_opportunities.closed_date,
        units.expected_close_date as promised_date,
        first_promises.first_promised_date,
        cast(coalesce(first_promises.promise_change_count, 0) as integer) as promise_change_count,
        {{ days_between('units.expected_close_date', 'won_opportunities.closed_date') }} as days_late,
        {{ days_between('first_promises.first_promised_date', 'won_opportunities.closed_date') }}
            as days_late_vs_first_promise,
        coalesce(
            {{ days_between('units.expected_close_date', 'won_opportunities.closed_date') }}
            > {{ var('slip_tolerance_days') }},
            false
        ) as is_closed_late
    from won_opportunities
    inner join units
        on won_opportunities.opportunity_id = units.opportunity_id
    left join first_promises
        on won_opportunities.opportunity_id = first_promises.opportunity_id

)

select * from final
