-- Monthly churn-risk snapshots per buyer (int_customer_churn_monthly) with the customer's region,
-- owner, value class as of the as-of date, and the person a warning goes to.
with

churn_monthly as (
    select * from {{ ref('int_customer_churn_monthly') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

customer_value as (
    select * from {{ ref('int_customer_value') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

final as (

    select
        churn_monthly.customer_month_id,
        churn_monthly.customer_id,
        customers.customer_name,
        coalesce(customers.region, {{ unknown_label('region') }}) as region,
        customers.owner_rep_id,
        customer_value.abc_class,
        churn_monthly.month_start_date,
        churn_monthly.month_end_date,
        churn_monthly.purchase_amount,
        churn_monthly.order_count,
        churn_monthly.baseline_amount,
        churn_monthly.decline_rate,
        churn_monthly.is_decline_month,
        churn_monthly.decline_streak_months,
        churn_monthly.last_order_date,
        churn_monthly.days_since_last_order,
        churn_monthly.is_at_risk,
        churn_monthly.is_churned,
        churn_monthly.churn_probability,
        churn_monthly.warning_level,
        case churn_monthly.warning_level
            when 'rep' then customers.owner_rep_id
            when 'manager' then owners.manager_id
            when 'director' then managers.manager_id
        end as warning_recipient_rep_id
    from churn_monthly
    left join customers
        on churn_monthly.customer_id = customers.customer_id
    left join customer_value
        on churn_monthly.customer_id = customer_value.customer_id
    left join reps as owners
        on customers.owner_rep_id = owners.rep_id
    left join reps as managers
        on owners.manager_id = managers.rep_id

)

select * from final
