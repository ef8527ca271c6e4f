-- 客户: stg_crm__customers without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__customers', 'customers', 'customer_id') }}
