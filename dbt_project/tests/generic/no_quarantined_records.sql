{#-
    One check per data-quality rule on the quarantine: the records rule_id flagged. Severity 'warn', so
    the nightly build goes on and Dagster shows the rule as a WARN asset check with the count; the
    quarantine rows carry the evidence. Usage on the quarantine model:
        data_tests:
          - no_quarantined_records:
              arguments: {rule_id: late_logging}
-#}
{% test no_quarantined_records(model, rule_id) %}
{{ config(severity='warn') }}

select *
from {{ model }}
where rule_id = '{{ rule_id }}'

{% endtest %}
