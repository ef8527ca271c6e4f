-- 商机: stg_crm__opportunities without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__opportunities', 'opportunities', 'opportunity_id') }}
