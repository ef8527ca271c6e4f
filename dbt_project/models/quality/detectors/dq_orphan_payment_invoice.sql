-- orphan_reference (quality/DEFECTS.md), payments: the payment's invoice_id names no invoice the ERP has
-- delivered by the as-of date. An invoice delivered a day after the payment is unflagged once it has
-- arrived. Until the ERP has delivered any invoice the rule stays silent. Severity block: the money cannot
-- be put against a receivable.
with

payments as (
    select * from {{ ref('stg_erp__payments') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

erp_delivered as (
    select count(*) > 0 as has_invoices from invoices
),

final as (

    select
        'orphan_payment_invoice' as rule_id,
        'payments' as entity,
        payments.payment_id as record_id,
        customers.owner_rep_id as rep_id,
        '回款（' || strftime(payments.payment_date, '%Y-%m-%d') || '，'
        || format('{:,.2f}', payments.payment_amount) || ' 元）的发票号 '
        || coalesce(payments.invoice_id, '（空）') || ' 在 ERP 发票中不存在' as evidence,
        payments._extract_date as first_seen_date
    from payments
    cross join erp_delivered
    left join invoices
        on payments.invoice_id = invoices.invoice_id
    left join customers
        on payments.customer_id = customers.customer_id
    where erp_delivered.has_invoices and invoices.invoice_id is null

)

select * from final
