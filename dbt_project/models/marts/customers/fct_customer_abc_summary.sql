-- Customer value classes as of the as-of date, for the company and each region: customers, trailing
-- sales and their share, and how many churned or are at risk. The A row's churn_rate is the
-- high-value churn rate (004 §5.4.1); high_risk_rate counts at-risk customers whose warning goes to a
-- manager or the director (churn probability >= var churn_warning_manager_min).
with

customers as (
    select * from {{ ref('dim_customers') }}
),

classified as (

    select
        'company' as level,
        'company' as unit_id,
        abc_class,
        window_sales_amount,
        is_churned,
        is_at_risk,
        warning_level,
        as_of_date
    from customers
    where abc_class is not null
    union all
    select
        'region',
        coalesce(region, {{ unknown_label('region') }}),
        abc_class,
        window_sales_amount,
        is_churned,
        is_at_risk,
        warning_level,
        as_of_date
    from customers
    where abc_class is not null

),

aggregated as (

    select
        level,
        unit_id,
        abc_class,
        max(as_of_date) as as_of_date,
        count(*) as customer_count,
        sum(window_sales_amount) as window_sales_amount,
        count(*) filter (where is_churned) as churned_count,
        count(*) filter (where is_at_risk) as at_risk_count,
        count(*) filter (where warning_level in ('manager', 'director')) as high_risk_count,
        count(*) filter (where warning_level = 'rep') as rep_warning_count,
        count(*) filter (where warning_level = 'manager') as manager_warning_count,
        count(*) filter (where warning_level = 'director') as director_warning_count
    from classified
    group by 1, 2, 3

),

final as (

    select
        level || ':' || unit_id || ':' || abc_class as abc_summary_id,
        as_of_date,
        level,
        unit_id,
        abc_class,
        cast(customer_count as integer) as customer_count,
        cast(window_sales_amount as decimal(18, 2)) as window_sales_amount,
        cast(window_sales_amount as double)
        / nullif(sum(window_sales_amount) over (partition by level, unit_id), 0) as sales_share,
        cast(churned_count as integer) as churned_count,
        cast(at_risk_count as integer) as at_risk_count,
        cast(high_risk_count as integer) as high_risk_count,
        cast(rep_warning_count as integer) as rep_warning_count,
        cast(manager_warning_count as integer) as manager_warning_count,
        cast(director_warning_count as integer) as director_warning_count,
        cast(churned_count as double) / customer_count as churn_rate,
        cast(at_risk_count as double) / customer_count as at_risk_rate,
        cast(high_risk_count as double) / customer_count as high_risk_rate
    from aggregated

)

select * from final
