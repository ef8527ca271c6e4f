-- Payment cycle (回款周期) of every invoice paid in full by the as-of date: days from the invoice date
-- to the day the payments reached the invoice amount, and days late against the due date.
with

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

final as (

    select
        invoice_id,
        customer_id,
        customer_name,
        rep_id,
        rep_name,
        region,
        invoice_date,
        credit_terms_days,
        due_date,
        settled_date,
        cast(date_trunc('quarter', settled_date) as date) as settled_quarter_start_date,
        invoice_amount,
        payment_count,
        datediff('day', invoice_date, settled_date) as days_to_settle,
        datediff('day', due_date, settled_date) as days_late
    from invoices
    where settled_date is not null

)

select * from final
