{{ config(materialized='table') }}
-- One row per invoice issued by the as-of date: amount and terms, the customer, the rep who collects it
-- (the customer's owner in the CRM, else the rep of the sales order) and that rep's region, what was
-- paid by the as-of date and the day it was paid in full, and the latest risk reason its collection
-- plan gave. Every receivables mart starts here. A prepaid invoice (payments reached its amount before it
-- was issued: the cash was unapplied until then, fct_ar_unapplied_cash) counts as paid in full on its
-- invoice date, so its payment cycle is 0 days, never negative (is_prepaid).
with

invoices as (
    select * from {{ ref('clean_erp__invoices') }}
),

payments as (
    select * from {{ ref('clean_erp__payments') }}
),

collection_plan as (
    select * from {{ ref('clean_erp__collection_plan') }}
),

sales_orders as (
    select * from {{ ref('clean_erp__sales_orders') }}
),

customers as (
    select * from {{ ref('clean_crm__customers') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

invoices_to_date as (

    select invoices.*
    from invoices
    cross join warehouse_as_of
    where invoices.invoice_date <= warehouse_as_of.as_of_date

),

payments_running as (

    -- cumulative amount paid on the invoice after each payment (up to the as-of date)
    select
        payments.invoice_id,
        payments.payment_date,
        payments.payment_amount,
        sum(payments.payment_amount) over (
            partition by payments.invoice_id
            order by payments.payment_date, payments.payment_id
            rows between unbounded preceding and current row
        ) as paid_cumulative
    from payments
    cross join warehouse_as_of
    where payments.payment_date <= warehouse_as_of.as_of_date

),

payment_totals as (

    select
        payments_running.invoice_id,
        sum(payments_running.payment_amount) as paid_amount,
        count(*) as payment_count,
        min(payments_running.payment_date) as first_payment_date,
        max(payments_running.payment_date) as last_payment_date,
        -- the first day on which the payments reached the invoice amount
        min(
            case
                when payments_running.paid_cumulative >= invoices_to_date.invoice_amount
                    then payments_running.payment_date
            end
        ) as settled_date
    from payments_running
    inner join invoices_to_date
        on payments_running.invoice_id = invoices_to_date.invoice_id
    group by payments_running.invoice_id

),

plan_to_date as (

    select collection_plan.*
    from collection_plan
    cross join warehouse_as_of
    where collection_plan.planned_week_start_date <= warehouse_as_of.as_of_date

),

last_plan_week as (

    select
        invoice_id,
        max(planned_week_start_date) as last_planned_week_start_date
    from plan_to_date
    group by invoice_id

),

latest_risk_reason as (

    -- the reason of the latest plan line that gives one
    select
        invoice_id,
        risk_reason,
        planned_week_start_date as risk_reason_week_start_date
    from plan_to_date
    where risk_reason is not null
    qualify row_number() over (
        partition by invoice_id
        order by planned_week_start_date desc, updated_at desc, plan_id desc
    ) = 1

),

final as (

    select
        invoices_to_date.invoice_id,
        invoices_to_date.order_id,
        invoices_to_date.customer_id,
        customers.customer_name,
        coalesce(customers.owner_rep_id, sales_orders.rep_id, 'unknown') as rep_id,
        reps.rep_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        invoices_to_date.invoice_date,
        invoices_to_date.credit_terms_days,
        invoices_to_date.due_date,
        invoices_to_date.invoice_amount,
        cast(coalesce(payment_totals.paid_amount, 0) as decimal(18, 2)) as paid_amount,
        cast(invoices_to_date.invoice_amount - coalesce(payment_totals.paid_amount, 0) as decimal(18, 2))
            as open_balance,
        coalesce(payment_totals.payment_count, 0) as payment_count,
        payment_totals.first_payment_date,
        payment_totals.last_payment_date,
        -- a prepayment is applied on the invoice date: the invoice cannot be settled before it exists
        case
            when payment_totals.settled_date < invoices_to_date.invoice_date then invoices_to_date.invoice_date
            else payment_totals.settled_date
        end as settled_date,
        coalesce(payment_totals.settled_date < invoices_to_date.invoice_date, false) as is_prepaid,
        last_plan_week.last_planned_week_start_date,
        latest_risk_reason.risk_reason,
        latest_risk_reason.risk_reason_week_start_date
    from invoices_to_date
    left join payment_totals
        on invoices_to_date.invoice_id = payment_totals.invoice_id
    left join sales_orders
        on invoices_to_date.order_id = sales_orders.order_id
    left join customers
        on invoices_to_date.customer_id = customers.customer_id
    left join reps
        on coalesce(customers.owner_rep_id, sales_orders.rep_id) = reps.rep_id
    left join last_plan_week
        on invoices_to_date.invoice_id = last_plan_week.invoice_id
    left join latest_risk_reason
        on invoices_to_date.invoice_id = latest_risk_reason.invoice_id

)

select * from final
