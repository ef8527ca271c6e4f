-- Customer sales per week, month and quarter, for the company and each region (the customer's region):
-- sales, orders, buyers, new vs existing customer contribution (a customer's first order vs later
-- orders), average order value (客单价), first-order cycle of the customers who first ordered in the
-- period (only customers created within the order history), and the repeat purchase rate over the var customer_value_window_months (12) months ending at
-- the period's end (or the as-of date, for the running period). Sales = int_customer_orders (ERP orders).
-- Every period from the first order's to the as-of date's has a row per unit (zeros included).
with

orders as (
    select * from {{ ref('int_customer_orders') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

order_units as (

    select
        orders.order_id,
        orders.order_date,
        orders.customer_id,
        orders.order_amount,
        orders.is_first_order,
        -- the cycle only of customers created within the order history: for an older customer the
        -- first order in the warehouse may not be its first order
        case
            when orders.is_first_order and not customers.is_created_before_order_history
                then customers.first_order_cycle_days
        end as first_order_cycle_days,
        'company' as level,
        'company' as unit_id
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    union all
    select
        orders.order_id,
        orders.order_date,
        orders.customer_id,
        orders.order_amount,
        orders.is_first_order,
        case
            when orders.is_first_order and not customers.is_created_before_order_history
                then customers.first_order_cycle_days
        end,
        'region',
        coalesce(customers.region, {{ unknown_label('region') }})
    from orders
    left join customers
        on orders.customer_id = customers.customer_id

),

periods as (

    {%- set grain_steps = {'week': 'interval 7 day', 'month': 'interval 1 month', 'quarter': 'interval 3 month'} %}
    {% for grain in ['week', 'month', 'quarter'] %}
    select
        '{{ grain }}' as period_grain,
        cast(period_series.period_start as date) as period_start_date,
        cast(period_series.period_start + {{ grain_steps[grain] }} - interval 1 day as date) as period_end_date
    from {{ unnest_series(
        "(select cast(date_trunc('" ~ grain ~ "', min(order_date)) as timestamp) from orders)",
        "(select cast(date_trunc('" ~ grain ~ "', as_of_date) as timestamp) from warehouse_as_of)",
        grain_steps[grain]
    ) }} as period_series (period_start)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

unit_periods as (

    select
        periods.*,
        units.level,
        units.unit_id,
        least(periods.period_end_date, warehouse_as_of.as_of_date) as window_end_date,
        cast(
            least(periods.period_end_date, warehouse_as_of.as_of_date)
            - interval {{ var('customer_value_window_months') }} month as date
        ) as window_start_after
    from periods
    cross join (select distinct level, unit_id from order_units) as units
    cross join warehouse_as_of

),

period_sales as (

    select
        unit_periods.period_grain,
        unit_periods.period_start_date,
        unit_periods.level,
        unit_periods.unit_id,
        count(order_units.order_id) as order_count,
        count(distinct order_units.customer_id) as buyer_count,
        coalesce(sum(order_units.order_amount), 0) as sales_amount,
        coalesce(sum(order_units.order_amount) filter (where order_units.is_first_order), 0)
            as new_customer_sales_amount,
        count(order_units.order_id) filter (where order_units.is_first_order) as first_order_count,
        count(order_units.first_order_cycle_days) as first_order_cycle_customer_count,
        avg(order_units.first_order_cycle_days) as first_order_cycle_days_avg,
        median(order_units.first_order_cycle_days) as first_order_cycle_days_median
    from unit_periods
    left join order_units
        on
            unit_periods.level = order_units.level
            and unit_periods.unit_id = order_units.unit_id
            and order_units.order_date between unit_periods.period_start_date and unit_periods.period_end_date
    group by 1, 2, 3, 4

),

window_buyers as (

    -- orders per customer in the trailing window ending at each period's end
    select
        unit_periods.period_grain,
        unit_periods.period_start_date,
        unit_periods.level,
        unit_periods.unit_id,
        order_units.customer_id,
        count(*) as window_order_count
    from unit_periods
    inner join order_units
        on
            unit_periods.level = order_units.level
            and unit_periods.unit_id = order_units.unit_id
            and order_units.order_date > unit_periods.window_start_after
            and order_units.order_date <= unit_periods.window_end_date
    group by 1, 2, 3, 4, 5

),

window_rates as (

    select
        period_grain,
        period_start_date,
        level,
        unit_id,
        count(*) as window_buyer_count,
        count(*) filter (where window_order_count >= 2) as window_repeat_buyer_count
    from window_buyers
    group by 1, 2, 3, 4

),

final as (

    select
        unit_periods.period_grain || ':' || unit_periods.level || ':' || unit_periods.unit_id || ':'
        || cast(unit_periods.period_start_date as string) as customer_sales_id,
        unit_periods.period_grain,
        unit_periods.period_start_date,
        unit_periods.period_end_date,
        unit_periods.period_end_date <= warehouse_as_of.as_of_date as is_complete_period,
        unit_periods.level,
        unit_periods.unit_id,
        cast(period_sales.sales_amount as decimal(18, 2)) as sales_amount,
        cast(period_sales.order_count as integer) as order_count,
        cast(period_sales.buyer_count as integer) as buyer_count,
        cast(period_sales.new_customer_sales_amount as decimal(18, 2)) as new_customer_sales_amount,
        cast(period_sales.sales_amount - period_sales.new_customer_sales_amount as decimal(18, 2))
            as existing_customer_sales_amount,
        cast(period_sales.new_customer_sales_amount as double) / nullif(period_sales.sales_amount, 0)
            as new_customer_sales_share,
        cast(period_sales.sales_amount as double) / nullif(period_sales.order_count, 0) as average_order_value,
        cast(period_sales.sales_amount as double) / nullif(period_sales.buyer_count, 0) as sales_per_buyer,
        cast(period_sales.first_order_count as integer) as first_order_count,
        cast(period_sales.first_order_cycle_customer_count as integer) as first_order_cycle_customer_count,
        cast(period_sales.first_order_cycle_days_avg as double) as first_order_cycle_days_avg,
        cast(period_sales.first_order_cycle_days_median as double) as first_order_cycle_days_median,
        unit_periods.window_end_date as repeat_window_end_date,
        cast(coalesce(window_rates.window_buyer_count, 0) as integer) as repeat_window_buyer_count,
        cast(coalesce(window_rates.window_repeat_buyer_count, 0) as integer) as repeat_window_repeat_buyer_count,
        cast(window_rates.window_repeat_buyer_count as double) / nullif(window_rates.window_buyer_count, 0)
            as repeat_purchase_rate
    from unit_periods
    cross join warehouse_as_of
    inner join period_sales
        on
            unit_periods.period_grain = period_sales.period_grain
            and unit_periods.period_start_date = period_sales.period_start_date
            and unit_periods.level = period_sales.level
            and unit_periods.unit_id = period_sales.unit_id
    left join window_rates
        on
            unit_periods.period_grain = window_rates.period_grain
            and unit_periods.period_start_date = window_rates.period_start_date
            and unit_periods.level = window_rates.level
            and unit_periods.unit_id = window_rates.unit_id

)

select * from final
