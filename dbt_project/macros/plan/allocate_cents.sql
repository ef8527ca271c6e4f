{#-
    Split a whole amount in cents into parts that add up to it exactly (largest remainder method):
    each row of `relation` gets floor(whole x weight / sum of weights) cents, and the cents left over
    go one each to the rows with the largest fractional remainders (ties: `tiebreak` ascending).
    `relation` is a CTE with one row per part; `partition_by` names the columns of one whole;
    `whole_cents` is a column holding the whole (the same on every row of a partition); `weight` is a
    non-negative column whose partition sum must be positive. Returns the rows with allocated_cents.
-#}
{% macro allocate_cents(relation, partition_by, whole_cents, weight, tiebreak) -%}
    {%- set partition = partition_by | join(', ') -%}
    select
        remainders.*,
        remainders.floor_cents
        + case when remainders.remainder_rank <= remainders.remainder_cents then 1 else 0 end
            as allocated_cents
    from (
        select
            floors.*,
            floors.{{ whole_cents }} - sum(floors.floor_cents) over (partition by {{ partition }})
                as remainder_cents,
            row_number() over (
                partition by {{ partition }}
                order by floors.raw_cents - floors.floor_cents desc, {{ tiebreak }}
            ) as remainder_rank
        from (
            select
                shares.*,
                cast(floor(shares.raw_cents) as bigint) as floor_cents
            from (
                select
                    {{ relation }}.*,
                    -- weights in decimal: their sum is exact, while a sum of doubles depends on the
                    -- order DuckDB's threads add them and can move a cent between parts between builds
                    cast({{ whole_cents }} as double) * cast({{ weight }} as decimal(38, 10))
                    / sum(cast({{ weight }} as decimal(38, 10))) over (partition by {{ partition }}) as raw_cents
                from {{ relation }}
            ) as shares
        ) as floors
    ) as remainders
{%- endmacro %}
