-- Money must agree across layers: for every period grain, the company's sales in fct_customer_sales
-- add up to the counted orders (int_customer_orders), new + existing = sales in every row, and the
-- regions add up to the company in every period. Returns the disagreeing rows.
{{ config(meta={'dagster': {'ref': {'name': 'fct_customer_sales'}}}) }}  {#- its asset check in Dagster -#}
with

orders as (
    select coalesce(sum(order_amount), 0) as amount from {{ ref('int_customer_orders') }}
),

sales as (
    select * from {{ ref('fct_customer_sales') }}
),

grain_totals as (
    select period_grain, sum(sales_amount) as company_amount
    from sales
    where level = 'company'
    group by period_grain
),

grain_mismatches as (
    select 'grain total' as check_name, grain_totals.period_grain as detail
    from grain_totals
    cross join orders
    where grain_totals.company_amount != orders.amount
),

split_mismatches as (
    select 'new + existing' as check_name, customer_sales_id as detail
    from sales
    where new_customer_sales_amount + existing_customer_sales_amount != sales_amount
),

region_mismatches as (
    select 'regions = company' as check_name, company.customer_sales_id as detail
    from sales as company
    left join (
        select period_grain, period_start_date, sum(sales_amount) as amount, sum(order_count) as orders
        from sales
        where level = 'region'
        group by 1, 2
    ) as regions
        on
            company.period_grain = regions.period_grain
            and company.period_start_date = regions.period_start_date
    where
        company.level = 'company'
        and (coalesce(regions.amount, 0) != company.sales_amount or coalesce(regions.orders, 0) != company.order_count)
)

select * from grain_mismatches
union all
select * from split_mismatches
union all
select * from region_mismatches
