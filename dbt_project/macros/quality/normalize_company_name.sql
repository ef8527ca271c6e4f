{#-
    Company names as CRM users type them, reduced to the part that identifies the company, so that
    "上海市华信科技股份有限公司", "华信科技有限公司" and "上海　华信科技 有限责任公司" (city 上海) all become
    "华信科技":
      1. full-width ASCII and the ideographic space -> half-width (what NFKC does for them; DuckDB has
         only nfc_normalize), then NFC and lower case;
      2. spaces, punctuation and symbols removed;
      3. the legal form at the end removed: 有限公司, 有限责任公司, 股份有限公司, 集团有限公司, 集团;
      4. the place at the start removed: the record's own city (with or without 市), a province,
         autonomous region or municipality (上海, 上海市, 广东省, 内蒙古自治区 ...), then the city again
         (浙江省杭州华信 -> 华信).
    Two companies with the same name in different cities are different legal entities, so callers
    compare names within a city. pipelines/sample/defects/customers_activities.py has a Python twin.
-#}

{% macro normalize_company_name(name_column, city_column=none) -%}
    {%- set cleaned -%}
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    lower(nfc_normalize(translate(
                        {{ name_column }},
                        '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　',
                        '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ '
                    ))),
                    '[\s\p{P}\p{S}]', '', 'g'
                ),
                '(集团)?(股份)?(有限责任公司|有限公司)$', ''
            ),
            '集团$', ''
        )
    {%- endset -%}
    {%- set without_province -%}
        regexp_replace(
            {{ strip_city_prefix(cleaned, city_column) }},
            '^(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门)(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?', ''
        )
    {%- endset -%}
    {{ strip_city_prefix(without_province, city_column) }}
{%- endmacro %}


{% macro strip_city_prefix(expression, city_column) -%}
    {%- if city_column is none -%}
        {{ expression }}
    {%- else -%}
        regexp_replace({{ expression }}, '^' || coalesce({{ city_column }} || '市?', ''), '')
    {%- endif -%}
{%- endmacro %}
