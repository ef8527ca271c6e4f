-- Open invoices as of every snapshot date (each Sunday, each month end and the as-of date): the balance
-- recomputed from the invoice amount less the payments received up to that day (never read from a
-- balance column), the days overdue and the aging bucket (seed aging_buckets). A credit note (negative
-- invoice) has a negative balance that reduces its customer's receivable and ages as current; invoices of
-- one order delivered in phases are separate rows. Unapplied cash (prepayments): fct_ar_unapplied_cash. The rows with
-- is_as_of_date are the open receivables today.
with

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

payments as (
    select * from {{ ref('int_receivables__payments') }}
),

snapshot_dates as (
    select * from {{ ref('int_receivables__snapshot_dates') }}
),

aging_buckets as (
    select * from {{ ref('aging_buckets') }}
),

invoice_dates as (

    -- the snapshot dates on which the invoice was issued and not yet paid in full
    select
        snapshot_dates.*,
        invoices.invoice_id,
        invoices.invoice_amount,
        invoices.due_date
    from invoices
    inner join snapshot_dates
        on
            snapshot_dates.snapshot_date >= invoices.invoice_date
            and (invoices.settled_date is null or snapshot_dates.snapshot_date < invoices.settled_date)

),

paid_by_snapshot as (

    select
        invoice_dates.snapshot_date,
        invoice_dates.invoice_id,
        coalesce(sum(payments.payment_amount), 0) as paid_amount
    from invoice_dates
    left join payments
        on
            invoice_dates.invoice_id = payments.invoice_id
            and payments.payment_date <= invoice_dates.snapshot_date
    group by invoice_dates.snapshot_date, invoice_dates.invoice_id

),

balances as (

    select
        invoice_dates.*,
        cast(paid_by_snapshot.paid_amount as decimal(18, 2)) as paid_amount,
        cast(invoice_dates.invoice_amount - paid_by_snapshot.paid_amount as decimal(18, 2)) as open_balance,
        -- a credit note (negative amount) is never overdue: it ages as current
        case
            when invoice_dates.invoice_amount < 0
                then least({{ days_between('invoice_dates.due_date', 'invoice_dates.snapshot_date') }}, 0)
            else {{ days_between('invoice_dates.due_date', 'invoice_dates.snapshot_date') }}
        end as days_overdue
    from invoice_dates
    inner join paid_by_snapshot
        on
            invoice_dates.snapshot_date = paid_by_snapshot.snapshot_date
            and invoice_dates.invoice_id = paid_by_snapshot.invoice_id
    where invoice_dates.invoice_amount - paid_by_snapshot.paid_amount != 0

),

final as (

    select
        balances.invoice_id || ':' || cast(balances.snapshot_date as string) as invoice_snapshot_id,
        balances.snapshot_date,
        balances.snapshot_week_start_date,
        balances.is_week_end,
        balances.is_month_end,
        balances.is_quarter_end,
        balances.is_as_of_date,
        balances.invoice_id,
        invoices.customer_id,
        invoices.customer_name,
        invoices.rep_id,
        invoices.rep_name,
        invoices.region,
        invoices.invoice_date,
        invoices.credit_terms_days,
        invoices.due_date,
        invoices.invoice_amount,
        invoices.invoice_amount < 0 as is_credit_note,
        balances.paid_amount,
        balances.open_balance,
        balances.days_overdue,
        balances.days_overdue > 0 as is_overdue,
        aging_buckets.bucket_key as aging_bucket_key,
        aging_buckets.bucket_label as aging_bucket_label,
        aging_buckets.bucket_order as aging_bucket_order
    from balances
    inner join invoices
        on balances.invoice_id = invoices.invoice_id
    left join aging_buckets
        on
            balances.days_overdue >= coalesce(aging_buckets.min_days_overdue, balances.days_overdue)
            and balances.days_overdue <= coalesce(aging_buckets.max_days_overdue, balances.days_overdue)

)

select * from final
