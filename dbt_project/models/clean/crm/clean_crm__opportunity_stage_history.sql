-- 商机阶段变更: stg_crm__opportunity_stage_history without the records a 'block' quality rule quarantined,
-- nor the history of a blocked opportunity (its stages must not count in the funnel).
{{ clean_rows('stg_crm__opportunity_stage_history', 'opportunity_stage_history', 'stage_change_id', 'opportunities', 'opportunity_id') }}
