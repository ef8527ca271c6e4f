-- One row per customer: CRM attributes, potential band by budget, and the customer's order history
-- (first and last order, first-order cycle, lifetime orders and sales) as of the as-of date.
with

customers as (
    select * from {{ ref('clean_crm__customers') }}
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

order_history as (

    -- the first day the ERP order history covers: a customer created earlier may have bought before it
    select min(order_date) as order_history_start_date from orders

),

customer_orders as (

    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as order_count,
        sum(order_amount) as sales_amount,
        sum(order_amount) filter (where is_first_order) as first_order_amount
    from orders
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.industry,
        customers.region,
        customers.city,
        customers.tier,
        customers.channel,
        customers.budget,
        case
            when customers.budget is null then 'unknown'
            when customers.budget > {{ var('potential_band_high_above') }} then 'high'
            when customers.budget < {{ var('potential_band_low_below') }} then 'low'
            else 'medium'
        end as potential_band,
        customers.owner_rep_id,
        customers.created_at,
        cast(customers.created_at as date) as created_date,
        cast(date_trunc('week', customers.created_at) as date) as created_week_start_date,
        cast(date_trunc('month', customers.created_at) as date) as created_month_start_date,
        coalesce(cast(customers.created_at as date) < order_history.order_history_start_date, false)
            as is_created_before_order_history,
        customer_orders.first_order_date,
        customer_orders.first_order_amount,
        cast(
            {{ days_between('cast(customers.created_at as date)', 'customer_orders.first_order_date') }} as integer
        ) as first_order_cycle_days,
        customer_orders.last_order_date,
        cast(coalesce(customer_orders.order_count, 0) as integer) as order_count,
        cast(coalesce(customer_orders.sales_amount, 0) as decimal(18, 2)) as sales_amount,
        customer_orders.first_order_date is not null as is_buyer
    from customers
    cross join order_history
    left join customer_orders
        on customers.customer_id = customer_orders.customer_id

)

select * from final
