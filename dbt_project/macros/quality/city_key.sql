{#-
    A city as a rep wrote it, made comparable: the spaces removed (ASCII and the ideographic space: 上海 市,
    江苏 苏州). Looked up in city_names.city_key (models/quality/cities/city_names.sql); two visits whose
    keys are equal are in the same city even when the city table does not know it.
-#}

{% macro city_key(city_column) -%}
    nullif(regexp_replace({{ city_column }}, '[\s　]+', '', 'g'), '')
{%- endmacro %}
