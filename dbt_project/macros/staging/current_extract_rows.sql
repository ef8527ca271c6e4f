{#-
    How every staging model reads its raw table, so any past day can be rebuilt exactly:

    1. Only extracts known on var('as_of_date') count (_extract_date <= as_of_date); when the var
       is null (the default) every extract loaded so far counts.
    2. snapshot entities: each file is the full list, so only the latest extract's rows are current.
       delta entities: one key can come in many files; the latest version of each key wins
       (latest _extract_date, then the highest version column, then the last row in the file).
-#}

{% macro as_of_condition() -%}
    {%- if var('as_of_date') is none -%}
        true
    {%- else -%}
        _extract_date <= cast('{{ var("as_of_date") }}' as date)
    {%- endif -%}
{%- endmacro %}


{% macro current_extract_rows(relation, load_mode, primary_key, version_column=none) -%}
    {%- if load_mode == 'snapshot' -%}
    select *
    from {{ relation }}
    where _extract_date = (
        select max(_extract_date)
        from {{ relation }}
        where {{ as_of_condition() }}
    )
    {%- elif load_mode == 'delta' -%}
    select *
    from {{ relation }}
    where {{ as_of_condition() }}
    qualify row_number() over (
        partition by {{ primary_key | join(', ') }}
        order by
            _extract_date desc,
            {%- if version_column is not none %}
            try_cast(nullif(trim({{ version_column }}), '') as timestamp) desc nulls last,
            {%- endif %}
            _row_number desc
    ) = 1
    {%- else -%}
    {{ exceptions.raise_compiler_error(
        "current_extract_rows: load_mode must be 'snapshot' or 'delta', got '" ~ load_mode ~ "'"
    ) }}
    {%- endif -%}
{%- endmacro %}
