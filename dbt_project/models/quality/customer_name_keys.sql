-- One row per customer (current version) with the keys the customer rules compare: the normalised
-- city and name (macro normalize_company_name), the trade name (字号: the core name without the
-- industry words at its end, seed company_name_industry_terms: 华信网络科技 -> 华信), the pinyin of the
-- core name and its fuzzy key (seed pinyin_chars, made by `python -m quality.pinyin_seed`: homophones
-- 华信 / 华鑫 share the pinyin, near-homophones 华信 / 华星 the fuzzy key), and the contact's phone as one
-- key (macro normalize_phone). Read by dq_duplicate_customer and dq_shared_phone.
{#- the industry words as one constant pattern, longest first (RE2 takes the first alternative that
    matches); a constant pattern is compiled once, not once per row -#}
{%- set terms_query -%}
    select {{ ordered_string_agg('term', "'|'", 'length(term) desc, term') }}
    from {{ ref('company_name_industry_terms') }}
{%- endset -%}
{%- set industry_terms = run_query(terms_query).columns[0].values()[0] if execute else '' %}
{#- a district or county at the start (see named) -#}
{%- set district_prefix = regex_literal('^\p{Han}{1,2}(新区|区|县)') %}
{%- set industry_suffix = regex_literal('(' ~ industry_terms ~ ')+$') %}

with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

pinyin_chars as (
    select * from {{ ref('pinyin_chars') }}
),

normalised as (

    select
        customer_id,
        customer_name,
        {{ normalize_city('city') }} as city_key,
        -- the macro's steps one CTE at a time (macro normalize_company_name composes the same): the
        -- city is stripped with starts_with, not a pattern made from each row's city (compiled per row)
        {{ company_name_cleaned('customer_name') }} as cleaned_name,
        industry,
        owner_rep_id,
        nullif({{ regexp_replace_all('contact_name', '[\s　]') }}, '') as contact_name,
        {{ normalize_phone('contact_mobile') }} as phone_number,
        created_at,
        _extract_date
    from customers

),

without_city as (

    select
        *,
        {{ strip_province_prefix(strip_city_prefix('cleaned_name', 'city_key')) }} as without_province
    from normalised

),

stripped as (

    select
        customer_id,
        customer_name,
        city_key,
        cleaned_name,
        industry,
        owner_rep_id,
        contact_name,
        created_at,
        _extract_date,
        -- a landline with or without its area code is one number
        {{ phone_local_number('phone_number') }} as phone_key,
        {{ strip_city_prefix('without_province', 'city_key') }} as without_place
    from without_city

),

named as (

    -- a district or county of 2-3 characters at the start, with or without the city before it
    -- (上海市浦东新区华信 -> 华信, 江宁区华信 -> 华信): both records of a company lose it alike. Not 市 (县级市):
    -- 城市建设投资 would lose 城市
    select
        customer_id,
        customer_name,
        city_key,
        industry,
        owner_rep_id,
        contact_name,
        phone_key,
        created_at,
        _extract_date,
        case
            when length(regexp_replace(without_place, {{ district_prefix }}, '')) >= 2
                then regexp_replace(without_place, {{ district_prefix }}, '')
            else without_place
        end as core_name
    from stripped

),

with_trade_name as (

    select
        *,
        -- at least two characters stay: 科技有限公司 alone keeps 科技
        case
            when length(regexp_replace(core_name, {{ industry_suffix }}, '')) >= 2
                then regexp_replace(core_name, {{ industry_suffix }}, '')
            else core_name
        end as trade_name
    from named

),

characters as (

    select
        customer_id,
        position,
        substr(core_name, position, 1) as hanzi
    from (
        select
            customer_id,
            core_name,
            {{ unnest_list(integer_list(1, 'length(core_name)')) }} as position
        from named
        where core_name <> ''
    ) as positions

),

spelled as (

    -- a character the seed does not know (a letter, a digit, a rare hanzi) stands for itself
    select
        characters.customer_id,
        {{ ordered_string_agg('coalesce(pinyin_chars.pinyin, characters.hanzi)', "' '", 'characters.position') }}
            as name_pinyin,
        {{ ordered_string_agg('coalesce(pinyin_chars.fuzzy_pinyin, characters.hanzi)', "' '", 'characters.position') }}
            as name_fuzzy_pinyin,
        min(case when characters.position = 1 then coalesce(pinyin_chars.fuzzy_pinyin, characters.hanzi) end)
            as first_fuzzy_pinyin
    from characters
    left join pinyin_chars on characters.hanzi = pinyin_chars.hanzi
    group by characters.customer_id

),

final as (

    select
        with_trade_name.customer_id,
        with_trade_name.customer_name,
        with_trade_name.city_key,
        with_trade_name.core_name,
        with_trade_name.trade_name,
        spelled.name_pinyin,
        spelled.name_fuzzy_pinyin,
        spelled.first_fuzzy_pinyin,
        with_trade_name.industry,
        with_trade_name.owner_rep_id,
        with_trade_name.contact_name,
        with_trade_name.phone_key,
        coalesce(
            {{ regex_full_match('with_trade_name.phone_key', regex_literal('1[3-9][0-9]{9}')) }}, false
        ) as phone_is_mobile,
        with_trade_name.created_at,
        with_trade_name._extract_date
    from with_trade_name
    left join spelled on with_trade_name.customer_id = spelled.customer_id

)

select * from final
