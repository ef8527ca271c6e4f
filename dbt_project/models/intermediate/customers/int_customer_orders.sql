-- Customer purchases: the ERP sales orders that count as sales (status not in var
-- customer_order_excluded_statuses, e.g. cancelled), dated by order_date up to the as-of date,
-- numbered per customer in date order so the first order of each customer is known.
with

orders as (
    select * from {{ ref('clean_erp__sales_orders') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

counted as (

    select
        orders.order_id,
        orders.order_date,
        orders.customer_id,
        orders.rep_id,
        orders.opportunity_id,
        orders.order_amount
    from orders
    where
        orders.customer_id is not null
        and orders.order_date is not null
        and orders.order_date <= (select as_of_date from warehouse_as_of)
        {%- for status in var('customer_order_excluded_statuses') %}
        and coalesce(orders.status, '') != '{{ status }}'
        {%- endfor %}

),

numbered as (

    select
        *,
        row_number() over (partition by customer_id order by order_date, order_id) as customer_order_number
    from counted

),

final as (

    select
        order_id,
        order_date,
        customer_id,
        rep_id,
        opportunity_id,
        order_amount,
        cast(customer_order_number as integer) as customer_order_number,
        customer_order_number = 1 as is_first_order
    from numbered

)

select * from final
