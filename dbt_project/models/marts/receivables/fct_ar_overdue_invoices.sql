-- Overdue invoices as of the as-of date (逾期应收, 004 §2.1.3): customer, rep, days late, the open
-- balance, the reason the collection plan gives (the latest plan line that names one) and whether the
-- cause is ours to fix (controllable: our process) or the customer's (uncontrollable: its cash or
-- approvals), from the overdue_reasons seed. 'unknown' when no plan line names a reason.
with

snapshots as (
    select * from {{ ref('fct_ar_invoice_snapshots') }}
),

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

overdue_reasons as (
    select * from {{ ref('overdue_reasons') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

final as (

    select
        snapshots.invoice_id,
        snapshots.snapshot_date as as_of_date,
        snapshots.customer_id,
        snapshots.customer_name,
        snapshots.rep_id,
        snapshots.rep_name,
        snapshots.region,
        snapshots.invoice_date,
        snapshots.credit_terms_days,
        snapshots.due_date,
        snapshots.invoice_amount,
        snapshots.paid_amount,
        snapshots.open_balance,
        snapshots.days_overdue as days_late,
        snapshots.aging_bucket_key,
        snapshots.aging_bucket_label,
        invoices.last_planned_week_start_date,
        invoices.last_planned_week_start_date = cast(date_trunc('week', warehouse_as_of.as_of_date) as date)
            as is_on_current_plan,
        invoices.risk_reason,
        overdue_reasons.reason_en as risk_reason_en,
        overdue_reasons.is_controllable,
        case
            when overdue_reasons.is_controllable then 'controllable'
            when not overdue_reasons.is_controllable then 'uncontrollable'
            else 'unknown'
        end as controllability
    from snapshots
    cross join warehouse_as_of
    inner join invoices
        on snapshots.invoice_id = invoices.invoice_id
    left join overdue_reasons
        on invoices.risk_reason = overdue_reasons.risk_reason
    where snapshots.is_as_of_date and snapshots.is_overdue

)

select * from final
