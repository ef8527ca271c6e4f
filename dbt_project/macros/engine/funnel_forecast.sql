{#-
    DuckDB / Spark spellings for the funnel and forecast marts (models/marts/funnel, models/marts/forecast);
    the shared ones are in cross_engine.sql. default__ is DuckDB's spelling, spark__ Spark's.
-#}

{% macro series_rows(start_value, stop_value, step) -%}
    {#- a table function of one row per value from start_value to stop_value (both included) by step (an
        interval), for "cross join lateral {{ series_rows(...) }} as alias (column)": DuckDB has
        generate_series, Spark explodes a sequence -#}
    {{ return(adapter.dispatch('series_rows')(start_value, stop_value, step)) }}
{%- endmacro %}
{% macro default__series_rows(start_value, stop_value, step) -%}
    generate_series({{ start_value }}, {{ stop_value }}, {{ step }})
{%- endmacro %}
{% macro spark__series_rows(start_value, stop_value, step) -%}
    explode(sequence({{ start_value }}, {{ stop_value }}, {{ step }}))
{%- endmacro %}
