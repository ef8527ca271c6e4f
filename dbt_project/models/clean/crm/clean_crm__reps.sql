-- 销售人员: stg_crm__reps without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__reps', 'reps', 'rep_id') }}
