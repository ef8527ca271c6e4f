-- order_without_opportunity (quality/DEFECTS.md): an ERP order whose opportunity_id is empty or names no
-- opportunity the CRM has delivered by the as-of date (an order entered straight into the ERP). An order
-- whose opportunity reaches the CRM a day later is unflagged once it has arrived. Until the CRM has
-- delivered any opportunity the rule stays silent. Severity block: the order's sales would not reconcile
-- with the won deals.
with

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

crm_delivered as (
    select count(*) > 0 as has_opportunities from opportunities
),

unmatched as (

    select orders.*
    from orders
    left join opportunities
        on orders.opportunity_id = opportunities.opportunity_id
    where opportunities.opportunity_id is null

),

final as (

    select
        'order_without_opportunity' as rule_id,
        'sales_orders' as entity,
        unmatched.order_id as record_id,
        unmatched.rep_id,
        '订单（' || strftime(unmatched.order_date, '%Y-%m-%d') || '，金额 '
        || format('{:,.2f}', unmatched.order_amount) || ' 元）'
        || case
            when unmatched.opportunity_id is null then '没有填写 CRM 商机编号'
            else '填写的商机编号 ' || unmatched.opportunity_id || ' 在 CRM 中不存在'
        end as evidence,
        unmatched._extract_date as first_seen_date,
        cast(unmatched.order_amount as decimal(18, 2)) as amount
    from unmatched
    cross join crm_delivered
    where crm_delivered.has_opportunities

)

select * from final
