{#-
    What a record is reported under when its rep, team or region is missing from the extracts, so it still
    counts and totals agree: one definition, used by every mart that rolls up by team or region.
-#}
{% macro unknown_label(attribute) -%}
    {%- set labels = {'team_id': "'unknown'", 'team_name': "'未知团队'", 'region': "'未知区域'"} -%}
    {{- labels[attribute] -}}
{%- endmacro %}
