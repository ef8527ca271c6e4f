-- One row per customer as of the as-of date: CRM attributes, potential band, order history,
-- value (ABC class, RFM) and churn risk of the last complete month, with the person a churn warning
-- goes to (004 §6.2.1: rep -> the owner, manager -> the owner's manager, director -> the manager's manager).
with

customers as (
    select * from {{ ref('int_customers') }}
),

customer_value as (
    select * from {{ ref('int_customer_value') }}
),

churn_monthly as (
    select * from {{ ref('int_customer_churn_monthly') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

latest_churn as (

    -- the last complete month of each buyer
    select *
    from churn_monthly
    qualify row_number() over (partition by customer_id order by month_start_date desc) = 1

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
        customers.potential_band,
        customers.owner_rep_id,
        owners.rep_name as owner_rep_name,
        owners.team_id as owner_team_id,
        owners.team_name as owner_team_name,
        customers.created_at,
        customers.created_date,
        customers.created_week_start_date,
        customers.is_created_before_order_history,
        customers.is_buyer,
        customers.first_order_date,
        customers.first_order_amount,
        customers.first_order_cycle_days,
        customers.last_order_date,
        customers.order_count,
        customers.sales_amount,
        customer_value.as_of_date,
        customer_value.recency_days,
        customer_value.window_order_count,
        customer_value.window_sales_amount,
        customer_value.sales_share,
        customer_value.cumulative_share,
        customer_value.abc_class,
        customer_value.resource_segment,
        customer_value.recency_score,
        customer_value.frequency_score,
        customer_value.monetary_score,
        customer_value.rfm_cell,
        customer_value.rfm_total_score,
        latest_churn.month_start_date as churn_month_start_date,
        latest_churn.decline_streak_months,
        coalesce(latest_churn.is_at_risk, false) as is_at_risk,
        coalesce(latest_churn.is_churned, false) as is_churned,
        latest_churn.churn_probability,
        coalesce(latest_churn.warning_level, 'none') as warning_level,
        case latest_churn.warning_level
            when 'rep' then customers.owner_rep_id
            when 'manager' then owners.manager_id
            when 'director' then managers.manager_id
        end as warning_recipient_rep_id
    from customers
    left join customer_value
        on customers.customer_id = customer_value.customer_id
    left join latest_churn
        on customers.customer_id = latest_churn.customer_id
    left join reps as owners
        on customers.owner_rep_id = owners.rep_id
    left join reps as managers
        on owners.manager_id = managers.rep_id

)

select * from final
