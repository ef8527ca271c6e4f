{#-
    A city as a rep wrote it, made comparable: the spaces removed (ASCII and the ideographic space: 上海 市,
    江苏 苏州; and tab, line breaks and form feed: the \s of DuckDB's regular expressions, spelt out because
    Java's \s, Spark's, also takes \v). Looked up in city_names.city_key
    (models/quality/cities/city_names.sql); two visits whose keys are equal are in the same city even when
    the city table does not know it.
-#}

{% macro city_key(city_column) -%}
    nullif({{ regexp_replace_all(city_column, '[\\t\\n\\f\\r 　]+', "''") }}, '')
{%- endmacro %}
