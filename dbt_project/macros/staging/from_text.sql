{#-
    Raw tables keep every field as delivered text. Staging casts it to the contract type:
    blanks become null, and a value that does not parse becomes null instead of failing the
    nightly build - the contract checks at ingestion report it with its file, row and column.
-#}
{% macro from_text(column_name, data_type='string') -%}
    {%- if data_type == 'string' -%}
        nullif(trim({{ column_name }}), '')
    {%- else -%}
        try_cast(nullif(trim({{ column_name }}), '') as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
