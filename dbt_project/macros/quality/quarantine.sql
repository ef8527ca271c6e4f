{#-
    Quarantine plumbing. Every detector model (models/quality/detectors/dq_<rule_id>.sql) returns rows
    with the columns rule_id, entity, record_id, rep_id, evidence, first_seen_date; quarantine.sql
    unions them with the rule's defect class and severity from the quality_rules seed. Nothing is
    deleted: the clean_* views leave out the records whose rule has severity 'block', and keep 'warn'
    records (a person should look at them).
-#}

{% macro quarantine_detector_models() -%}
    {#- the detectors that feed the quarantine; add a model here when you add a rule -#}
    {{ return([
        'dq_duplicate_customer',
        'dq_shared_phone',
        'dq_late_logging',
        'dq_deadline_burst',
        'dq_impossible_schedule',
        'dq_missing_activity_day',
        'dq_stage_jump',
        'dq_zombie_opportunity',
        'dq_slipping_close_date',
        'dq_anomalous_amount',
        'dq_overpayment',
        'dq_won_without_order',
        'dq_order_without_opportunity',
        'dq_orphan_order_customer',
        'dq_orphan_payment_invoice',
        'dq_orphan_opportunity_reference',
    ]) }}
{%- endmacro %}


{% macro clean_rows(staging_model, entity, key_column) -%}
    select staging.*
    from {{ ref(staging_model) }} as staging
    where not exists (
        select 1
        from {{ ref('quarantine') }} as quarantine
        where
            quarantine.entity = '{{ entity }}'
            and quarantine.severity = 'block'
            and quarantine.record_id = staging.{{ key_column }}
    )
{%- endmacro %}
