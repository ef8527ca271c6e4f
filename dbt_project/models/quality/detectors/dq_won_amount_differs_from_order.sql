-- won_amount_differs_from_order (quality/DEFECTS.md): a won opportunity whose CRM amount differs from the
-- sum of its ERP orders (orders carrying its opportunity_id, cancelled ones left out; an order delivered
-- in phases has several). A discount agreed at signing, a change order, a currency or tax difference:
-- the funnel and attainment count the CRM amount, the customer and receivables marts the ERP amount.
-- Won deals without any order are won_without_order's business; an order that cites this deal's number
-- but does not belong to it (another customer's, or an old deal's number reused) is
-- order_without_opportunity's finding, left out here: the deal itself is right. Severity warn (a reconciliation
-- difference is a finding, not a failed build). amount = |CRM amount - ERP orders|.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

misattributed_orders as (
    select record_id as order_id from {{ ref('dq_order_without_opportunity') }}
),

won as (

    select opportunities.*
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    where funnel_stages.is_won

),

orders_by_opportunity as (

    select
        orders.opportunity_id,
        sum(orders.order_amount) as order_amount,
        count(*) as order_count,
        max(orders._extract_date) as last_extract_date
    from orders
    inner join won
        on orders.opportunity_id = won.opportunity_id
    where
        coalesce(orders.status, '') != 'cancelled'
        and orders.order_id not in (select order_id from misattributed_orders)
    group by orders.opportunity_id

),

final as (

    select
        'won_amount_differs_from_order' as rule_id,
        'opportunities' as entity,
        won.opportunity_id as record_id,
        won.owner_rep_id as rep_id,
        'CRM 签约金额 ' || {{ number_text('won.amount') }} || ' 元，ERP ' || orders_by_opportunity.order_count
        || ' 张订单合计 ' || {{ number_text('orders_by_opportunity.order_amount') }} || ' 元，'
        || case when won.amount > orders_by_opportunity.order_amount then 'CRM 多 ' else 'CRM 少 ' end
        || {{ number_text('abs(won.amount - orders_by_opportunity.order_amount)') }} || ' 元' as evidence,
        greatest(won._extract_date, orders_by_opportunity.last_extract_date) as first_seen_date,
        cast(abs(won.amount - orders_by_opportunity.order_amount) as decimal(18, 2)) as amount
    from won
    inner join orders_by_opportunity
        on won.opportunity_id = orders_by_opportunity.opportunity_id
    where won.amount != orders_by_opportunity.order_amount

)

select * from final
