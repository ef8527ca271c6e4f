{#-
    How every staging model reads its raw table, so any past day can be rebuilt exactly:

    1. Only extracts known on var('as_of_date') count (_extract_date <= as_of_date); when the var
       is null (the default) every extract loaded so far counts.
    2. snapshot entities: each file is the full list, so only the latest extract's rows are current.
       delta entities: one key can come in many files; the latest version of each key wins
       (latest _extract_date, then the highest version column, then the last row in the file).

    First load of history (`salesreview deliver --initial`, recorded by the ingest in
    raw_meta.delivery_sources): one delivery holds everything up to its extract date. For an as-of
    date before it, nothing says when each of its rows became known, so a row counts as known from
    its own date: the entity's known-from column (the source meta `known_from_column`, from the
    contract: the version column, e.g. updated_at, else the date the record happened, e.g.
    activity_at). This is an approximation: a record that changed after the as-of date is left out
    (its earlier state is not in the delivery) rather than shown with values not known yet, which keeps
    every reconciliation of the marts true. A snapshot (a master list: reps, products) counts whole: its
    people and products existed, and leaving out those changed later would orphan the deals naming them.
-#}

{% macro as_of_date() -%}
    cast('{{ var("as_of_date") }}' as date)
{%- endmacro %}


{% macro as_of_condition(relation=none) -%}
    {#- relation: the raw table read (a source); without it, the model's only source. -#}
    {%- if var('as_of_date') is none -%}
        true
    {%- else -%}
        {%- set initial = initial_delivery_rows_known_by_as_of(relation) -%}
        (_extract_date <= {{ as_of_date() }}{% if initial %} or {{ initial }}{% endif %})
    {%- endif -%}
{%- endmacro %}


{% macro initial_delivery_rows_known_by_as_of(relation) -%}
    {#- Rows of a first load of history known on the as-of date by their own date; none when the
        warehouse has no such delivery table yet. -#}
    {%- set source_node = raw_source_node(relation) -%}
    {%- set initial_dates = initial_delivery_dates(source_node) -%}
    {%- if initial_dates is none or not source_node.meta.get('known_from_column') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if source_node.meta.get('load_mode') == 'snapshot' -%}
        {{ return("_extract_date in (" ~ initial_dates ~ ")") }}
    {%- endif -%}
    {%- set known_from = source_node.meta['known_from_column'] -%}
    {{ return(
        "(_extract_date in (" ~ initial_dates ~ ")"
        ~ " and cast(try_cast(nullif(trim(" ~ known_from ~ "), '') as timestamp) as date) <= " ~ as_of_date() ~ ")"
    ) }}
{%- endmacro %}


{% macro initial_delivery_dates(source_node) -%}
    {#- A subquery of the system's first loads of history, or none without the table (or the node). -#}
    {%- if source_node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set table = adapter.get_relation(
        database=source_node.database, schema='raw_meta', identifier='delivery_sources'
    ) -%}
    {%- if table is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(
        "select extract_date from " ~ table ~ " where system = '" ~ source_node.source_name ~ "' and \"initial\""
    ) }}
{%- endmacro %}


{% macro raw_source_node(relation) -%}
    {#- The dbt source (with its contract meta) a raw relation is; with no relation, the model's only
        source (int_opportunity_versions reads the raw opportunities with as_of_condition()). -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {#- unit tests run without the sources in their graph: nothing to look up there -#}
    {%- for node in (graph.get('sources') or {}).values() -%}
        {%- if relation is not none and node.schema == relation.schema and node.identifier == relation.identifier -%}
            {{ return(node) }}
        {%- elif relation is none and model.sources | length == 1
            and [node.source_name, node.name] == model.sources[0] -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}


{% macro snapshot_extract_date(relation) -%}
    {#- Which extract of a snapshot entity is current: the latest one known on the as-of date, else
        (no regular extract yet) the first load of history, whose rows as_of_condition then filters. -#}
    {%- if var('as_of_date') is none -%}
        max(_extract_date)
    {%- else -%}
        {%- set initial_dates = initial_delivery_dates(raw_source_node(relation)) -%}
        {%- if initial_dates is none -%}
        max(_extract_date) filter (where _extract_date <= {{ as_of_date() }})
        {%- else -%}
        coalesce(
            max(_extract_date) filter (where _extract_date <= {{ as_of_date() }}),
            min(_extract_date) filter (where _extract_date in ({{ initial_dates }}))
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro keys_in_unbuilt_files(relation, primary_key) -%}
    {#- An incremental night (delta entities): the keys in the files loaded since the last dbt build.
        Each such key is deduplicated again over all its rows, so a late delivery for an older day
        comes out as in a full build. The build decides when an incremental run is exact and forces a
        full refresh otherwise (a file replaced or removed, an as-of build, a changed project:
        pipelines/lib/incremental.py); the files of the last build are in raw_meta.dbt_built_files. -#}
    {%- if primary_key | length != 1 -%}
        {{ exceptions.raise_compiler_error("an incremental staging model needs a one-column primary key") }}
    {%- endif -%}
    {%- set source_node = raw_source_node(relation) -%}
    {%- set built = adapter.get_relation(database=this.database, schema='raw_meta', identifier='dbt_built_files') -%}
    {%- if built is none -%}
    {#- dbt run by hand on a warehouse the build never recorded: every key again -#}
    select {{ primary_key[0] }} from {{ relation }}
    {%- else -%}
    select {{ primary_key[0] }}
    from {{ relation }}
    where _extract_date in (
        select loaded.extract_date
        from raw_meta.loaded_files as loaded
        where loaded.system = '{{ source_node.source_name }}'
            and loaded.entity = '{{ source_node.name }}'
            and not exists (
                select 1
                from raw_meta.dbt_built_files as built
                where built.system = loaded.system
                    and built.entity = loaded.entity
                    and built.extract_date = loaded.extract_date
                    and built.file_sha256 = loaded.file_sha256
            )
    )
    {%- endif -%}
{%- endmacro %}


{% macro staging_full_refresh() -%}
    {#- An as-of build rebuilds the incremental staging models from all rows, whoever runs dbt (rows after
        the as-of date must leave them); otherwise dbt's --full-refresh flag decides. -#}
    {{ return(true if var('as_of_date') is not none else none) }}
{%- endmacro %}


{% macro current_extract_rows(relation, load_mode, primary_key, version_column=none) -%}
    {%- if load_mode == 'snapshot' -%}
    select *
    from {{ relation }}
    where _extract_date = (select {{ snapshot_extract_date(relation) }} from {{ relation }})
        and {{ as_of_condition(relation) }}
    {%- elif load_mode == 'delta' -%}
    select *
    from {{ relation }}
    where {{ as_of_condition(relation) }}
    {%- if is_incremental() %}
        and {{ primary_key | join(', ') }} in ({{ keys_in_unbuilt_files(relation, primary_key) }})
    {%- endif %}
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
