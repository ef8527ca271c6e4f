-- Payment cycle (回款周期) of every invoice paid in full by the as-of date: days from the invoice date
-- to the day the payments reached the invoice amount, and days late against the due date. A prepaid
-- invoice (paid in full before it was issued) counts as paid on its invoice date: 0 days to settle, never
-- negative (is_prepaid; int_receivables__invoices). Credit notes (negative invoices) are not paid by the
-- customer and have no payment cycle: left out.
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
        is_prepaid,
        {{ days_between('invoice_date', 'settled_date') }} as days_to_settle,
        {{ days_between('due_date', 'settled_date') }} as days_late
    from invoices
    where settled_date is not null and invoice_amount > 0

)

select * from final
