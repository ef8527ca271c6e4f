{#-
    Quarantine plumbing. Every detector model (models/quality/detectors/dq_<rule_id>.sql) returns rows
    with the columns rule_id, entity, record_id, rep_id, evidence, first_seen_date, amount; quarantine.sql
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
        'dq_unknown_rep',
        'dq_unknown_product',
        'dq_unknown_customer',
        'dq_won_amount_differs_from_order',
    ]) }}
{%- endmacro %}


{% macro clean_rows(staging_model, entity, key_column, parent_entity=none, parent_key_column=none) -%}
    {#- parent_entity / parent_key_column: also leave out the rows whose parent record is blocked
        (e.g. the stage history of a blocked opportunity), so a blocked record takes its history along -#}
    select staging.*
    from {{ ref(staging_model) }} as staging
    where
        not {{ is_blocked(entity, 'staging.' ~ key_column) }}
        {%- if parent_entity %}
        and not {{ is_blocked(parent_entity, 'staging.' ~ parent_key_column) }}
        {%- endif %}
{%- endmacro %}


{% macro is_blocked(entity, record_id_expression) -%}
    exists (
        select 1
        from {{ ref('quarantine') }} as quarantine
        where
            quarantine.entity = '{{ entity }}'
            and quarantine.severity = 'block'
            and quarantine.record_id = {{ record_id_expression }}
    )
{%- endmacro %}
