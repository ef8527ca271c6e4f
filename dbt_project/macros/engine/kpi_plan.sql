{#-
    Expressions the KPI and plan marts (marts/kpi, marts/plan) need that DuckDB and Spark SQL spell
    differently; see cross_engine.sql for the shared ones. default__ is DuckDB's spelling, spark__ Spark's.
-#}

{% macro inclusive_series(start, stop, step=none) -%}
    {#- the list start, start + step, ... up to stop included (numbers or timestamps): DuckDB's
        generate_series() is Spark's sequence() -#}
    {{ return(adapter.dispatch('inclusive_series')(start, stop, step)) }}
{%- endmacro %}
{% macro default__inclusive_series(start, stop, step) -%}
    generate_series({{ start }}, {{ stop }}{% if step is not none %}, {{ step }}{% endif %})
{%- endmacro %}
{% macro spark__inclusive_series(start, stop, step) -%}
    sequence({{ start }}, {{ stop }}{% if step is not none %}, {{ step }}{% endif %})
{%- endmacro %}


{% macro period_type_interval(period_type) -%}
    {#- the length of one 'week', 'month' or 'quarter' period (a column) as an interval: Spark's day and
        month intervals are different types that one CASE cannot mix; its make_interval holds both -#}
    {{ return(adapter.dispatch('period_type_interval')(period_type)) }}
{%- endmacro %}
{% macro default__period_type_interval(period_type) -%}
    case {{ period_type }}
        when 'week' then interval 7 day
        when 'month' then interval 1 month
        else interval 3 month
    end
{%- endmacro %}
{% macro spark__period_type_interval(period_type) -%}
    case {{ period_type }}
        when 'week' then make_interval(0, 0, 0, 7)
        when 'month' then make_interval(0, 1)
        else make_interval(0, 3)
    end
{%- endmacro %}


{% macro list_ordered_by(value, position) -%}
    {#- aggregate: the values as a list, ordered by position (unique within the group, e.g. a row_number):
        Spark's collect_list has no order by, so the values are collected with their position and sorted -#}
    {{ return(adapter.dispatch('list_ordered_by')(value, position)) }}
{%- endmacro %}
{% macro default__list_ordered_by(value, position) -%}
    list({{ value }} order by {{ position }})
{%- endmacro %}
{% macro spark__list_ordered_by(value, position) -%}
    transform(
        array_sort(collect_list(named_struct('position', {{ position }}, 'value', {{ value }}))),
        item -> item.value
    )
{%- endmacro %}


{% macro empty_string_list() -%}
    {#- an empty list of strings: DuckDB's type is string[], Spark's array<string> -#}
    {{ return(adapter.dispatch('empty_string_list')()) }}
{%- endmacro %}
{% macro default__empty_string_list() -%}
    cast([] as string [])
{%- endmacro %}
{% macro spark__empty_string_list() -%}
    cast(array() as array<string>)
{%- endmacro %}


{% macro avg_as_double(value) -%}
    {#- aggregate: the mean of a decimal (or integer) column as a double, as DuckDB's avg() of a decimal
        gives; Spark's avg() of a decimal is a decimal rounded to the input's scale + 4 -#}
    {{ return(adapter.dispatch('avg_as_double')(value)) }}
{%- endmacro %}
{% macro default__avg_as_double(value) -%}
    avg({{ value }})
{%- endmacro %}
{% macro spark__avg_as_double(value) -%}
    (cast(sum({{ value }}) as double) / count({{ value }}))
{%- endmacro %}
