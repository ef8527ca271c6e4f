{#-
    A phone number as one key, whatever way it was typed: full-width digits (１３８…), spaces, dashes,
    dots and brackets, a country code (+86, 0086, 86) or a trunk 0 before a mobile (013812345678), an
    extension (转 8001, 分机 8001, ext. 8001, #8001) all give the same digits. A mobile becomes its 11
    digits (13812345678); a landline keeps its area code with the leading 0 (+86 21 6123 4567 and
    021-61234567 -> 02161234567). Whether it is a mobile: key ~ '^1[3-9][0-9]{9}$'.
-#}

{% macro normalize_phone(phone_column) -%}
    {#- the extension cut off, from its word to the end of the text ([^\n]*\z: what RE2's .*$ means, which
        Java's does not quite) -#}
    {%- set without_extension = regexp_replace_all(phone_column, '(?i)(转|分机|ext|#)[^\\n]*\\z', "''") -%}
    {%- set digits -%}
        {{ regexp_replace_all(
            "translate(" ~ without_extension ~ ", '０１２３４５６７８９', '0123456789')", '[^0-9]', "''"
        ) }}
    {%- endset -%}
    case
        when {{ regex_full_match(digits, regex_literal('(0086|86|0)?1[3-9][0-9]{9}')) }} then right({{ digits }}, 11)
        when {{ regex_full_match(digits, regex_literal('(0086|86)[1-9][0-9]{8,10}')) }}
            then '0' || regexp_replace({{ digits }}, '^(0086|86)', '')
        else nullif({{ digits }}, '')
    end
{%- endmacro %}


{#- A landline without its area code (02161234567 -> 61234567), so that the number typed with and
    without it is one; a mobile or anything else as it is. Area codes: 010 and 02x, else 0 + 3 digits. -#}
{% macro phone_local_number(phone_key) -%}
    case
        when {{ regex_full_match(phone_key, regex_literal('0(10|2[0-9])[0-9]{7,8}')) }} then substr({{ phone_key }}, 4)
        when {{ regex_full_match(phone_key, regex_literal('0[3-9][0-9]{2}[0-9]{7,8}')) }} then substr({{ phone_key }}, 5)
        else {{ phone_key }}
    end
{%- endmacro %}


{#- A number as evidence may show part of it: a mobile's first 3 and last 4 digits (138****5678),
    another number's last 4 (****4567). -#}
{% macro mask_phone(phone_key) -%}
    case
        when length({{ phone_key }}) >= 11 then left({{ phone_key }}, 3) || '****' || right({{ phone_key }}, 4)
        else '****' || right({{ phone_key }}, 4)
    end
{%- endmacro %}
