-- In clean data no invoice is paid more than its amount and no payment arrives before its invoice was
-- issued (otherwise open balances would not reconcile with invoices less payments). Returns one row
-- per offending invoice or payment. Payments of unknown invoices: assert_receivables_payments_have_invoices.
with

invoices as (
    select * from {{ ref('clean_erp__invoices') }}
),

payments as (
    select * from {{ ref('clean_erp__payments') }}
),

overpaid as (

    select
        invoices.invoice_id,
        cast(null as varchar) as payment_id,
        'paid ' || cast(sum(payments.payment_amount) as varchar) || ' > invoiced '
        || cast(max(invoices.invoice_amount) as varchar) as problem
    from invoices
    inner join payments
        on invoices.invoice_id = payments.invoice_id
    group by invoices.invoice_id
    having sum(payments.payment_amount) > max(invoices.invoice_amount)

),

before_invoice as (

    select
        payments.invoice_id,
        payments.payment_id,
        'paid ' || cast(payments.payment_date as varchar) || ' before invoiced '
        || cast(invoices.invoice_date as varchar) as problem
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id
    where payments.payment_date < invoices.invoice_date

),

final as (

    select * from overpaid
    union all
    select * from before_invoice

)

select * from final
