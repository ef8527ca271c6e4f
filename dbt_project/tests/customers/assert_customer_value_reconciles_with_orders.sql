-- The ABC summary's trailing sales (company, all classes) equal the orders of the trailing window,
-- and every customer with window sales has a class. Returns a row when they disagree.
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}}) }}  {#- its asset check in Dagster -#}
with

as_of as (
    select
        as_of_date,
        cast(as_of_date - interval {{ var('customer_value_window_months') }} month as date) as window_start_after
    from {{ ref('warehouse_as_of') }}
),

window_orders as (
    -- only orders of customers in the CRM extract: dim_customers has one row per CRM customer
    select coalesce(sum(orders.order_amount), 0) as amount
    from {{ ref('int_customer_orders') }} as orders
    inner join {{ ref('dim_customers') }} as customers
        on orders.customer_id = customers.customer_id
    cross join as_of
    where orders.order_date > as_of.window_start_after
),

summary as (
    select coalesce(sum(window_sales_amount), 0) as amount
    from {{ ref('fct_customer_abc_summary') }}
    where level = 'company'
),

unclassified as (
    select count(*) as n
    from {{ ref('dim_customers') }}
    where window_sales_amount > 0 and abc_class is null
)

select window_orders.amount as window_orders, summary.amount as summary_amount, unclassified.n as unclassified
from window_orders
cross join summary
cross join unclassified
where window_orders.amount != summary.amount or unclassified.n > 0
