{#-
    Warns with the records a data-quality rule put in the quarantine (one test per rule on the quarantine
    model), so that each rule shows as its own check in Dagster. Severity warn: the quarantine has already
    done its job (block records are out of the clean_* views); this puts the count in front of a person.
-#}
{% test no_quarantined_records_for_rule(model, rule_id) %}
{{ config(severity='warn') }}

select *
from {{ model }}
where rule_id = '{{ rule_id }}'

{% endtest %}
