-- A rep who owns customers in any segment has its whole capacity planned: the segments' planned
-- visits add up to the capacity (within the 2-decimal rounding of each of the 4 segments).
-- Returns the reps whose plan disagrees.
with

allocation as (
    select * from {{ ref('fct_resource_allocation') }}
),

per_rep as (
    select
        rep_id,
        max(capacity_visits_per_week) as capacity,
        sum(planned_visits) as planned,
        sum(customer_count) as customers,
        count(*) as segments
    from allocation
    group by rep_id
)

select *
from per_rep
where customers > 0 and abs(planned - capacity) > 0.005 * segments + 0.005
