-- 销售订单: stg_erp__sales_orders without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_erp__sales_orders', 'sales_orders', 'order_id') }}
