-- 客户反馈: stg_crm__feedback without the records a 'block' quality rule quarantined.
{{ clean_rows('stg_crm__feedback', 'feedback', 'feedback_id') }}
