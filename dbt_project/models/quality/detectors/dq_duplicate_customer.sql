-- duplicate_customer: the same company entered twice. Names are normalised (macro
-- normalize_company_name: full-width characters, city/province prefix, legal suffix, spaces and
-- punctuation) and compared within a city (two companies of the same name in different cities are
-- different legal entities). Every record but the earliest created is flagged as the copy.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

first_extract as (

    select min(_extract_date) as first_extract_date from customers

),

normalised as (

    select
        customer_id,
        customer_name,
        city,
        owner_rep_id,
        created_at,
        _extract_date,
        {{ normalize_company_name('customer_name', 'city') }} as normalised_name
    from customers

),

ranked as (

    select
        *,
        row_number() over same_company as copy_number,
        first_value(customer_id) over same_company as original_customer_id,
        first_value(customer_name) over same_company as original_customer_name,
        first_value(created_at) over same_company as original_created_at
    from normalised
    where normalised_name <> ''
    window same_company as (partition by city, normalised_name order by created_at, customer_id)

),

final as (

    select
        'duplicate_customer' as rule_id,
        'customers' as entity,
        ranked.customer_id as record_id,
        ranked.owner_rep_id as rep_id,
        '「' || ranked.customer_name || '」与 ' || ranked.original_customer_id
        || '「' || ranked.original_customer_name || '」（' || strftime(ranked.original_created_at, '%Y-%m-%d')
        || ' 建档）规范化后同名「' || ranked.normalised_name || '」，同在' || ranked.city
        || ' / same company as ' || ranked.original_customer_id || ' (created '
        || strftime(ranked.original_created_at, '%Y-%m-%d') || ') once the name is normalised' as evidence,
        -- an account arrives with the extract of the day it was created (older ones with the first)
        least(
            ranked._extract_date,
            greatest(cast(ranked.created_at as date), first_extract.first_extract_date)
        ) as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from ranked
    cross join first_extract
    where ranked.copy_number > 1

)

select * from final
