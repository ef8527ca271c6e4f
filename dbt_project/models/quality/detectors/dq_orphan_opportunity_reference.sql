-- orphan_reference (quality/DEFECTS.md), opportunities: the owner_rep_id names no rep in the latest reps
-- snapshot, or the product_id no product in the latest products snapshot, as of the as-of date. Each check
-- stays silent until its list (reps, products) has been delivered at all. Severity block.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

delivered as (

    select
        (select count(*) from reps) > 0 as has_reps,
        (select count(*) from products) > 0 as has_products

),

checked as (

    select
        opportunities.opportunity_id,
        opportunities.owner_rep_id,
        opportunities.product_id,
        opportunities._extract_date,
        delivered.has_reps and reps.rep_id is null as is_unknown_rep,
        delivered.has_products and products.product_id is null as is_unknown_product
    from opportunities
    cross join delivered
    left join reps
        on opportunities.owner_rep_id = reps.rep_id
    left join products
        on opportunities.product_id = products.product_id

),

final as (

    select
        'orphan_opportunity_reference' as rule_id,
        'opportunities' as entity,
        opportunity_id as record_id,
        owner_rep_id as rep_id,
        concat_ws(
            '；',
            case when is_unknown_rep then '负责人编号 ' || coalesce(owner_rep_id, '（空）') || ' 不在销售人员名单中' end,
            case when is_unknown_product then '产品编号 ' || coalesce(product_id, '（空）') || ' 不在产品主数据中' end
        ) as evidence,
        _extract_date as first_seen_date
    from checked
    where is_unknown_rep or is_unknown_product

)

select * from final
