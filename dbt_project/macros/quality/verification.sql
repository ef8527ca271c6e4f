{#-
    Helpers for the verification models (models/quality/verification/).
-#}

{% macro manual_source(source_name, table_name, columns) -%}
    {#-
        Rows of a table that quality/verification.py writes (raw_manual.*), cast to `columns`
        (a list of [name, type]). Until the first verdict file is loaded the table may not exist
        yet (a fresh warehouse, the test fixtures): then an empty relation with the same columns.
        source() is always called, so dbt and Dagster still see the dependency.
    -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) if execute else relation -%}
    select
        {%- for name, type in columns %}
        cast({{ 'null' if found is none else name }} as {{ type }}) as {{ name }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    {% if found is none -%}
    where false
    {%- else -%}
    from {{ relation }}
    {%- endif %}
{%- endmacro %}


{% macro accuracy_light(rate_column) -%}
    {#- Light for data accuracy: green from var data_accuracy_green_min (97%), yellow from
        data_accuracy_yellow_min (88%), else red; 'none' when nothing was verified. -#}
    case
        when {{ rate_column }} is null then 'none'
        when {{ rate_column }} >= {{ var('data_accuracy_green_min') }} then 'green'
        when {{ rate_column }} >= {{ var('data_accuracy_yellow_min') }} then 'yellow'
        else 'red'
    end
{%- endmacro %}
