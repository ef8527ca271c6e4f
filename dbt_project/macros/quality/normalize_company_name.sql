{#-
    Company names as CRM users type them, reduced to the part that identifies the company, so that
    "上海市华信科技股份有限公司", "华信科技（上海）有限公司", "华信科技有限公司上海分公司" and
    "上海　华信科技 有限责任公司" (city 上海) all become "华信科技":
      1. full-width ASCII and the ideographic space -> half-width (what NFKC does for them; DuckDB has
         only nfc_normalize), then NFC and lower case;
      2. a bracketed part removed with its brackets, of any kind: (上海) （上海） 【上海】 [北京] 〔中国〕
         「…」: Chinese company names put the place or the branch there (华信科技（上海）有限公司);
      3. spaces, punctuation and symbols removed;
      4. a branch at the end removed with the legal form before it: 有限公司上海分公司, 公司华东办事处;
      5. the legal form at the end removed: (集团)(股份)有限公司, 有限责任公司, 公司, then 集团, 控股,
         总公司 (twice: 控股集团);
      6. the place at the start removed: the record's own city (with or without 市), a province,
         autonomous region or municipality (上海, 上海市, 广东省, 内蒙古自治区 ...), then the city again
         (浙江省杭州华信 -> 华信).
    Two companies with the same name in different cities are different legal entities, so callers
    compare names within a city (macro normalize_city). Abbreviations and typed homophones are matched
    by dq_duplicate_customer on this result (customer_name_keys: pinyin, trade name).
-#}

{% macro normalize_company_name(name_column, city_column=none) -%}
    {%- if city_column is none -%}
        {{ strip_province_prefix(company_name_cleaned(name_column)) }}
    {%- else -%}
        {{ strip_city_prefix(
            strip_province_prefix(strip_city_prefix(company_name_cleaned(name_column), city_column)),
            city_column
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- Steps 1-5: forms, brackets, punctuation, branch and legal form (constant patterns only). -#}
{% macro company_name_cleaned(name_column) -%}
    {#- 1. each full-width character becomes the half-width one at its place (the last: the ideographic space) -#}
    {%- set full_width = '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　' -%}
    {%- set half_width -%} !"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ {% endset -%}
    {%- set half_width_name -%}
        lower({{ nfc_normalized(
            'translate(' ~ name_column ~ ', ' ~ string_literal(full_width) ~ ', ' ~ string_literal(half_width) ~ ')'
        ) }})
    {%- endset -%}
    {#- 2. a bracketed place or branch, whatever the brackets; 3. spaces, punctuation and symbols -#}
    {%- set without_brackets = regexp_replace_all(
        half_width_name, '[(\[{【〔〖「『〈《][^)\]}】〕〗」』〉》]*[)\]}】〕〗」』〉》]'
    ) -%}
    {%- set without_symbols = regexp_replace_all(without_brackets, '[\s\p{P}\p{S}]') -%}
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    {{ without_symbols }},
                    -- a branch or office: 华信科技有限公司上海分公司 -> 华信科技
                    '((集团)?(股份)?(有限责任公司|有限公司|公司)[^司]{0,8})?(分公司|办事处|营业部|分厂)$', ''
                ),
                '(集团)?(股份)?(有限责任公司|有限公司|公司)$', ''
            ),
            '(控股)?(集团|控股|总公司)$', ''
        )
{%- endmacro %}


{#- Step 6: a province, autonomous region or municipality at the start. -#}
{% macro strip_province_prefix(expression) -%}
    regexp_replace(
        {{ expression }},
        '^(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?', ''
    )
{%- endmacro %}


{#- The city as a key: trimmed, full-width spaces gone, without a final 市 (上海市 = 上海). -#}
{% macro normalize_city(city_column) -%}
    regexp_replace({{ regexp_replace_all(city_column, '[\s　]') }}, '市$', '')
{%- endmacro %}


{#- The record's own city at the start, with or without 市. starts_with, not a pattern made from the
    row's city: such a pattern is compiled once per row. Give it a column (it is repeated). -#}
{% macro strip_city_prefix(expression, city_column) -%}
    case
        when {{ normalize_city(city_column) }} = '' or {{ city_column }} is null then {{ expression }}
        when {{ text_starts_with(expression, normalize_city(city_column) ~ " || '市'") }}
            then substr({{ expression }}, length({{ normalize_city(city_column) }}) + 2)
        when {{ text_starts_with(expression, normalize_city(city_column)) }}
            then substr({{ expression }}, length({{ normalize_city(city_column) }}) + 1)
        else {{ expression }}
    end
{%- endmacro %}
