{#-
    The delta entities' staging models are incremental on DuckDB (a night reads only the new files). On
    Spark they are rebuilt whole: an incremental delete+insert there needs a table format with row-level
    changes (Delta, Iceberg), and a Spark build rebuilds every model from the raw Parquet anyway.
-#}
{% macro incremental_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}
