{#-
    Expressions DuckDB and Spark SQL spell differently, for the verification, clean, intermediate,
    core and activities models (see macros/engine/cross_engine.sql for the shared ones).
    default__ is DuckDB's spelling, spark__ Spark's.
-#}

{% macro minute_boundaries_between(start_timestamp, end_timestamp) -%}
    {#- minute boundaries crossed, as DuckDB's date_diff('minute', a, b); Spark's timestampdiff counts
        whole minutes elapsed, so it gets minute-truncated timestamps -#}
    {{ return(adapter.dispatch('minute_boundaries_between')(start_timestamp, end_timestamp)) }}
{%- endmacro %}
{% macro default__minute_boundaries_between(start_timestamp, end_timestamp) -%}
    date_diff('minute', {{ start_timestamp }}, {{ end_timestamp }})
{%- endmacro %}
{% macro spark__minute_boundaries_between(start_timestamp, end_timestamp) -%}
    timestampdiff(MINUTE, date_trunc('minute', {{ start_timestamp }}), date_trunc('minute', {{ end_timestamp }}))
{%- endmacro %}


{% macro iso_week_label(date) -%}
    {#- 'YYYY-Www' by ISO year and week (DuckDB strftime '%G-W%V'); Spark has no strftime and no ISO year pattern -#}
    {{ return(adapter.dispatch('iso_week_label')(date)) }}
{%- endmacro %}
{% macro default__iso_week_label(date) -%}
    strftime({{ date }}, '%G-W%V')
{%- endmacro %}
{% macro spark__iso_week_label(date) -%}
    format_string('%04d-W%02d', extract(YEAROFWEEK from {{ date }}), weekofyear({{ date }}))
{%- endmacro %}


{% macro unnest_series(start_value, end_value, step) -%}
    {#- a select-list expression giving one row per value from start_value to end_value (inclusive) by a positive
        step, no row when start_value > end_value or either is null: DuckDB unnest(generate_series(..)); Spark's
        explode(sequence(..)), which fails on a start after the end, hence the guard -#}
    {{ return(adapter.dispatch('unnest_series')(start_value, end_value, step)) }}
{%- endmacro %}
{% macro default__unnest_series(start_value, end_value, step) -%}
    unnest(generate_series({{ start_value }}, {{ end_value }}, {{ step }}))
{%- endmacro %}
{% macro spark__unnest_series(start_value, end_value, step) -%}
    explode(
        case
            when {{ start_value }} <= {{ end_value }} then sequence({{ start_value }}, {{ end_value }}, {{ step }})
        end
    )
{%- endmacro %}


{% macro integer_division(dividend, divisor) -%}
    {#- integer quotient truncated toward zero: DuckDB's // operator, Spark's div -#}
    {{ return(adapter.dispatch('integer_division')(dividend, divisor)) }}
{%- endmacro %}
{% macro default__integer_division(dividend, divisor) -%}
    ({{ dividend }} // {{ divisor }})
{%- endmacro %}
{% macro spark__integer_division(dividend, divisor) -%}
    ({{ dividend }} div {{ divisor }})
{%- endmacro %}


{% macro iso_day_of_week(date) -%}
    {#- ISO day of the week, Monday 1 to Sunday 7: DuckDB isodow(); Spark has no isodow, and its dayofweek
        counts from Sunday -#}
    {{ return(adapter.dispatch('iso_day_of_week')(date)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(date) -%}
    isodow({{ date }})
{%- endmacro %}
{% macro spark__iso_day_of_week(date) -%}
    extract(DAYOFWEEK_ISO from {{ date }})
{%- endmacro %}
