-- 销售活动: stg_crm__activities without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__activities', 'activities', 'activity_id') }}
