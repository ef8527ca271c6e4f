-- Plan: collections due next period (下期应收回款计划), next week and next quarter. The period is the
-- week / quarter containing the day after the as-of date (at a period's end: the coming one; mid-period:
-- the rest of the running one); the plan covers the days from the day after the as-of date (plan start)
-- to the period's end. One row per period and invoice open on the as-of date that is expected in it:
-- 'due_in_period' when it falls due between plan start and period end, 'overdue' when it is overdue
-- at plan start but still on the collection plan (at most var collection_plan_max_days_overdue days
-- overdue then). With balance, customer, the rep who owns the collection and the plan's risk reason.
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

periods as (

    select
        'week' as period_type,
        cast(date_trunc('week', as_of_date + 1) as date) as period_start_date,
        cast(date_trunc('week', as_of_date + 1) + interval 6 day as date) as period_end_date,
        {{ iso_week_label('as_of_date + 1') }} as period_label,
        cast(as_of_date + 1 as date) as plan_start_date,
        as_of_date
    from warehouse_as_of
    union all
    select
        'quarter',
        cast(date_trunc('quarter', as_of_date + 1) as date),
        cast(date_trunc('quarter', as_of_date + 1) + interval 3 month - interval 1 day as date),
        cast(year(as_of_date + 1) as string) || '-Q' || cast(quarter(as_of_date + 1) as string),
        cast(as_of_date + 1 as date),
        as_of_date
    from warehouse_as_of

),

open_today as (

    select * from snapshots where is_as_of_date

),

expected as (

    select
        periods.*,
        open_today.*,
        case
            when open_today.due_date >= periods.plan_start_date then 'due_in_period'
            else 'overdue'
        end as due_category,
        {{ days_between('open_today.due_date', 'periods.plan_start_date') }} as days_overdue_at_plan_start
    from periods
    inner join open_today
        on open_today.due_date <= periods.period_end_date
    where
        {{ days_between('open_today.due_date', 'periods.plan_start_date') }}
        <= {{ var('collection_plan_max_days_overdue') }}

),

final as (

    select
        expected.period_type || ':' || expected.invoice_id as collection_due_id,
        expected.period_type,
        expected.period_start_date,
        expected.period_end_date,
        expected.period_label,
        expected.as_of_date,
        expected.plan_start_date,
        expected.invoice_id,
        expected.customer_id,
        expected.customer_name,
        expected.rep_id,
        expected.rep_name,
        expected.region,
        expected.invoice_date,
        expected.due_date,
        expected.invoice_amount,
        expected.open_balance,
        expected.due_category,
        expected.days_overdue_at_plan_start,
        invoices.risk_reason,
        overdue_reasons.is_controllable
    from expected
    inner join invoices
        on expected.invoice_id = invoices.invoice_id
    left join overdue_reasons
        on invoices.risk_reason = overdue_reasons.risk_reason

)

select * from final
