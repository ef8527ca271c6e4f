{#-
    Traffic light for an attainment rate (actual / target), thresholds from dbt_project.yml vars:
    'green' from attainment_green_min, 'yellow' from attainment_yellow_min, else 'red';
    'none' when there is no rate (no target).
-#}
{% macro status_light(rate_column) -%}
    case
        when {{ rate_column }} is null then 'none'
        when {{ rate_column }} >= {{ var('attainment_green_min') }} then 'green'
        when {{ rate_column }} >= {{ var('attainment_yellow_min') }} then 'yellow'
        else 'red'
    end
{%- endmacro %}
