-- 销售目标: stg_crm__targets without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__targets', 'targets', 'target_id') }}
