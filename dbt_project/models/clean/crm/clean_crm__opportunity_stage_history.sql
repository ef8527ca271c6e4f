-- 商机阶段变更: stg_crm__opportunity_stage_history without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__opportunity_stage_history', 'opportunity_stage_history', 'stage_change_id') }}
