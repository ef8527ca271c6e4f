-- Every way of writing a city of the cities seed, so that a visit's city is found however the rep wrote
-- it: the name (苏州), with 市 (苏州市), each alias (恩施土家族苗族自治州, 恩施州, 襄樊), and each of these behind
-- the province, short or official (江苏苏州, 江苏省苏州市). A city written two ways is one city. Looked up
-- with the macro city_key, which removes the spaces users type (上海 市).
with

cities as (
    select * from {{ ref('cities') }}
),

names as (

    select city, city as written from cities
    union
    select city, city || '市' from cities
    union
    select city, trim(alias) from (
        select city, {{ unnest_list(split_on_text('aliases', '|')) }} as alias from cities
    )
    where trim(alias) <> ''

),

provinces as (

    select
        city,
        province,
        -- 江苏省 -> 江苏, 广西壮族自治区 -> 广西, 上海市 -> 上海, 香港特别行政区 -> 香港
        regexp_replace(province, '(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$', '') as province_short
    from cities

),

written_forms as (

    select city, written from names
    union
    select city, prefix || written
    from (
        select
            names.city,
            names.written,
            {{ unnest_list(array_literal(['provinces.province', 'provinces.province_short'])) }} as prefix
        from names
        inner join provinces on names.city = provinces.city
    )

),

final as (

    select
        {{ city_key('written_forms.written') }} as city_key,
        written_forms.city,
        cities.province,
        cities.latitude,
        cities.longitude
    from written_forms
    inner join cities on written_forms.city = cities.city

)

select * from final
