-- Customer value as of the as-of date: trailing-window sales, ABC class by cumulative contribution
-- (80/20 style, cut-offs from vars) and RFM scores (1..var rfm_score_buckets).
-- The window is the var customer_value_window_months months ending on the as-of date.
with

customers as (
    select * from {{ ref('int_customers') }}
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

value_window as (

    select
        as_of_date,
        cast(as_of_date - interval {{ var('customer_value_window_months') }} month as date) as window_start_after
    from warehouse_as_of

),

window_sales as (

    -- orders after window_start_after and up to the as-of date (e.g. 2025-11-22 < d <= 2026-11-22)
    select
        orders.customer_id,
        count(*) as window_order_count,
        sum(orders.order_amount) as window_sales_amount
    from orders
    cross join value_window
    where orders.order_date > value_window.window_start_after
    group by orders.customer_id

),

customer_window as (

    select
        customers.customer_id,
        customers.is_buyer,
        customers.last_order_date,
        customers.potential_band,
        value_window.as_of_date,
        cast({{ days_between('customers.last_order_date', 'value_window.as_of_date') }} as integer) as recency_days,
        cast(coalesce(window_sales.window_order_count, 0) as integer) as window_order_count,
        coalesce(window_sales.window_sales_amount, 0) as window_sales_amount
    from customers
    cross join value_window
    left join window_sales
        on customers.customer_id = window_sales.customer_id

),

abc_ranked as (

    -- customers with sales in the window, largest first; ties broken by customer_id
    select
        customer_id,
        window_sales_amount,
        cast(window_sales_amount as double) / sum(window_sales_amount) over () as sales_share,
        cast(
            coalesce(
                sum(window_sales_amount) over (
                    order by window_sales_amount desc, customer_id
                    rows between unbounded preceding and 1 preceding
                ),
                0
            ) as double
        ) / sum(window_sales_amount) over () as cumulative_share_before
    from customer_window
    where window_sales_amount > 0

),

abc_classified as (

    -- a customer belongs to A when the customers ranked above it cover less than the A cut-off:
    -- the customer that crosses the line is still A (its sales start inside the first 80%)
    select
        customer_id,
        sales_share,
        cumulative_share_before + sales_share as cumulative_share,
        case
            when cumulative_share_before < {{ var('abc_a_cumulative_share') }} then 'A'
            when cumulative_share_before < {{ var('abc_b_cumulative_share') }} then 'B'
            else 'C'
        end as abc_class
    from abc_ranked

),

rfm_ranked as (

    -- every buyer (at least one order ever); rank 1 = the worst value, ties share a rank
    select
        customer_id,
        count(*) over () as buyer_count,
        rank() over (order by recency_days desc) as recency_rank,
        rank() over (order by window_order_count) as frequency_rank,
        rank() over (order by window_sales_amount) as monetary_rank
    from customer_window
    where is_buyer

),

rfm_scored as (

    -- score = floor(buckets x (rank - 1) / buyers) + 1: quintiles with ties in the lower bucket
    select
        customer_id,
        cast(
            {{ integer_division(var('rfm_score_buckets') ~ ' * (recency_rank - 1)', 'buyer_count') }} + 1 as integer
        ) as recency_score,
        cast(
            {{ integer_division(var('rfm_score_buckets') ~ ' * (frequency_rank - 1)', 'buyer_count') }} + 1 as integer
        ) as frequency_score,
        cast(
            {{ integer_division(var('rfm_score_buckets') ~ ' * (monetary_rank - 1)', 'buyer_count') }} + 1 as integer
        ) as monetary_score
    from rfm_ranked

),

final as (

    select
        customer_window.customer_id,
        customer_window.as_of_date,
        customer_window.recency_days,
        customer_window.window_order_count,
        cast(customer_window.window_sales_amount as decimal(18, 2)) as window_sales_amount,
        abc_classified.sales_share,
        abc_classified.cumulative_share,
        abc_classified.abc_class,
        case
            when abc_classified.abc_class is not null then abc_classified.abc_class
            when customer_window.potential_band = 'high' then 'potential'
            else 'none'
        end as resource_segment,
        rfm_scored.recency_score,
        rfm_scored.frequency_score,
        rfm_scored.monetary_score,
        cast(rfm_scored.recency_score as string)
        || cast(rfm_scored.frequency_score as string)
        || cast(rfm_scored.monetary_score as string) as rfm_cell,
        rfm_scored.recency_score + rfm_scored.frequency_score + rfm_scored.monetary_score as rfm_total_score
    from customer_window
    left join abc_classified
        on customer_window.customer_id = abc_classified.customer_id
    left join rfm_scored
        on customer_window.customer_id = rfm_scored.customer_id

)

select * from final
