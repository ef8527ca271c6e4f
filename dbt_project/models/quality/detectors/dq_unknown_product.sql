-- orphan_reference (quality/DEFECTS.md), rule unknown_product: an opportunity whose product_id is empty or
-- not in the product catalogue (products extract) as of the as-of date. When a catalogue product is one
-- edit away (Damerau-Levenshtein <= 1, case and spaces ignored) from the id - or the id is a product's
-- name, or one edit away from it - the evidence suggests it ("是否应为 P0012 企业ERP？"); the nearest wins,
-- ties by product id. Silent until products have been delivered, and when the source declares products
-- absent (absent_entities). Severity warn: the amount, owner and customer are right, only the product
-- label is wrong, so the deal stays in the marts (blocking it took the won revenue out of every figure).
-- amount = the deal amount.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

absent_entities as (
    select * from {{ ref('absent_entities') }}
),

judged as (

    select
        (select count(*) from products) > 0
        and not exists (select 1 from absent_entities where entity = 'products') as can_judge

),

unknown as (

    select opportunities.*
    from opportunities
    cross join judged
    left join products
        on opportunities.product_id = products.product_id
    where judged.can_judge and products.product_id is null

),

typed_ids as (

    select distinct
        product_id,
        upper(replace(trim(product_id), ' ', '')) as typed_key
    from unknown
    where nullif(trim(product_id), '') is not null

),

suggestions as (

    select
        typed_ids.product_id,
        products.product_id as suggested_product_id,
        products.product_name as suggested_product_name
    from typed_ids
    cross join products
    where
        least(
            {{ damerau_levenshtein_up_to_2('typed_ids.typed_key', "upper(replace(trim(products.product_id), ' ', ''))") }},
            {{ damerau_levenshtein_up_to_2('typed_ids.typed_key', "upper(replace(trim(products.product_name), ' ', ''))") }}
        ) <= 1
    qualify row_number() over (
        partition by typed_ids.product_id
        order by
            least(
                {{ damerau_levenshtein_up_to_2('typed_ids.typed_key', "upper(replace(trim(products.product_id), ' ', ''))") }},
                {{ damerau_levenshtein_up_to_2('typed_ids.typed_key', "upper(replace(trim(products.product_name), ' ', ''))") }}
            ),
            products.product_id
    ) = 1

),

final as (

    select
        'unknown_product' as rule_id,
        'opportunities' as entity,
        unknown.opportunity_id as record_id,
        unknown.owner_rep_id as rep_id,
        '商机（金额 ' || {{ number_text('unknown.amount') }} || ' 元）的产品编号 '
        || coalesce(nullif(trim(unknown.product_id), ''), '（空）') || ' 不在产品目录中'
        || coalesce(
            '，是否应为 ' || suggestions.suggested_product_id
            || coalesce(' ' || suggestions.suggested_product_name, '') || '？',
            ''
        ) as evidence,
        unknown._extract_date as first_seen_date,
        cast(unknown.amount as decimal(18, 2)) as amount
    from unknown
    left join suggestions
        on unknown.product_id = suggestions.product_id

)

select * from final
