-- anomalous_amount (quality/DEFECTS.md): an opportunity whose amount is not one the customer could buy.
-- An amount is judged against what the customer declared it can spend and what the product costs, not
-- against one number:
--
--   above what the customer could buy: more than var dq_anomalous_amount_budget_multiple (4) times the
--     customer's declared budget AND more than var dq_anomalous_amount_product_multiple (3) times the
--     median amount of the deals for the same product (an extra zero, a unit price typed as the total,
--     万元 typed as 元). Both, because each alone is normal: a big customer buys many times the usual
--     quantity of a cheap product within its budget (the bulk order), and a small customer's one licence
--     of an expensive product can exceed its budget while being an ordinary deal for that product.
--     Or more than var dq_anomalous_amount_budget_only_multiple (6) times the budget for more than one unit
--     at list price: a small customer's one unit of an expensive product can exceed its budget, several
--     units cannot (a deal inflated within the product's usual range).
--     Far from the product's deals - more than var dq_anomalous_amount_median_multiple (10) times its
--     median - it is enough that the amount exceeds the budget, or that there is no budget to compare
--     (customer unknown or budget empty): a big customer's bulk order stays within what it declared.
--   below one unit: less than var dq_anomalous_amount_min_unit_share (0.5) of the product's list price,
--     i.e. not even one unit at a deep discount (a total typed in 万元, zeros dropped, a typed 0).
--
-- An amount the ERP has booked is not anomalous: a won deal whose orders (not cancelled) add up to at least
-- 90% of its amount at a unit price of at least half the list price was really bought. One row per
-- opportunity.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

products as (
    select * from {{ ref('stg_erp__products') }}
),

orders as (
    select * from {{ ref('stg_erp__sales_orders') }}
),

product_medians as (

    select
        product_id,
        {{ decimal_median('amount') }} as median_amount,
        count(*) as opportunity_count
    from opportunities
    where amount is not null
    group by product_id

),

-- what the ERP booked for the deal at a real unit price
booked as (

    select
        orders.opportunity_id,
        sum(orders.order_amount) as booked_amount
    from orders
    left join products
        on orders.product_id = products.product_id
    where
        orders.opportunity_id is not null
        and coalesce(orders.status, '') != 'cancelled'
        and (products.list_price is null or orders.unit_price >= 0.5 * products.list_price)
    group by orders.opportunity_id

),

compared as (

    select
        opportunities.opportunity_id,
        opportunities.owner_rep_id,
        opportunities.product_id,
        products.product_name,
        products.list_price,
        opportunities.amount,
        customers.budget,
        product_medians.median_amount,
        product_medians.opportunity_count,
        cast(opportunities.amount as double) / nullif(product_medians.median_amount, 0) as median_multiple,
        cast(opportunities.amount as double) / nullif(customers.budget, 0) as budget_multiple,
        coalesce(booked.booked_amount >= 0.9 * opportunities.amount, false) as is_booked,
        opportunities._extract_date
    from opportunities
    left join product_medians
        on opportunities.product_id = product_medians.product_id
    left join products
        on opportunities.product_id = products.product_id
    left join customers
        on opportunities.customer_id = customers.customer_id
    left join booked
        on opportunities.opportunity_id = booked.opportunity_id
    where opportunities.amount is not null

),

judged as (

    select
        *,
        case
            when
                budget_multiple > {{ var('dq_anomalous_amount_budget_multiple') }}
                and median_multiple > {{ var('dq_anomalous_amount_product_multiple') }}
                then 'over_budget'
            -- more than one unit although the budget does not buy one: the customer's one unit of an
            -- expensive product may exceed its budget, several units of it may not
            when
                budget_multiple > {{ var('dq_anomalous_amount_budget_only_multiple') }}
                and amount > list_price
                then 'over_budget_units'
            when
                median_multiple > {{ var('dq_anomalous_amount_median_multiple') }}
                and (coalesce(budget, 0) <= 0 or amount > budget)
                then 'over_median'
            when amount < {{ var('dq_anomalous_amount_min_unit_share') }} * list_price
                then 'below_one_unit'
        end as finding
    from compared
    where not is_booked

),

final as (

    select
        'anomalous_amount' as rule_id,
        'opportunities' as entity,
        opportunity_id as record_id,
        owner_rep_id as rep_id,
        '金额 ' || {{ number_text('amount') }} || ' 元，'
        || case finding
            when 'over_budget' then
                '是客户申报预算 ' || {{ number_text('budget') }} || ' 元的 ' || {{ number_text('budget_multiple', 1, false) }}
                || ' 倍，也是同产品（' || product_id || coalesce(' ' || product_name, '') || '）'
                || opportunity_count || ' 个商机金额中位数 ' || {{ number_text('median_amount') }} || ' 元的 '
                || {{ number_text('median_multiple', 1, false) }} || ' 倍'
            when 'over_budget_units' then
                '是客户申报预算 ' || {{ number_text('budget') }} || ' 元的 ' || {{ number_text('budget_multiple', 1, false) }}
                || ' 倍，且不止一件产品（' || product_id || coalesce(' ' || product_name, '') || '，标价 '
                || {{ number_text('list_price') }} || ' 元）'
            when 'over_median' then
                case
                    when coalesce(budget, 0) <= 0 then '没有客户预算可比，'
                    else '超过客户申报预算 ' || {{ number_text('budget') }} || ' 元，'
                end
                || '是同产品（' || product_id || coalesce(' ' || product_name, '') || '）'
                || opportunity_count || ' 个商机金额中位数 ' || {{ number_text('median_amount') }} || ' 元的 '
                || {{ number_text('median_multiple', 1, false) }} || ' 倍'
            else
                '不到一件产品（' || product_id || coalesce(' ' || product_name, '') || '）标价 '
                || {{ number_text('list_price') }} || ' 元的 '
                || cast(round(100 * {{ var('dq_anomalous_amount_min_unit_share') }}) as integer) || '%'
        end
        || case
            when finding != 'below_one_unit' and list_price > 0
                then '（按标价约合 ' || {{ number_text('cast(amount as double) / list_price', 0) }} || ' 件）'
            else ''
        end as evidence,
        _extract_date as first_seen_date,
        cast(amount as decimal(18, 2)) as amount
    from judged
    where finding is not null

)

select * from final
