-- won_without_order (quality/DEFECTS.md): a won opportunity closed more than
-- var dq_won_without_order_grace_days (3) days before the as-of date with no ERP order (other than a
-- cancelled one) carrying its opportunity_id. An order entered a day or two after closing stays unflagged.
-- Until the ERP has delivered any order at all the rule cannot judge and stays silent. Severity block: the
-- win would count as sales that the ERP never booked.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

won as (

    select
        opportunities.*,
        {{ days_between('opportunities.closed_date', 'warehouse_as_of.as_of_date') }} as days_since_closed
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    cross join warehouse_as_of
    where funnel_stages.is_won

),

ordered_opportunities as (

    select distinct opportunity_id
    from orders
    where opportunity_id is not null and coalesce(status, '') != 'cancelled'

),

erp_delivered as (
    select count(*) > 0 as has_orders from orders
),

final as (

    select
        'won_without_order' as rule_id,
        'opportunities' as entity,
        won.opportunity_id as record_id,
        won.owner_rep_id as rep_id,
        '商机于 ' || {{ timestamp_text('won.closed_date', '%Y-%m-%d') }} || ' 签约成交（金额 '
        || {{ number_text('won.amount') }} || ' 元），' || won.days_since_closed
        || ' 天后 ERP 中仍没有带此商机编号的订单' as evidence,
        won._extract_date as first_seen_date,
        cast(won.amount as decimal(18, 2)) as amount
    from won
    cross join erp_delivered
    where
        erp_delivered.has_orders
        and won.days_since_closed > {{ var('dq_won_without_order_grace_days') }}
        and won.opportunity_id not in (select opportunity_id from ordered_opportunities)

)

select * from final
