-- Churn risk per buyer and complete calendar month (004 §3.2.2, §6.2.1).
-- Grain: one row per customer and month, from the month of the customer's first order to the last
-- month complete by the as-of date (months without purchases included, as 0).
-- A month is a decline month when its purchases are at least var churn_decline_min (30%) below the
-- customer's baseline = average month over the var churn_baseline_months (6) months before it (only
-- months since the first order). var churn_decline_months (2) decline months running = at risk.
-- No purchase in the last var churned_after_months (6) months = churned.
-- Churn probability (transparent score, 0..1; weights and caps are vars) =
--     churn_weight_depth   x depth    (the month's decline below baseline, 0..1)
--   + churn_weight_streak  x streak   (decline months running / churn_streak_cap_months, capped at 1)
--   + churn_weight_recency x recency  (days since the last order at month end / churn_recency_cap_days,
--                                      capped at 1)
-- and 1 for a churned customer. At-risk customers get a warning level by probability:
-- >= churn_warning_director_min (70%) director, >= manager_min (50%) manager, >= rep_min (30%) rep.
with

orders as (
    select * from {{ ref('int_customer_orders') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

last_complete_month as (

    -- the month whose last day is on or before the as-of date
    select cast(date_trunc('month', as_of_date + 1) - interval 1 month as date) as month_start_date
    from warehouse_as_of

),

order_months as (

    select
        customer_id,
        cast(date_trunc('month', order_date) as date) as month_start_date,
        sum(order_amount) as purchase_amount,
        count(*) as order_count,
        max(order_date) as last_order_date_in_month
    from orders
    group by 1, 2

),

customer_spans as (

    select
        customer_id,
        min(month_start_date) as first_month_start_date
    from order_months
    group by customer_id

),

customer_months as (

    select
        customer_id,
        cast(month_start as date) as month_start_date
    from (
        select
            customer_spans.customer_id,
            {{ unnest_series(
                'cast(customer_spans.first_month_start_date as timestamp)',
                'cast(last_complete_month.month_start_date as timestamp)',
                'interval 1 month'
            ) }} as month_start
        from customer_spans
        cross join last_complete_month
    ) as month_series

),

monthly as (

    select
        customer_months.customer_id,
        customer_months.month_start_date,
        cast(customer_months.month_start_date + interval 1 month - interval 1 day as date) as month_end_date,
        coalesce(order_months.purchase_amount, 0) as purchase_amount,
        cast(coalesce(order_months.order_count, 0) as integer) as order_count,
        max(order_months.last_order_date_in_month) over (
            partition by customer_months.customer_id
            order by customer_months.month_start_date
            rows between unbounded preceding and current row
        ) as last_order_date,
        avg(coalesce(order_months.purchase_amount, 0)) over (
            partition by customer_months.customer_id
            order by customer_months.month_start_date
            rows between {{ var('churn_baseline_months') }} preceding and 1 preceding
        ) as baseline_amount,
        sum(coalesce(order_months.purchase_amount, 0)) over (
            partition by customer_months.customer_id
            order by customer_months.month_start_date
            rows between {{ var('churned_after_months') - 1 }} preceding and current row
        ) as recent_purchase_amount
    from customer_months
    left join order_months
        on
            customer_months.customer_id = order_months.customer_id
            and customer_months.month_start_date = order_months.month_start_date

),

declines as (

    select
        *,
        case
            when baseline_amount > 0 then 1 - cast(purchase_amount as double) / cast(baseline_amount as double)
        end as decline_rate
    from monthly

),

flagged as (

    select
        *,
        -- a tiny tolerance so that exactly 30% counts despite floating point (1 - 70/100 = 0.29999...)
        coalesce(decline_rate >= {{ var('churn_decline_min') }} - 1e-9, false) as is_decline_month
    from declines

),

streak_groups as (

    -- every month that is not a decline month starts a new group: a group's decline months run on
    select
        *,
        sum(case when is_decline_month then 0 else 1 end) over (
            partition by customer_id
            order by month_start_date
            rows between unbounded preceding and current row
        ) as streak_group
    from flagged

),

streaks as (

    select
        *,
        cast(
            case
                when is_decline_month
                    then count_if(is_decline_month) over (
                        partition by customer_id, streak_group
                        order by month_start_date
                        rows between unbounded preceding and current row
                    )
                else 0
            end as integer
        ) as decline_streak_months,
        cast({{ days_between('last_order_date', 'month_end_date') }} as integer) as days_since_last_order,
        recent_purchase_amount = 0 as is_churned
    from streak_groups

),

scored as (

    select
        *,
        decline_streak_months >= {{ var('churn_decline_months') }} and not is_churned as is_at_risk,
        case
            when is_churned then 1.0
            else round(
                {{ var('churn_weight_depth') }} * least(greatest(coalesce(decline_rate, 0), 0), 1)
                + {{ var('churn_weight_streak') }}
                * least(decline_streak_months / {{ var('churn_streak_cap_months') }}, 1)
                + {{ var('churn_weight_recency') }}
                * least(days_since_last_order / {{ var('churn_recency_cap_days') }}, 1),
                4
            )
        end as churn_probability
    from streaks

),

final as (

    select
        customer_id || ':' || left(cast(month_start_date as string), 7) as customer_month_id,
        customer_id,
        month_start_date,
        month_end_date,
        cast(purchase_amount as decimal(18, 2)) as purchase_amount,
        order_count,
        cast(baseline_amount as double) as baseline_amount,
        decline_rate,
        is_decline_month,
        decline_streak_months,
        last_order_date,
        days_since_last_order,
        is_at_risk,
        is_churned,
        cast(churn_probability as double) as churn_probability,
        case
            when is_churned then 'churned'
            when not is_at_risk then 'none'
            when churn_probability >= {{ var('churn_warning_director_min') }} then 'director'
            when churn_probability >= {{ var('churn_warning_manager_min') }} then 'manager'
            when churn_probability >= {{ var('churn_warning_rep_min') }} then 'rep'
            else 'none'
        end as warning_level
    from scored

)

select * from final
