{#-
    DuckDB / Spark spellings for the customers and receivables marts (see cross_engine.sql for the shared
    ones). default__ is DuckDB's spelling, spark__ Spark's.
-#}

{% macro unnest_date_series(start, stop, step) -%}
    {#- one row per value from start to stop (inclusive) by the interval step, as a set-returning expression
        for a select list or a from clause (... as alias (column)); none when start > stop or either is null.
        DuckDB unnests generate_series, Spark explodes sequence (which fails on start > stop, hence the guard) -#}
    {{ return(adapter.dispatch('unnest_date_series')(start, stop, step)) }}
{%- endmacro %}
{% macro default__unnest_date_series(start, stop, step) -%}
    unnest(generate_series({{ start }}, {{ stop }}, {{ step }}))
{%- endmacro %}
{% macro spark__unnest_date_series(start, stop, step) -%}
    explode(case when {{ start }} <= {{ stop }} then sequence({{ start }}, {{ stop }}, {{ step }}) end)
{%- endmacro %}


{% macro iso_year_week_label(date) -%}
    {#- 'YYYY-Www', the ISO week-based year and ISO week of a date (DuckDB strftime '%G-W%V'); Spark's
        date_format has no week-based patterns: the ISO year is the year of the week's Thursday -#}
    {{ return(adapter.dispatch('iso_year_week_label')(date)) }}
{%- endmacro %}
{% macro default__iso_year_week_label(date) -%}
    strftime({{ date }}, '%G-W%V')
{%- endmacro %}
{% macro spark__iso_year_week_label(date) -%}
    format_string('%04d-W%02d', year(date_add({{ date }}, 3 - weekday({{ date }}))), weekofyear({{ date }}))
{%- endmacro %}
