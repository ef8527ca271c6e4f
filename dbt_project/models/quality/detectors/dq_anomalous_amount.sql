-- anomalous_amount (quality/DEFECTS.md): an opportunity whose amount is more than
-- var dq_anomalous_amount_median_multiple (10) times the median amount of the opportunities for the same
-- product (typed zeros, a unit price entered as the total). A large deal 4-6 times the median stays
-- unflagged.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

product_medians as (

    select
        product_id,
        median(amount) as median_amount,
        count(*) as opportunity_count
    from opportunities
    where amount is not null
    group by product_id

),

compared as (

    select
        opportunities.opportunity_id,
        opportunities.owner_rep_id,
        opportunities.product_id,
        products.product_name,
        opportunities.amount,
        product_medians.median_amount,
        product_medians.opportunity_count,
        cast(opportunities.amount as double) / product_medians.median_amount as median_multiple,
        opportunities._extract_date
    from opportunities
    inner join product_medians
        on opportunities.product_id = product_medians.product_id
    left join products
        on opportunities.product_id = products.product_id
    where product_medians.median_amount > 0

),

final as (

    select
        'anomalous_amount' as rule_id,
        'opportunities' as entity,
        opportunity_id as record_id,
        owner_rep_id as rep_id,
        '金额 ' || format('{:,.2f}', amount) || ' 元，是同产品（' || product_id
        || coalesce(' ' || product_name, '') || '）' || opportunity_count || ' 个商机金额中位数 '
        || format('{:,.2f}', median_amount) || ' 元的 ' || format('{:.1f}', median_multiple) || ' 倍'
            as evidence,
        _extract_date as first_seen_date,
        cast(amount as decimal(18, 2)) as amount
    from compared
    where amount > {{ var('dq_anomalous_amount_median_multiple') }} * median_amount

)

select * from final
