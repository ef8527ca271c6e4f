-- 产品: stg_erp__products without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_erp__products', 'products', 'product_id') }}
