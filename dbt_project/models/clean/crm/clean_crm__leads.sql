-- 线索: stg_crm__leads without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__leads', 'leads', 'lead_id') }}
