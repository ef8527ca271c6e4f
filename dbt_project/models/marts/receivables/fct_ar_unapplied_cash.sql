-- Unapplied cash (预收款 / 未核销回款) per customer on every snapshot date (each Sunday, each month end and
-- the as-of date): money received by that day that no invoice issued by that day takes - a prepayment
-- dated before its invoice (applied from the invoice date on), or a payment whose invoice the ERP has not
-- delivered (warn rule orphan_payment_invoice). It reduces the customer's receivable: net open balance =
-- open invoices (fct_ar_invoice_snapshots, credit notes negative) - unapplied cash, which fct_ar_aging and
-- fct_ar_dso_cei use. Rep and region are the payment's (int_receivables__payments: the invoice's collecting
-- rep, 'unknown' when the invoice is unknown), as in the collections marts.
with

payments as (
    select * from {{ ref('int_receivables__payments') }}
),

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

snapshot_dates as (
    select * from {{ ref('int_receivables__snapshot_dates') }}
),

customers as (
    select * from {{ ref('clean_crm__customers') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

payments_with_invoice_date as (

    select
        payments.payment_id,
        payments.customer_id,
        payments.rep_id,
        payments.region,
        payments.payment_date,
        payments.payment_amount,
        invoices.invoice_date
    from payments
    left join invoices
        on payments.invoice_id = invoices.invoice_id

),

unapplied as (

    -- received by the snapshot date, its invoice unknown or issued after it
    select
        snapshot_dates.snapshot_date,
        payments_with_invoice_date.customer_id,
        payments_with_invoice_date.rep_id,
        payments_with_invoice_date.region,
        sum(payments_with_invoice_date.payment_amount) as unapplied_amount,
        count(*) as payment_count,
        count(*) filter (where payments_with_invoice_date.invoice_date is not null) as prepayment_count
    from snapshot_dates
    inner join payments_with_invoice_date
        on
            payments_with_invoice_date.payment_date <= snapshot_dates.snapshot_date
            and (
                payments_with_invoice_date.invoice_date is null
                or payments_with_invoice_date.invoice_date > snapshot_dates.snapshot_date
            )
    group by
        snapshot_dates.snapshot_date,
        payments_with_invoice_date.customer_id,
        payments_with_invoice_date.rep_id,
        payments_with_invoice_date.region

),

final as (

    select
        coalesce(unapplied.customer_id, 'unknown') || ':' || unapplied.rep_id || ':'
        || cast(unapplied.snapshot_date as string) as unapplied_cash_id,
        unapplied.snapshot_date,
        snapshot_dates.is_week_end,
        snapshot_dates.is_month_end,
        snapshot_dates.is_quarter_end,
        snapshot_dates.is_as_of_date,
        unapplied.customer_id,
        customers.customer_name,
        unapplied.rep_id,
        reps.rep_name,
        unapplied.region,
        cast(unapplied.unapplied_amount as decimal(18, 2)) as unapplied_amount,
        unapplied.payment_count,
        unapplied.prepayment_count
    from unapplied
    inner join snapshot_dates
        on unapplied.snapshot_date = snapshot_dates.snapshot_date
    left join customers
        on unapplied.customer_id = customers.customer_id
    left join reps
        on unapplied.rep_id = reps.rep_id

)

select * from final
