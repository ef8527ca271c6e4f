-- orphan_reference (quality/DEFECTS.md), payments: the payment's invoice_id names no invoice the ERP has
-- delivered by the as-of date. An invoice delivered a day after the payment is unflagged once it has
-- arrived. Until the ERP has delivered any invoice, or when the source declares invoices absent
-- (absent_entities), the rule stays silent. Severity warn: the money did arrive, so it stays in the marts
-- as unapplied cash (fct_ar_unapplied_cash: a prepayment, or a payment whose invoice is not issued yet)
-- and reduces the customer's net receivable until an invoice takes it. amount = the payment amount.
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

absent_entities as (
    select * from {{ ref('absent_entities') }}
),

erp_delivered as (
    select
        count(*) > 0 and not exists (select 1 from absent_entities where entity = 'invoices') as has_invoices
    from invoices
),

final as (

    select
        'orphan_payment_invoice' as rule_id,
        'payments' as entity,
        payments.payment_id as record_id,
        customers.owner_rep_id as rep_id,
        '回款（' || {{ timestamp_text('payments.payment_date', '%Y-%m-%d') }} || '，'
        || {{ number_text('payments.payment_amount') }} || ' 元）的发票号 '
        || coalesce(payments.invoice_id, '（空）') || ' 在 ERP 发票中不存在' as evidence,
        payments._extract_date as first_seen_date,
        cast(payments.payment_amount as decimal(18, 2)) as amount
    from payments
    cross join erp_delivered
    left join invoices
        on payments.invoice_id = invoices.invoice_id
    left join customers
        on payments.customer_id = customers.customer_id
    where erp_delivered.has_invoices and invoices.invoice_id is null

)

select * from final
