{#-
    On Spark (SRW_ENGINE=spark) the raw tables are Parquet files that the build exported from the
    ingested warehouse (pipelines/lib/engine.py): SRW_SPARK_DIR/raw/<schema>/<table>/, listed in
    SRW_SPARK_DIR/raw/raw_tables.parquet. Every run registers them (again) as external tables before any
    model reads them: the files are rewritten each night. On DuckDB: nothing to do.
-#}
{% macro register_raw_tables() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- do register_parquet_tables(env_var('SRW_SPARK_DIR', '../build/spark') ~ '/raw/raw_tables.parquet') -%}
    {%- endif -%}
{%- endmacro %}


{% macro register_parquet_tables(index) -%}
    {#- Register the tables an index Parquet file lists (schema_name, table_name, location) as external
        Parquet tables, replacing what the catalog had under those names. -#}
    {%- set tables = run_query("select schema_name, table_name, location from parquet.`" ~ index ~ "`") -%}
    {%- for schema_name in tables.columns['schema_name'].values() | unique -%}
        {%- do run_query("create database if not exists " ~ schema_name) -%}
    {%- endfor -%}
    {%- for schema_name, table_name, location in tables.rows -%}
        {%- do run_query("drop table if exists " ~ schema_name ~ "." ~ table_name) -%}
        {%- do run_query(
            "create table " ~ schema_name ~ "." ~ table_name ~ " using parquet location '" ~ location ~ "'"
        ) -%}
    {%- endfor -%}
{%- endmacro %}
