-- 回款: stg_erp__payments without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_erp__payments', 'payments', 'payment_id') }}
