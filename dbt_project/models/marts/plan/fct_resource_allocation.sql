-- Next week's selling effort per quota rep and customer segment (002: A 40% / B 30% / C 20% /
-- potential 10%, seed resource_allocation_shares). Capacity = the rep's average visits per week over
-- the last var allocation_capacity_weeks (4) complete weeks; each segment gets capacity x its share,
-- the shares renormalised over the segments the rep owns customers in (so the whole capacity is
-- planned). Segments come from dim_customers.resource_segment (ABC on trailing-12-month sales;
-- potential = high-potential customers without sales in that window). The customers of each segment
-- are listed, largest trailing sales (then budget) first: the A list is the rep's key accounts.
-- Grain: one row per employed quota rep and segment; plan week = the Monday after the as-of date.
with

reps as (
    select * from {{ ref('dim_reps') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

activities_weekly as (
    select * from {{ ref('int_activities_weekly') }}
),

allocation_shares as (
    select * from {{ ref('resource_allocation_shares') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

plan_window as (

    select
        as_of_date,
        cast(date_trunc('week', as_of_date) + interval 7 day as date) as plan_week_start_date,
        latest_complete_week_start_date,
        cast(
            latest_complete_week_start_date - interval {{ (var('allocation_capacity_weeks') - 1) * 7 }} day as date
        ) as capacity_first_week_start_date
    from warehouse_as_of

),

quota_reps as (

    select reps.*
    from reps
    cross join plan_window
    where
        reps.role = 'rep'
        and (reps.leave_date is null or reps.leave_date > plan_window.as_of_date)

),

capacity as (

    select
        activities_weekly.rep_id,
        count(*) as capacity_week_count,
        -- decimal, like the shares below: planned visits = capacity x share is rounded in decimal,
        -- so 4.25 x 0.3 is 1.275 and rounds to 1.28 in every build (as doubles it is 1.27499...);
        -- both (18, 10), so that the product (decimal(37, 20)) is exact on every engine (Spark rounds
        -- a wider decimal product to 6 decimals)
        cast(avg(activities_weekly.visit_count) as decimal(18, 10)) as visits_per_week
    from activities_weekly
    cross join plan_window
    where
        activities_weekly.week_start_date
        between plan_window.capacity_first_week_start_date and plan_window.latest_complete_week_start_date
    group by activities_weekly.rep_id

),

segment_customers as (

    select
        owner_rep_id as rep_id,
        resource_segment as segment,
        count(*) as customer_count,
        sum(window_sales_amount) as window_sales_amount,
        {{ list_ordered_by('customer_id', 'list_position') }} as customer_ids,
        {{ list_ordered_by('customer_name', 'list_position') }} as customer_names
    from (
        select
            *,
            row_number() over (
                partition by owner_rep_id, resource_segment
                order by window_sales_amount desc, budget desc nulls last, customer_id
            ) as list_position
        from customers
        where owner_rep_id is not null
    ) as customers
    group by 1, 2

),

rep_segments as (

    select
        quota_reps.rep_id,
        quota_reps.rep_name,
        quota_reps.team_id,
        quota_reps.team_name,
        quota_reps.region,
        allocation_shares.segment,
        -- decimal, so the renormalising sum below is exact: a float sum's order varies between runs
        -- and flips the rounding of planned visits (0.425 -> 0.42 or 0.43)
        cast(allocation_shares.share as decimal(9, 6)) as configured_share,
        coalesce(segment_customers.customer_count, 0) as customer_count,
        coalesce(segment_customers.window_sales_amount, 0) as window_sales_amount,
        segment_customers.customer_ids,
        segment_customers.customer_names,
        capacity.capacity_week_count,
        coalesce(capacity.visits_per_week, 0) as capacity_visits_per_week
    from quota_reps
    cross join allocation_shares
    left join segment_customers
        on
            quota_reps.rep_id = segment_customers.rep_id
            and allocation_shares.segment = segment_customers.segment
    left join capacity
        on quota_reps.rep_id = capacity.rep_id

),

shared as (

    select
        *,
        case
            when customer_count > 0
                then cast(
                    cast(configured_share as double)
                    / cast(sum(case when customer_count > 0 then configured_share end) over (
                        partition by rep_id
                    ) as double)
                    as decimal(18, 10)
                )
            else 0
        end as effective_share
    from rep_segments

),

final as (

    select
        shared.rep_id || ':' || shared.segment || ':' || cast(plan_window.plan_week_start_date as string)
            as allocation_id,
        plan_window.plan_week_start_date,
        cast(plan_window.plan_week_start_date + 6 as date) as plan_week_end_date,
        shared.rep_id,
        shared.rep_name,
        shared.team_id,
        shared.team_name,
        shared.region,
        shared.segment,
        cast(shared.configured_share as double) as configured_share,
        cast(round(shared.effective_share, 4) as double) as effective_share,
        cast(round(shared.capacity_visits_per_week, 2) as double) as capacity_visits_per_week,
        cast(coalesce(shared.capacity_week_count, 0) as integer) as capacity_week_count,
        cast(round(shared.capacity_visits_per_week * shared.effective_share, 2) as double) as planned_visits,
        cast(shared.customer_count as integer) as customer_count,
        cast(
            round(cast(
                cast(shared.capacity_visits_per_week * shared.effective_share as double)
                / nullif(shared.customer_count, 0)
                as decimal(38, 10)
            ), 3) as double
        ) as planned_visits_per_customer,
        cast(shared.window_sales_amount as decimal(18, 2)) as window_sales_amount,
        coalesce(shared.customer_ids, {{ empty_string_list() }}) as customer_ids,
        coalesce(shared.customer_names, {{ empty_string_list() }}) as customer_names
    from shared
    cross join plan_window

)

select * from final
