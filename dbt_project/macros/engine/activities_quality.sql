{#-
    DuckDB / Spark spellings for the activity-side quality rules (models/quality/detectors: deadline_burst,
    missing_activity_day, late_logging, impossible_schedule, shared_phone; models/quality/cities) and the
    macros city_key and normalize_phone. Each macro is adapter.dispatch-ed: default__ is DuckDB's
    spelling, spark__ Spark's (see macros/engine/cross_engine.sql for the shared ones).
-#}

{% macro split_on_text(string, delimiter) -%}
    {#- a string split at every occurrence of a literal delimiter (a Jinja string): Spark's split()
        takes a regular expression, DuckDB's string_split() the text itself -#}
    {{ return(adapter.dispatch('split_on_text')(string, delimiter)) }}
{%- endmacro %}
{% macro default__split_on_text(string, delimiter) -%}
    string_split({{ string }}, '{{ delimiter | replace("'", "''") }}')
{%- endmacro %}
{% macro spark__split_on_text(string, delimiter) -%}
    split({{ string }}, {{ string_literal('\\Q' ~ delimiter ~ '\\E') }})
{%- endmacro %}


{% macro each_day_between(start_date, end_date) -%}
    {#- one row per day from start_date to end_date, both included (dates), in a select list: DuckDB
        unnest(generate_series(..)), Spark explode(sequence(..)) -#}
    {{ return(adapter.dispatch('each_day_between')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__each_day_between(start_date, end_date) -%}
    cast(unnest(generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )) as date)
{%- endmacro %}
{% macro spark__each_day_between(start_date, end_date) -%}
    explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day))
{%- endmacro %}


{% macro string_agg_sorted(expression, delimiter, distinct=false) -%}
    {#- string_agg of the values (distinct ones when distinct) in ascending order of themselves: DuckDB
        orders inside string_agg(.. order by ..); Spark's string_agg(..) within group (order by ..) fails
        beside other distinct aggregates (Spark 4.3), so Spark sorts the collected values -#}
    {{ return(adapter.dispatch('string_agg_sorted')(expression, delimiter, distinct)) }}
{%- endmacro %}
{% macro default__string_agg_sorted(expression, delimiter, distinct=false) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ delimiter }} order by {{ expression }})
{%- endmacro %}
{% macro spark__string_agg_sorted(expression, delimiter, distinct=false) -%}
    {#- null, as string_agg, when there is no value -#}
    case
        when count({{ expression }}) > 0
            then array_join(
                array_sort({{ 'collect_set' if distinct else 'collect_list' }}({{ expression }})), {{ delimiter }}
            )
    end
{%- endmacro %}
