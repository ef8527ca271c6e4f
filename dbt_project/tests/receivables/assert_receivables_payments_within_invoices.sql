-- In clean data no invoice is paid more than its amount (overpayment is a 'block' rule). A payment that
-- arrives before its invoice is issued is a prepayment, not an error: it is unapplied cash until the
-- invoice date (fct_ar_unapplied_cash). Returns one row per overpaid invoice. Payments of unknown
-- invoices: assert_receivables_payments_have_invoices.
{{ config(meta={'dagster': {'ref': {'name': 'clean_erp__payments'}}}) }}  {#- its asset check in Dagster -#}
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
        cast(null as string) as payment_id,
        'paid ' || cast(sum(payments.payment_amount) as string) || ' > invoiced '
        || cast(max(invoices.invoice_amount) as string) as problem
    from invoices
    inner join payments
        on invoices.invoice_id = payments.invoice_id
    group by invoices.invoice_id
    having sum(payments.payment_amount) > max(invoices.invoice_amount)

),

final as (

    select * from overpaid

)

select * from final
