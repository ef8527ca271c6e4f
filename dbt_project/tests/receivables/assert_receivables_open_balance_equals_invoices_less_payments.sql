-- Reconciliation: on every snapshot date the company's net open receivables (the recomputed open
-- balances of fct_ar_invoice_snapshots, credit notes negative, less fct_ar_unapplied_cash) equal all
-- invoices issued up to that date less all payments received up to that date, straight from the clean
-- ERP extracts (cumulative totals, not per invoice). A prepayment is unapplied cash until its invoice is
-- issued, so it counts the day it arrives on both sides. Holds when no invoice is overpaid
-- (assert_receivables_payments_within_invoices).
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_invoice_snapshots'}}}) }}  {#- its asset check in Dagster -#}
with

snapshot_dates as (
    select * from {{ ref('int_receivables__snapshot_dates') }}
),

snapshots as (
    select * from {{ ref('fct_ar_invoice_snapshots') }}
),

unapplied_cash as (
    select * from {{ ref('fct_ar_unapplied_cash') }}
),

invoices as (
    select * from {{ ref('clean_erp__invoices') }}
),

payments as (
    select * from {{ ref('clean_erp__payments') }}
),

open_balance as (

    -- net: open invoices (credit notes negative) less unapplied cash
    select
        snapshot_dates.snapshot_date,
        coalesce((
            select sum(snapshots.open_balance) from snapshots
            where snapshots.snapshot_date = snapshot_dates.snapshot_date
        ), 0)
        - coalesce((
            select sum(unapplied_cash.unapplied_amount) from unapplied_cash
            where unapplied_cash.snapshot_date = snapshot_dates.snapshot_date
        ), 0) as open_balance
    from snapshot_dates

),

issued as (

    select
        snapshot_dates.snapshot_date,
        coalesce(sum(invoices.invoice_amount), 0) as invoiced
    from snapshot_dates
    left join invoices
        on invoices.invoice_date <= snapshot_dates.snapshot_date
    group by snapshot_dates.snapshot_date

),

received as (

    select
        snapshot_dates.snapshot_date,
        coalesce(sum(payments.payment_amount), 0) as received
    from snapshot_dates
    left join payments
        on payments.payment_date <= snapshot_dates.snapshot_date
    group by snapshot_dates.snapshot_date

),

final as (

    select
        open_balance.snapshot_date,
        open_balance.open_balance,
        issued.invoiced,
        received.received
    from open_balance
    inner join issued
        on open_balance.snapshot_date = issued.snapshot_date
    inner join received
        on open_balance.snapshot_date = received.snapshot_date
    where open_balance.open_balance != issued.invoiced - received.received

)

select * from final
