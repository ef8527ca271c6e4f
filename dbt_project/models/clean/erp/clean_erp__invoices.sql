-- 发票: stg_erp__invoices without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_erp__invoices', 'invoices', 'invoice_id') }}
