-- Payments received by the as-of date, with the week they arrived in and the customer, collecting rep
-- and region of the invoice they pay (rep 'unknown' / region '未知区域' when the invoice is unknown).
with

payments as (
    select * from {{ ref('clean_erp__payments') }}
),

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

final as (

    select
        payments.payment_id,
        payments.invoice_id,
        payments.customer_id,
        payments.payment_date,
        cast(date_trunc('week', payments.payment_date) as date) as payment_week_start_date,
        payments.payment_amount,
        payments.payment_method,
        coalesce(invoices.rep_id, 'unknown') as rep_id,
        invoices.rep_name,
        coalesce(invoices.region, {{ unknown_label('region') }}) as region,
        invoices.invoice_id is not null as is_invoice_known
    from payments
    cross join warehouse_as_of
    left join invoices
        on payments.invoice_id = invoices.invoice_id
    where payments.payment_date <= warehouse_as_of.as_of_date

)

select * from final
