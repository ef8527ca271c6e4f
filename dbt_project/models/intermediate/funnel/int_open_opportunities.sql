-- Open opportunities as of the warehouse's as-of date: amount, probability-weighted amount, probability
-- band (high > 65%, medium 35-65%, 002) and how far past its promised signing date each deal is
-- (slipped when more than 3 days late, 004 §4.6.1). Thresholds are vars in dbt_project.yml.
with

opportunities as (
    select * from {{ ref('clean_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

open_opportunities as (

    select
        opportunities.*,
        funnel_stages.stage_order
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    where not funnel_stages.is_closed

),

final as (

    select
        open_opportunities.opportunity_id,
        open_opportunities.opportunity_name,
        open_opportunities.customer_id,
        open_opportunities.owner_rep_id,
        open_opportunities.product_id,
        open_opportunities.stage_key,
        open_opportunities.stage_name,
        open_opportunities.stage_order,
        open_opportunities.amount,
        open_opportunities.probability,
        cast(open_opportunities.amount * open_opportunities.probability / 100.0 as decimal(18, 2))
            as weighted_amount,
        case
            when open_opportunities.probability > {{ var('probability_band_high_above') }} then 'high'
            when open_opportunities.probability >= {{ var('probability_band_medium_from') }} then 'medium'
            else 'low'
        end as probability_band,
        open_opportunities.expected_close_date,
        {{ days_between('open_opportunities.expected_close_date', 'warehouse_as_of.as_of_date') }}
            as days_past_promised_date,
        {{ days_between('open_opportunities.expected_close_date', 'warehouse_as_of.as_of_date') }}
            > {{ var('slip_tolerance_days') }} as is_slipped,
        open_opportunities.next_step,
        open_opportunities.created_at
    from open_opportunities
    cross join warehouse_as_of

)

select * from final
