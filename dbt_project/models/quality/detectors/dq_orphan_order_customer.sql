-- orphan_reference (quality/DEFECTS.md), sales orders: the order's customer_id names no customer the CRM
-- has delivered by the as-of date. A customer delivered a day after the order is unflagged once it has
-- arrived. Until the CRM has delivered any customer, or when the source declares customers absent
-- (absent_entities), the rule stays silent. Severity block. amount = the order amount.
with

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

absent_entities as (
    select * from {{ ref('absent_entities') }}
),

crm_delivered as (
    select
        count(*) > 0 and not exists (select 1 from absent_entities where entity = 'customers') as has_customers
    from customers
),

final as (

    select
        'orphan_order_customer' as rule_id,
        'sales_orders' as entity,
        orders.order_id as record_id,
        orders.rep_id,
        '订单（' || {{ timestamp_text('orders.order_date', '%Y-%m-%d') }} || '，金额 '
        || {{ number_text('orders.order_amount') }} || ' 元）的客户编号 ' || coalesce(orders.customer_id, '（空）')
        || ' 在 CRM 客户中不存在' as evidence,
        orders._extract_date as first_seen_date,
        cast(orders.order_amount as decimal(18, 2)) as amount
    from orders
    cross join crm_delivered
    left join customers
        on orders.customer_id = customers.customer_id
    where crm_delivered.has_customers and customers.customer_id is null

)

select * from final
