-- 回款计划: stg_erp__collection_plan without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_erp__collection_plan', 'collection_plan', 'plan_id') }}
