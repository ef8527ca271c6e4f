-- Lead-to-won conversion (线索成交转化率): of the leads created in a period, how many became an
-- opportunity and how many of those opportunities are won by the as-of date, with the change from
-- the previous period (e.g. 15% -> 12% week over week = -3 points). Recent periods are young
-- cohorts: their deals have had less time to close (days_observed says how long).
with

leads as (
    select * from {{ ref('clean_crm__leads') }}
),

opportunities as (
    select * from {{ ref('int_opportunities_with_units') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

grains as (
    select * from {{ funnel_period_grains_relation() }}
),

lead_outcomes as (

    -- a lead's opportunity: the one naming it (opportunity.lead_id), else the one the lead names
    select
        leads.lead_id,
        cast(leads.created_at as date) as created_date,
        coalesce(by_lead.opportunity_id, by_opportunity.opportunity_id) as opportunity_id,
        coalesce(by_lead.is_won, by_opportunity.is_won, false) as is_won,
        case
            when coalesce(by_lead.is_won, by_opportunity.is_won, false)
                then coalesce(by_lead.amount, by_opportunity.amount)
        end as won_amount
    from leads
    left join opportunities as by_lead
        on leads.lead_id = by_lead.lead_id
    left join opportunities as by_opportunity
        on leads.opportunity_id = by_opportunity.opportunity_id
    where leads.created_at is not null
    qualify row_number() over (partition by leads.lead_id order by by_lead.opportunity_id) = 1

),

periods as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, lead_outcomes.created_date) as date) as period_start_date,
        count(*) as lead_count,
        count(lead_outcomes.opportunity_id) as converted_lead_count,
        count(*) filter (where lead_outcomes.is_won) as won_count,
        coalesce(sum(lead_outcomes.won_amount), 0) as won_amount
    from lead_outcomes
    cross join grains
    group by all

),

rated as (

    select
        periods.*,
        cast(periods.won_count as double) / periods.lead_count as lead_to_won_rate,
        cast(periods.converted_lead_count as double) / periods.lead_count as lead_to_opportunity_rate
    from periods

),

final as (

    select
        rated.period_grain || ':' || cast(rated.period_start_date as string) as lead_conversion_id,
        rated.period_grain,
        rated.period_start_date,
        {{ funnel_period_end('rated.period_grain', 'rated.period_start_date') }} as period_end_date,
        cast(rated.lead_count as integer) as lead_count,
        cast(rated.converted_lead_count as integer) as converted_lead_count,
        cast(rated.won_count as integer) as won_count,
        cast(rated.won_amount as decimal(18, 2)) as won_amount,
        rated.lead_to_opportunity_rate,
        rated.lead_to_won_rate,
        lag(rated.lead_to_won_rate) over by_grain as previous_lead_to_won_rate,
        rated.lead_to_won_rate - lag(rated.lead_to_won_rate) over by_grain as lead_to_won_rate_change,
        {{ days_between(
            funnel_period_end('rated.period_grain', 'rated.period_start_date'),
            'warehouse_as_of.as_of_date'
        ) }} as days_observed
    from rated
    cross join warehouse_as_of
    window by_grain as (partition by rated.period_grain order by rated.period_start_date)

)

select * from final
