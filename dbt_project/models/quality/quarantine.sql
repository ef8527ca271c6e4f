-- Every suspect record, one row per record and rule: what was found (evidence), how bad (severity from
-- the quality_rules seed), since when and the amount at stake (deal, order, payment amount, or the
-- difference found; null for rules about activities and customers). Nothing is deleted anywhere: marts read the clean_* views,
-- which leave out the records of 'block' rules.
{%- set detectors = quarantine_detector_models() %}
with

rules as (
    select * from {{ ref('quality_rules') }}
),

findings as (

    {% if detectors | length == 0 -%}
    select
        cast(null as string) as rule_id,
        cast(null as string) as entity,
        cast(null as string) as record_id,
        cast(null as string) as rep_id,
        cast(null as string) as evidence,
        cast(null as date) as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    where false
    {%- else -%}
    {%- for detector in detectors %}
    select rule_id, entity, record_id, rep_id, evidence, first_seen_date, amount from {{ ref(detector) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- endif %}

),

final as (

    select
        findings.rule_id || ':' || findings.entity || ':' || findings.record_id as quarantine_id,
        findings.rule_id,
        rules.defect_class,
        rules.severity,
        findings.entity,
        findings.record_id,
        findings.rep_id,
        findings.evidence,
        findings.first_seen_date,
        findings.amount
    from findings
    inner join rules
        on findings.rule_id = rules.rule_id

)

select * from final
