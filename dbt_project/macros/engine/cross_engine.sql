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


{% macro ordered_string_agg(measure, delimiter_text, order_by) -%}
    {#- the non-null values of measure joined by delimiter_text in the order of order_by (an aggregate):
        DuckDB orders inside the call, Spark only accepts within group (and dbt.listagg drops the order) -#}
    {{ return(adapter.dispatch('ordered_string_agg')(measure, delimiter_text, order_by)) }}
{%- endmacro %}
{% macro default__ordered_string_agg(measure, delimiter_text, order_by) -%}
    string_agg({{ measure }}, {{ delimiter_text }} order by {{ order_by }})
{%- endmacro %}
{% macro spark__ordered_string_agg(measure, delimiter_text, order_by) -%}
    listagg({{ measure }}, {{ delimiter_text }}) within group (order by {{ order_by }})
{%- endmacro %}


{% macro unnest_list(list_expr) -%}
    {#- one row per element of a list, in a select list: DuckDB unnest(), Spark explode() -#}
    {{ return(adapter.dispatch('unnest_list')(list_expr)) }}
{%- endmacro %}
{% macro default__unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}
{% macro spark__unnest_list(list_expr) -%}
    explode({{ list_expr }})
{%- endmacro %}


{% macro string_literal(text) -%}
    {#- a SQL string literal of a Jinja string: Spark's parser unescapes backslashes in literals, DuckDB's not -#}
    {{ return(adapter.dispatch('string_literal')(text)) }}
{%- endmacro %}
{% macro default__string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}
{% macro spark__string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{% macro regex_literal(pattern) -%}
    {#- a regular expression written for DuckDB (RE2) as a SQL literal. Spark's (Java) differs in spelling:
        the Han script is \p{IsHan}, and \s also matches a vertical tab (RE2: [\t\n\f\r ]), so \s is spelled
        out (a nested class, valid inside a character class too). Give the pattern as a Jinja string: \s, \p,
        \[ and \] stay as written (Jinja unescapes only \\, \t, \n, \b ... ). -#}
    {{ return(adapter.dispatch('regex_literal')(pattern)) }}
{%- endmacro %}
{% macro default__regex_literal(pattern) -%}
    {{ string_literal(pattern) }}
{%- endmacro %}
{% macro spark__regex_literal(pattern) -%}
    {{ string_literal(pattern | replace('\\p{Han}', '\\p{IsHan}') | replace('\\s', '[\\t\\n\\f\\r ]')) }}
{%- endmacro %}


{% macro regexp_replace_all(text, pattern, replacement="''") -%}
    {#- every match of pattern (a Jinja string, see regex_literal) replaced: DuckDB replaces the first
        match unless told 'g', Spark always replaces all (its 4th argument is a start position) -#}
    {{ return(adapter.dispatch('regexp_replace_all')(text, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ regex_literal(pattern) }}, {{ replacement }}, 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ regex_literal(pattern) }}, {{ replacement }})
{%- endmacro %}


{% macro regex_full_match(text, pattern) -%}
    {#- whether the whole text matches pattern (a SQL expression, e.g. regex_literal(...)): Spark has no
        regexp_full_match, its rlike finds a match anywhere, so the pattern is anchored (\z: the very end,
        as RE2's full match; Java's $ would allow a final line break) -#}
    {{ return(adapter.dispatch('regex_full_match')(text, pattern)) }}
{%- endmacro %}
{% macro default__regex_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, {{ pattern }})
{%- endmacro %}
{% macro spark__regex_full_match(text, pattern) -%}
    ({{ text }} rlike concat('^(?:', {{ pattern }}, ')\\z'))
{%- endmacro %}


{% macro timestamp_text(value, format) -%}
    {#- a date or timestamp as text, format in strftime's spelling (%Y %m %d %H %M %S): Spark's date_format
        takes Java's pattern letters -#}
    {{ return(adapter.dispatch('timestamp_text')(value, format)) }}
{%- endmacro %}
{% macro default__timestamp_text(value, format) -%}
    strftime({{ value }}, '{{ format }}')
{%- endmacro %}
{% macro spark__timestamp_text(value, format) -%}
    {%- set java_format = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
        | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') -%}
    date_format({{ value }}, '{{ java_format }}')
{%- endmacro %}
