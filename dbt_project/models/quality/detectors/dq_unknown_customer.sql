-- unknown_customer (quality/DEFECTS.md), rule unknown_customer: a deal with no customer - its customer_id
-- is empty or names no customer in the customers extract as of the as-of date. A customer delivered a day
-- after the deal is unflagged once it arrives. Silent until a customer has been delivered, and when the
-- source declares customers absent (absent_entities). Severity warn: amount, owner and region are right
-- (attainment credits the owner rep); only the customer's attributes are missing, so the deal stays in
-- and a manager completes the account. amount = the deal amount.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

absent_entities as (
    select * from {{ ref('absent_entities') }}
),

judged as (

    select
        (select count(*) from customers) > 0
        and not exists (select 1 from absent_entities where entity = 'customers') as can_judge

),

final as (

    select
        'unknown_customer' as rule_id,
        'opportunities' as entity,
        opportunities.opportunity_id as record_id,
        opportunities.owner_rep_id as rep_id,
        '商机（金额 ' || {{ number_text('opportunities.amount') }} || ' 元）'
        || case
            when nullif(trim(opportunities.customer_id), '') is null then '没有填写客户编号'
            else '的客户编号 ' || opportunities.customer_id || ' 在 CRM 客户中不存在'
        end as evidence,
        opportunities._extract_date as first_seen_date,
        cast(opportunities.amount as decimal(18, 2)) as amount
    from opportunities
    cross join judged
    left join customers
        on opportunities.customer_id = customers.customer_id
    where judged.can_judge and customers.customer_id is null

)

select * from final
