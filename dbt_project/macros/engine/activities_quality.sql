{#-
    DuckDB / Spark spellings for the activity-side quality rules (models/quality/detectors: deadline_burst,
    missing_activity_day, late_logging, impossible_schedule, shared_phone; models/quality/cities) and the
    macros city_key and normalize_phone. Each macro is adapter.dispatch-ed: default__ is DuckDB's
    spelling, spark__ Spark's (see macros/engine/cross_engine.sql for the shared ones).
-#}

{% macro iso_weekday(date) -%}
    {#- ISO day of the week, 1 = Monday ... 7 = Sunday: Spark has no isodow() -#}
    {{ return(adapter.dispatch('iso_weekday')(date)) }}
{%- endmacro %}
{% macro default__iso_weekday(date) -%}
    isodow({{ date }})
{%- endmacro %}
{% macro spark__iso_weekday(date) -%}
    extract(dow_iso from {{ date }})
{%- endmacro %}


{% macro format_timestamp(timestamp, strftime_format) -%}
    {#- a date or timestamp as text in a strftime format (%Y %m %d %H %M %S only): Spark has
        date_format() with Java patterns instead of strftime() -#}
    {{ return(adapter.dispatch('format_timestamp')(timestamp, strftime_format)) }}
{%- endmacro %}
{% macro default__format_timestamp(timestamp, strftime_format) -%}
    strftime({{ timestamp }}, '{{ strftime_format }}')
{%- endmacro %}
{% macro spark__format_timestamp(timestamp, strftime_format) -%}
    {%- set java_format = strftime_format
        | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
        | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') -%}
    date_format({{ timestamp }}, '{{ java_format }}')
{%- endmacro %}


{% macro unnest_list(list) -%}
    {#- one row per element of a list, in a select list: DuckDB unnest(), Spark explode() -#}
    {{ return(adapter.dispatch('unnest_list')(list)) }}
{%- endmacro %}
{% macro default__unnest_list(list) -%}
    unnest({{ list }})
{%- endmacro %}
{% macro spark__unnest_list(list) -%}
    explode({{ list }})
{%- endmacro %}


{% macro split_on_text(string, delimiter) -%}
    {#- a string split at every occurrence of a literal delimiter (a Jinja string): Spark's split()
        takes a regular expression, DuckDB's string_split() the text itself -#}
    {{ return(adapter.dispatch('split_on_text')(string, delimiter)) }}
{%- endmacro %}
{% macro default__split_on_text(string, delimiter) -%}
    string_split({{ string }}, '{{ delimiter | replace("'", "''") }}')
{%- endmacro %}
{% macro spark__split_on_text(string, delimiter) -%}
    split({{ string }}, {{ spark_regex_literal('\\Q' ~ delimiter ~ '\\E') }})
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


{% macro minute_boundaries_between(start_timestamp, end_timestamp) -%}
    {#- DuckDB's date_diff('minute', a, b): the minute boundaries crossed (10:59:59 -> 11:00:00 is 1), not
        the whole minutes elapsed that Spark's timestampdiff counts -#}
    {{ return(adapter.dispatch('minute_boundaries_between')(start_timestamp, end_timestamp)) }}
{%- endmacro %}
{% macro default__minute_boundaries_between(start_timestamp, end_timestamp) -%}
    date_diff('minute', {{ start_timestamp }}, {{ end_timestamp }})
{%- endmacro %}
{% macro spark__minute_boundaries_between(start_timestamp, end_timestamp) -%}
    {#- as DuckDB: epoch microseconds divided by a minute's, truncated toward zero, then subtracted -#}
    (
        unix_micros(cast({{ end_timestamp }} as timestamp_ltz)) div 60000000
        - unix_micros(cast({{ start_timestamp }} as timestamp_ltz)) div 60000000
    )
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


{% macro regexp_replace_all(string, pattern, replacement) -%}
    {#- every match of a regular expression (a Jinja string, written as the regex itself) replaced:
        DuckDB replaces the first match only without the 'g' option, and a Spark string literal treats
        backslashes as escapes, so the pattern's must be doubled there -#}
    {{ return(adapter.dispatch('regexp_replace_all')(string, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, '{{ pattern | replace("'", "''") }}', {{ replacement }}, 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(string, pattern, replacement) -%}
    regexp_replace({{ string }}, {{ spark_regex_literal(pattern) }}, {{ replacement }})
{%- endmacro %}


{% macro regexp_matches_whole(string, pattern) -%}
    {#- whether the whole string matches a regular expression (a Jinja string, without anchors):
        DuckDB regexp_full_match(); Spark has only rlike (a partial match), so the pattern is anchored
        at both ends (\z: Java's $ would also match before a final line break) -#}
    {{ return(adapter.dispatch('regexp_matches_whole')(string, pattern)) }}
{%- endmacro %}
{% macro default__regexp_matches_whole(string, pattern) -%}
    regexp_full_match({{ string }}, '{{ pattern | replace("'", "''") }}')
{%- endmacro %}
{% macro spark__regexp_matches_whole(string, pattern) -%}
    ({{ string }} rlike {{ spark_regex_literal('^(?:' ~ pattern ~ ')\\z') }})
{%- endmacro %}


{% macro spark_regex_literal(pattern) -%}
    {#- a regular expression as a Spark SQL string literal: backslashes and quotes escaped -#}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
