{#-
    Small expressions that DuckDB and Spark SQL spell differently, for models that must build on both
    (SRW_ENGINE, README "When one machine is not enough"). Prefer dbt's own cross-database macros
    (dbt.datediff, dbt.dateadd, dbt.date_trunc, dbt.split_part, dbt.listagg, ...) and the syntax both
    engines share (qualify, filter (where ...), try_cast, group by all, max_by/min_by, filter(list, x -> ...),
    array_sort, array_contains, split, date_add(date, n), make_date, concat_ws); add a macro here only where
    neither serves. Each macro is adapter.dispatch-ed: default__ is DuckDB's spelling, spark__ Spark's.
-#}

{% macro epoch_seconds(timestamp) -%}
    {{ return(adapter.dispatch('epoch_seconds')(timestamp)) }}
{%- endmacro %}
{% macro default__epoch_seconds(timestamp) -%}
    epoch({{ timestamp }})
{%- endmacro %}
{% macro spark__epoch_seconds(timestamp) -%}
    {#- seconds with their fraction, as DuckDB's epoch(); the session time zone is UTC -#}
    (unix_micros(cast({{ timestamp }} as timestamp_ltz)) / 1000000.0)
{%- endmacro %}


{% macro days_between(start_date, end_date) -%}
    {#- whole calendar days from start_date to end_date (dates): DuckDB's date - date -#}
    {{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}
{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}


{% macro array_literal(items) -%}
    {#- an array of the given SQL expressions (a Python list of strings) -#}
    {{ return(adapter.dispatch('array_literal')(items)) }}
{%- endmacro %}
{% macro default__array_literal(items) -%}
    [{{ items | join(', ') }}]
{%- endmacro %}
{% macro spark__array_literal(items) -%}
    array({{ items | join(', ') }})
{%- endmacro %}
