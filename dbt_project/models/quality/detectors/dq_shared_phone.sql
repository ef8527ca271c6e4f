-- shared_phone: one contact mobile on at least dq_shared_phone_min_customers customers (a rep's own
-- number, or made-up accounts). Two related companies sharing a switchboard stay below the threshold.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

numbers as (

    select
        contact_mobile,
        count(distinct customer_id) as customer_count,
        string_agg(customer_id, ', ' order by customer_id) as customer_ids
    from customers
    where contact_mobile is not null
    group by contact_mobile
    having count(distinct customer_id) >= {{ var('dq_shared_phone_min_customers') }}

),

final as (

    select
        'shared_phone' as rule_id,
        'customers' as entity,
        customers.customer_id as record_id,
        customers.owner_rep_id as rep_id,
        '同一手机号 ' || left(numbers.contact_mobile, 3) || '****' || right(numbers.contact_mobile, 4)
        || ' 出现在 ' || numbers.customer_count || ' 个客户 / same mobile on '
        || numbers.customer_count || ' customers: ' || numbers.customer_ids as evidence,
        -- the delivery of the version that carries the number
        customers._extract_date as first_seen_date,
        cast(null as decimal(18, 2)) as amount
    from customers
    inner join numbers
        on customers.contact_mobile = numbers.contact_mobile

)

select * from final
