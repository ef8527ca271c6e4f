{#-
    Expressions the deal and customer quality rules (models/quality/, macros/quality/normalize_company_name.sql)
    need and that DuckDB and Spark SQL spell differently (see macros/engine/cross_engine.sql for the shared
    ones). Each is adapter.dispatch-ed: default__ is DuckDB's spelling, spark__ Spark's, with DuckDB's meaning.
-#}


{% macro characters_in_order(shorter, longer) -%}
    {#- whether longer holds shorter's characters in order, anything between them (中石油 in 中国石油天然气):
        DuckDB builds the pattern 中.*石.*油.* with array_to_string, Spark with array_join; Java's . also stops at
        \r and Unicode line separators, so there [^\n] is RE2's . -#}
    {{ return(adapter.dispatch('characters_in_order')(shorter, longer)) }}
{%- endmacro %}
{% macro default__characters_in_order(shorter, longer) -%}
    regexp_full_match({{ longer }}, array_to_string(str_split({{ shorter }}, ''), '.*') || '.*')
{%- endmacro %}
{% macro spark__characters_in_order(shorter, longer) -%}
    {{ regex_full_match(longer, "array_join(split(" ~ shorter ~ ", ''), '[^\\\\n]*') || '[^\\\\n]*'") }}
{%- endmacro %}


{% macro list_has_all_of(haystack, needles) -%}
    {#- whether the list haystack holds every element of the list needles: Spark has no list_has_all -#}
    {{ return(adapter.dispatch('list_has_all_of')(haystack, needles)) }}
{%- endmacro %}
{% macro default__list_has_all_of(haystack, needles) -%}
    list_has_all({{ haystack }}, {{ needles }})
{%- endmacro %}
{% macro spark__list_has_all_of(haystack, needles) -%}
    (size(array_except({{ needles }}, {{ haystack }})) = 0)
{%- endmacro %}


{% macro count_differing_characters(a, b) -%}
    {#- how many positions of a hold another character than b (strings of one length): DuckDB's list
        functions range / list_filter / length, Spark's sequence / filter / size -#}
    {{ return(adapter.dispatch('count_differing_characters')(a, b)) }}
{%- endmacro %}
{% macro default__count_differing_characters(a, b) -%}
    length(list_filter(
        range(1, length({{ a }}) + 1),
        i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)
    ))
{%- endmacro %}
{% macro spark__count_differing_characters(a, b) -%}
    {#- sequence(1, 0) is [1, 0]: for an empty a both substrings are '' and nothing differs, as in DuckDB -#}
    size(filter(
        sequence(1, length({{ a }})),
        i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)
    ))
{%- endmacro %}


{% macro integer_list(start, stop) -%}
    {#- the list [start, start + 1, ..., stop], empty when stop < start: DuckDB generate_series, Spark
        sequence (which counts down when stop < start) -#}
    {{ return(adapter.dispatch('integer_list')(start, stop)) }}
{%- endmacro %}
{% macro default__integer_list(start, stop) -%}
    generate_series({{ start }}, {{ stop }})
{%- endmacro %}
{% macro spark__integer_list(start, stop) -%}
    case when {{ stop }} >= {{ start }} then sequence({{ start }}, {{ stop }}) else array() end
{%- endmacro %}


{% macro string_list(values) -%}
    {#- a list of strings from a Jinja list (a var): the list type is string[] in DuckDB, array<string> in Spark -#}
    {%- set items = [] -%}
    {%- for value in values -%}
        {%- do items.append(string_literal(value | string)) -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('string_list')(items)) }}
{%- endmacro %}
{% macro default__string_list(items) -%}
    cast({{ array_literal(items) }} as string[])
{%- endmacro %}
{% macro spark__string_list(items) -%}
    cast({{ array_literal(items) }} as array<string>)
{%- endmacro %}


{% macro lag_ignore_nulls(expression) -%}
    {#- the last non-null value before (follow with over (...)): IGNORE NULLS goes inside the call in DuckDB,
        after it in Spark -#}
    {{ return(adapter.dispatch('lag_ignore_nulls')(expression)) }}
{%- endmacro %}
{% macro default__lag_ignore_nulls(expression) -%}
    lag({{ expression }} ignore nulls)
{%- endmacro %}
{% macro spark__lag_ignore_nulls(expression) -%}
    lag({{ expression }}) ignore nulls
{%- endmacro %}


{% macro number_text(number, decimals=2, grouped=true) -%}
    {#- a number as text with a fixed number of decimals, optionally with thousands separators (1,234.50):
        DuckDB's format('{:,.2f}') (printf('%.2f') is the same) formats the value as a double, rounding its
        exact binary value half to even; Spark's format_number with a pattern does the same on a double
        (Java's format_string would round half up) -#}
    {{ return(adapter.dispatch('number_text')(number, decimals, grouped)) }}
{%- endmacro %}
{% macro default__number_text(number, decimals, grouped) -%}
    format('{:{{ "," if grouped else "" }}.{{ decimals }}f}', {{ number }})
{%- endmacro %}
{% macro spark__number_text(number, decimals, grouped) -%}
    {%- set pattern = ('#,##0' if grouped else '0') ~ ('.' ~ '0' * decimals if decimals > 0 else '') -%}
    format_number(cast({{ number }} as double), '{{ pattern }}')
{%- endmacro %}


{% macro nfc_normalized(text) -%}
    {#- Unicode NFC: DuckDB's nfc_normalize; Spark has no such function, ICU4J (bundled with Spark for its
        collations) does it (compose(text, false) is NFC; reflect does not take a null) -#}
    {{ return(adapter.dispatch('nfc_normalized')(text)) }}
{%- endmacro %}
{% macro default__nfc_normalized(text) -%}
    nfc_normalize({{ text }})
{%- endmacro %}
{% macro spark__nfc_normalized(text) -%}
    nvl2({{ text }}, reflect('com.ibm.icu.text.Normalizer', 'compose', {{ text }}, false), null)
{%- endmacro %}


{% macro decimal_median(column) -%}
    {#- the median of a DECIMAL(18, 2) column as DuckDB computes it: a DECIMAL of the same scale, the
        midpoint of an even count rounded down to the cent; Spark's median is a double -#}
    {{ return(adapter.dispatch('decimal_median')(column)) }}
{%- endmacro %}
{% macro default__decimal_median(column) -%}
    median({{ column }})
{%- endmacro %}
{% macro spark__decimal_median(column) -%}
    {#- in cents the values are integers and their midpoint is exact in a double -#}
    cast(cast(floor(median({{ column }} * 100)) as decimal(20, 0)) / 100 as decimal(18, 2))
{%- endmacro %}


{% macro row_sorts_before(left_values, right_values) -%}
    {#- DuckDB's row comparison (a1, a2) < (b1, b2), for lists of SQL expressions of one length: compared
        value by value, a null after every value and equal to a null. Spark compares such rows as structs
        with the null first, so there it is spelled out. -#}
    {{ return(adapter.dispatch('row_sorts_before')(left_values, right_values)) }}
{%- endmacro %}
{% macro default__row_sorts_before(left_values, right_values) -%}
    ({{ left_values | join(', ') }}) < ({{ right_values | join(', ') }})
{%- endmacro %}
{% macro spark__row_sorts_before(left_values, right_values) -%}
    {%- set left_value = left_values[0] -%}
    {%- set right_value = right_values[0] -%}
    {%- if left_values | length == 1 -%}
        coalesce({{ left_value }} < {{ right_value }}, {{ left_value }} is not null and {{ right_value }} is null)
    {%- else -%}
        (
            coalesce({{ left_value }} < {{ right_value }}, {{ left_value }} is not null and {{ right_value }} is null)
            or ({{ left_value }} <=> {{ right_value }}
                and {{ spark__row_sorts_before(left_values[1:], right_values[1:]) }})
        )
    {%- endif -%}
{%- endmacro %}


{% macro damerau_levenshtein_up_to_2(a, b) -%}
    {#- DuckDB's damerau_levenshtein (it counts bytes of UTF-8: 华信 / 华星 is 3) capped at 2, enough to
        tell 0, 1 and more: Spark has only levenshtein (no transposition, counting characters), so there
        each byte is made one character (UTF-8 read as ISO-8859-1) and one swap of adjacent bytes is 1 -#}
    {{ return(adapter.dispatch('damerau_levenshtein_up_to_2')(a, b)) }}
{%- endmacro %}
{% macro default__damerau_levenshtein_up_to_2(a, b) -%}
    least(damerau_levenshtein({{ a }}, {{ b }}), 2)
{%- endmacro %}
{% macro spark__damerau_levenshtein_up_to_2(a, b) -%}
    {%- set a_bytes = "decode(encode(" ~ a ~ ", 'UTF-8'), 'ISO-8859-1')" -%}
    {%- set b_bytes = "decode(encode(" ~ b ~ ", 'UTF-8'), 'ISO-8859-1')" -%}
    case
        when levenshtein({{ a_bytes }}, {{ b_bytes }}) <= 1 then levenshtein({{ a_bytes }}, {{ b_bytes }})
        when
            length({{ a_bytes }}) = length({{ b_bytes }})
            and exists(
                sequence(1, length({{ a_bytes }}) - 1),
                i -> substr({{ a_bytes }}, i, 2) = reverse(substr({{ b_bytes }}, i, 2))
                    and left({{ a_bytes }}, i - 1) = left({{ b_bytes }}, i - 1)
                    and substr({{ a_bytes }}, i + 2) = substr({{ b_bytes }}, i + 2)
            )
            then 1
        when {{ a_bytes }} is not null and {{ b_bytes }} is not null then 2
    end
{%- endmacro %}


{% macro text_starts_with(text, prefix) -%}
    {#- whether text begins with prefix: DuckDB spells it starts_with, Spark startswith -#}
    {{ return(adapter.dispatch('text_starts_with')(text, prefix)) }}
{%- endmacro %}
{% macro default__text_starts_with(text, prefix) -%}
    starts_with({{ text }}, {{ prefix }})
{%- endmacro %}
{% macro spark__text_starts_with(text, prefix) -%}
    startswith({{ text }}, {{ prefix }})
{%- endmacro %}
