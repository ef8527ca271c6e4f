-- overpayment (quality/DEFECTS.md): a payment after which the payments on its invoice add up to more than
-- the invoice amount (a payment entered twice, an inflated amount). Payments count in payment_date order,
-- then payment_id. An invoice paid in parts that add up exactly to it stays unflagged. Severity block:
-- the receivables figures would count money that was not owed.
with

payments as (
    select * from {{ ref('stg_erp__payments') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

paid_to_date as (

    select
        payments.payment_id,
        payments.invoice_id,
        payments.payment_date,
        payments.payment_amount,
        payments._extract_date,
        invoices.invoice_amount,
        invoices.order_id,
        sum(payments.payment_amount) over (
            partition by payments.invoice_id
            order by payments.payment_date, payments.payment_id
            rows between unbounded preceding and current row
        ) as paid_amount
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id

),

final as (

    select
        'overpayment' as rule_id,
        'payments' as entity,
        paid_to_date.payment_id as record_id,
        orders.rep_id,
        '发票 ' || paid_to_date.invoice_id || ' 金额 ' || {{ number_text('paid_to_date.invoice_amount') }}
        || ' 元，加上本笔（' || {{ timestamp_text('paid_to_date.payment_date', '%Y-%m-%d') }} || ' 回款 '
        || {{ number_text('paid_to_date.payment_amount') }} || ' 元）累计回款 '
        || {{ number_text('paid_to_date.paid_amount') }} || ' 元，多收 '
        || {{ number_text('paid_to_date.paid_amount - paid_to_date.invoice_amount') }} || ' 元' as evidence,
        paid_to_date._extract_date as first_seen_date,
        cast(paid_to_date.payment_amount as decimal(18, 2)) as amount
    from paid_to_date
    left join orders
        on paid_to_date.order_id = orders.order_id
    where paid_to_date.paid_amount > paid_to_date.invoice_amount

)

select * from final
