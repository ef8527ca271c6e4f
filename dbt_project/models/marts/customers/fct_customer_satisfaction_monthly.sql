-- Customer satisfaction (1-5) per month, for the company and each region (the customer's region),
-- overall ('全部') and per feedback category (产品 / 服务 / 价格): how many feedbacks, the average
-- score, how many were dissatisfied (score <= var satisfaction_low_max), and the category's share of
-- the month's feedback (004 §2.3.3, §5.1.2). Every month from the first feedback's to the as-of
-- date's has a row per unit and category (count 0, average null when none).
with

feedback as (
    select * from {{ ref('clean_crm__feedback') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

scored as (

    select
        feedback.feedback_id,
        cast(date_trunc('month', feedback.feedback_date) as date) as month_start_date,
        coalesce(feedback.category, '未分类') as category,
        coalesce(customers.region, {{ unknown_label('region') }}) as region,
        feedback.satisfaction
    from feedback
    left join customers
        on feedback.customer_id = customers.customer_id
    where
        feedback.feedback_date <= (select as_of_date from warehouse_as_of)
        and feedback.satisfaction is not null

),

feedback_units as (

    -- each feedback counts in its category and in '全部', for the company and its region
    select feedback_id, month_start_date, satisfaction, 'company' as level, 'company' as unit_id, category
    from scored
    union all
    select feedback_id, month_start_date, satisfaction, 'company', 'company', '全部'
    from scored
    union all
    select feedback_id, month_start_date, satisfaction, 'region', region, category
    from scored
    union all
    select feedback_id, month_start_date, satisfaction, 'region', region, '全部'
    from scored

),

months as (

    select cast(month_series.month_start as date) as month_start_date
    from {{ unnest_series(
        '(select cast(min(month_start_date) as timestamp) from scored)',
        "(select cast(date_trunc('month', as_of_date) as timestamp) from warehouse_as_of)",
        'interval 1 month'
    ) }} as month_series (month_start)

),

cells as (

    select
        months.month_start_date,
        units.level,
        units.unit_id,
        categories.category
    from months
    cross join (select distinct level, unit_id from feedback_units) as units
    cross join (select distinct category from feedback_units) as categories

),

aggregated as (

    select
        cells.month_start_date,
        cells.level,
        cells.unit_id,
        cells.category,
        count(feedback_units.feedback_id) as feedback_count,
        avg(feedback_units.satisfaction) as satisfaction_avg,
        count(feedback_units.feedback_id) filter (
            where feedback_units.satisfaction <= {{ var('satisfaction_low_max') }}
        ) as dissatisfied_count
    from cells
    left join feedback_units
        on
            cells.month_start_date = feedback_units.month_start_date
            and cells.level = feedback_units.level
            and cells.unit_id = feedback_units.unit_id
            and cells.category = feedback_units.category
    group by 1, 2, 3, 4

),

final as (

    select
        level || ':' || unit_id || ':' || category || ':' || left(cast(month_start_date as string), 7)
            as satisfaction_id,
        month_start_date,
        level,
        unit_id,
        category,
        cast(feedback_count as integer) as feedback_count,
        cast(satisfaction_avg as double) as satisfaction_avg,
        cast(dissatisfied_count as integer) as dissatisfied_count,
        cast(feedback_count as double) / nullif(
            max(case when category = '全部' then feedback_count end)
                over (partition by month_start_date, level, unit_id),
            0
        ) as share_of_month
    from aggregated

)

select * from final
