-- Average payment cycle per customer and quarter (by the quarter the invoice was paid in full in), and
-- its change against the customer's previous quarter with paid invoices: the trend behind the drift
-- flag in fct_customer_payment_drift (004 §3.6.3).
with

cycles as (
    select * from {{ ref('fct_payment_cycles') }}
),

quarterly as (

    select
        customer_id,
        settled_quarter_start_date as quarter_start_date,
        max(customer_name) as customer_name,
        max(rep_id) as rep_id,
        max(region) as region,
        count(*) as paid_invoice_count,
        sum(invoice_amount) as paid_invoice_amount,
        avg(days_to_settle) as avg_days_to_settle,
        avg(days_late) as avg_days_late,
        max(days_to_settle) as max_days_to_settle,
        avg(credit_terms_days) as avg_credit_terms_days
    from cycles
    group by customer_id, settled_quarter_start_date

),

final as (

    select
        customer_id || ':' || cast(quarter_start_date as string) as customer_quarter_id,
        customer_id,
        customer_name,
        rep_id,
        region,
        quarter_start_date,
        cast(year(quarter_start_date) as string) || '-Q' || cast(quarter(quarter_start_date) as string)
            as quarter_label,
        paid_invoice_count,
        cast(paid_invoice_amount as decimal(18, 2)) as paid_invoice_amount,
        round(avg_days_to_settle, 1) as avg_days_to_settle,
        round(avg_days_late, 1) as avg_days_late,
        max_days_to_settle,
        round(avg_credit_terms_days, 1) as avg_credit_terms_days,
        round(
            avg_days_to_settle
            - lag(avg_days_to_settle) over (partition by customer_id order by quarter_start_date),
            1
        ) as change_vs_previous_quarter_days
    from quarterly

)

select * from final
