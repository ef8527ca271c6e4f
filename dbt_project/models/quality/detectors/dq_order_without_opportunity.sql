-- order_without_opportunity (quality/DEFECTS.md): an ERP order that no CRM deal sold. A clerk who knows that
-- "an order needs a CRM opportunity id" types one that exists but does not fit, so the id must not only
-- exist, it must be the deal this order is the sale of. Flagged when the order's opportunity_id
--   - is empty, or names no opportunity the CRM has delivered by the as-of date (a lead id typed in the
--     field is named as such in the evidence);
--   - names another customer's deal (the order's customer_id differs from the deal's; the deal's customer
--     known, and the order's too or the deal has its own customer's order besides: an unknown customer on
--     the deal's only order is orphan_order_customer's finding, an unknown deal customer unknown_customer's);
--   - names a lost deal;
--   - names a deal still open var dq_order_opportunity_grace_days (3) days after the order date (an order
--     books a won deal; the CRM may record the win a day or two after the ERP);
--   - names a deal that is already fully ordered: the orders of the same customer booked before this one
--     (not cancelled, by order date and id) already add up to the deal's amount;
--   - names a deal won more than var dq_order_opportunity_max_days_after_close (90) days before the order,
--     which this order would take above the deal's amount (a new sale hung on a long-closed deal).
-- Legitimate and unflagged: phased orders of one deal that add up to it, however far apart; an order whose
-- deal reaches the CRM a day later (unflagged once it has arrived); a cancelled order is not checked
-- against its deal. Until the CRM has delivered any opportunity the rule stays silent. Severity block:
-- the order's sales would not reconcile with the won deals.
with

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

leads as (
    select * from {{ ref('stg_crm__leads') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

crm_delivered as (
    select count(*) > 0 as has_opportunities from opportunities
),

-- the orders of each deal in booking order, with what was ordered before each by the same customer (another
-- customer's order citing the deal is flagged for that, and does not fill the deal for its own orders)
ordered_before as (

    select
        orders.*,
        coalesce(
            sum(orders.order_amount) filter (where coalesce(orders.status, '') != 'cancelled') over (
                partition by orders.opportunity_id, orders.customer_id
                order by orders.order_date, orders.order_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as ordered_before_amount
    from orders

),

checked as (

    select
        ordered_before.order_id,
        ordered_before.rep_id,
        ordered_before.order_date,
        ordered_before.order_amount,
        ordered_before.customer_id,
        ordered_before.opportunity_id,
        ordered_before.ordered_before_amount,
        ordered_before._extract_date,
        opportunities.opportunity_id is not null as is_known,
        opportunities.customer_id as opportunity_customer_id,
        opportunities.stage_name,
        opportunities.amount as opportunity_amount,
        opportunities.closed_date,
        funnel_stages.is_closed,
        funnel_stages.is_won,
        coalesce(ordered_before.status, '') = 'cancelled' as is_cancelled,
        exists (select 1 from leads where leads.lead_id = ordered_before.opportunity_id) as is_lead_id,
        -- the deal's customer known (an unknown one is unknown_customer's), and the order's too - or, when the
        -- order's customer is unknown (orphan_order_customer's finding), the deal has its own customer's order
        -- besides this one, so this order is not the deal's own with a mistyped customer
        exists (select 1 from customers where customers.customer_id = opportunities.customer_id)
        and (
            exists (select 1 from customers where customers.customer_id = ordered_before.customer_id)
            or exists (
                select 1 from orders as own_orders
                where
                    own_orders.opportunity_id = ordered_before.opportunity_id
                    and own_orders.customer_id = opportunities.customer_id
                    and own_orders.order_id != ordered_before.order_id
                    and coalesce(own_orders.status, '') != 'cancelled'
            )
        ) as both_customers_known,
        warehouse_as_of.as_of_date
    from ordered_before
    cross join warehouse_as_of
    left join opportunities
        on ordered_before.opportunity_id = opportunities.opportunity_id
    left join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key

),

findings as (

    select
        *,
        case
            when opportunity_id is null then '没有填写 CRM 商机编号'
            when not is_known and is_lead_id
                then '填写的 ' || opportunity_id || ' 是线索编号，不是商机编号'
            when not is_known then '填写的商机编号 ' || opportunity_id || ' 在 CRM 中不存在'
            when is_cancelled then null
            when both_customers_known and opportunity_customer_id != customer_id
                then '填写的商机 ' || opportunity_id || ' 属于另一个客户（商机客户 '
                || coalesce(opportunity_customer_id, '空') || '，订单客户 ' || coalesce(customer_id, '空') || '）'
            when is_closed and not is_won
                then '填写的商机 ' || opportunity_id || ' 已' || stage_name || '（'
                || coalesce({{ timestamp_text('closed_date', '%Y-%m-%d') }}, '日期不详') || '）'
            when
                not coalesce(is_closed, false)
                and order_date < date_add(as_of_date, -{{ var('dq_order_opportunity_grace_days') }})
                then '填写的商机 ' || opportunity_id || ' 至今仍在「' || stage_name || '」，没有签约成交'
            when is_won and ordered_before_amount >= opportunity_amount
                then '填写的商机 ' || opportunity_id || '（金额 ' || {{ number_text('opportunity_amount') }}
                || ' 元）之前的订单已下满 ' || {{ number_text('ordered_before_amount') }} || ' 元'
            when
                is_won
                and order_date > date_add(closed_date, {{ var('dq_order_opportunity_max_days_after_close') }})
                and ordered_before_amount + order_amount > opportunity_amount
                then '填写的商机 ' || opportunity_id || ' 早在 ' || {{ timestamp_text('closed_date', '%Y-%m-%d') }}
                || ' 签约（' || {{ days_between('closed_date', 'order_date') }} || ' 天前），本订单使订单合计超过商机金额 '
                || {{ number_text('opportunity_amount') }} || ' 元'
        end as finding
    from checked

),

final as (

    select
        'order_without_opportunity' as rule_id,
        'sales_orders' as entity,
        findings.order_id as record_id,
        findings.rep_id,
        '订单（' || {{ timestamp_text('findings.order_date', '%Y-%m-%d') }} || '，金额 '
        || {{ number_text('findings.order_amount') }} || ' 元）' || findings.finding as evidence,
        findings._extract_date as first_seen_date,
        cast(findings.order_amount as decimal(18, 2)) as amount
    from findings
    cross join crm_delivered
    where crm_delivered.has_opportunities and findings.finding is not null

)

select * from final
