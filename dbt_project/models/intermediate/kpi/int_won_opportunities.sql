-- Won opportunities (stage flagged is_won in the funnel_stages seed): what counts as actual sales.
with

opportunities as (
    select * from {{ ref('clean_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

final as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_name,
        opportunities.customer_id,
        opportunities.owner_rep_id,
        opportunities.product_id,
        opportunities.stage_name,
        opportunities.closed_date,
        opportunities.amount
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    where funnel_stages.is_won

)

select * from final
