-- Every customer is counted exactly once per grain and level in fct_new_customers (company level:
-- all customers; region level: the regions add up to the company). Returns the disagreeing grains.
{{ config(meta={'dagster': {'ref': {'name': 'fct_new_customers'}}}) }}  {#- its asset check in Dagster -#}
with

customers as (
    select count(*) as n from {{ ref('int_customers') }}
),

counted as (
    select period_grain, level, sum(new_customer_count) as n
    from {{ ref('fct_new_customers') }}
    group by 1, 2
)

select counted.*, customers.n as customer_count
from counted
cross join customers
where counted.n != customers.n
