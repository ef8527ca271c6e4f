-- Planned vs. actual collections (回款计划 vs. 实际回款) per week, for the company, each region and
-- each rep (004 §2.1.3: plan 120万, actual 98万). Planned = the week's collection plan lines; collected on
-- plan = payments received that week on the invoices planned that week (credited to the plan line's
-- rep); collected off plan = payments received that week on invoices not planned that week (credited
-- to the invoice's rep); shortfall = planned - collected on plan. Weeks run from the first planned or
-- collected week to the as-of date's week; the company has a row for every week.
with

planned as (
    select * from {{ ref('int_receivables__planned_collections') }}
),

payments as (
    select * from {{ ref('int_receivables__payments') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

payments_by_invoice_week as (

    select
        payment_week_start_date as week_start_date,
        invoice_id,
        max(rep_id) as rep_id,
        max(rep_name) as rep_name,
        max(region) as region,
        sum(payment_amount) as collected_amount
    from payments
    group by payment_week_start_date, invoice_id

),

on_plan as (

    select
        planned.week_start_date,
        planned.rep_id,
        planned.rep_name,
        planned.region,
        planned.planned_amount,
        case when planned.is_carried_over then planned.planned_amount else 0 end
            as planned_carried_over_amount,
        1 as planned_invoice_count,
        coalesce(payments_by_invoice_week.collected_amount, 0) as collected_on_plan_amount,
        case when payments_by_invoice_week.collected_amount > 0 then 1 else 0 end as collected_invoice_count,
        0 as collected_off_plan_amount
    from planned
    left join payments_by_invoice_week
        on
            planned.week_start_date = payments_by_invoice_week.week_start_date
            and planned.invoice_id = payments_by_invoice_week.invoice_id

),

off_plan as (

    select
        payments_by_invoice_week.week_start_date,
        payments_by_invoice_week.rep_id,
        payments_by_invoice_week.rep_name,
        payments_by_invoice_week.region,
        0 as planned_amount,
        0 as planned_carried_over_amount,
        0 as planned_invoice_count,
        0 as collected_on_plan_amount,
        0 as collected_invoice_count,
        payments_by_invoice_week.collected_amount as collected_off_plan_amount
    from payments_by_invoice_week
    where not exists (
        select 1
        from planned
        where
            planned.week_start_date = payments_by_invoice_week.week_start_date
            and planned.invoice_id = payments_by_invoice_week.invoice_id
    )

),

facts as (

    select * from on_plan
    union all
    select * from off_plan

),

weeks as (

    select cast(week_start as date) as week_start_date
    from (
        select
            {{ unnest_series('first_week_start_date', 'as_of_week_start_date', 'interval 7 day') }}
                as week_start
        from (
            select
                min(facts.week_start_date) as first_week_start_date,
                cast(date_trunc('week', max(warehouse_as_of.as_of_date)) as date) as as_of_week_start_date
            from facts
            cross join warehouse_as_of
            having count(*) > 0
        ) as week_bounds
    ) as week_series

),

unit_facts as (

    select
        'company' as level, 'company' as unit_id, '全公司' as unit_name, cast(null as string) as unit_region,
        facts.*
    from facts
    union all
    select 'region', region, region, region, facts.*
    from facts
    union all
    select 'rep', rep_id, coalesce(rep_name, rep_id), region, facts.*
    from facts

),

rolled_up as (

    select
        level,
        unit_id,
        week_start_date,
        max(unit_name) as unit_name,
        max(unit_region) as region,
        sum(planned_amount) as planned_amount,
        sum(planned_carried_over_amount) as planned_carried_over_amount,
        sum(planned_invoice_count) as planned_invoice_count,
        sum(collected_on_plan_amount) as collected_on_plan_amount,
        sum(collected_invoice_count) as collected_invoice_count,
        sum(collected_off_plan_amount) as collected_off_plan_amount
    from unit_facts
    group by level, unit_id, week_start_date

),

units_by_week as (

    -- the company in every week, the others where they planned or collected anything
    select
        weeks.week_start_date,
        'company' as level,
        'company' as unit_id,
        '全公司' as unit_name,
        cast(null as string) as region
    from weeks
    union all
    select week_start_date, level, unit_id, unit_name, region
    from rolled_up
    where level != 'company'

),

final as (

    select
        units_by_week.level || ':' || units_by_week.unit_id || ':'
        || cast(units_by_week.week_start_date as string) as collection_week_id,
        units_by_week.week_start_date,
        cast(units_by_week.week_start_date + interval 6 day as date) as week_end_date,
        {{ iso_week_label('units_by_week.week_start_date') }} as week_label,
        units_by_week.week_start_date + interval 6 day <= warehouse_as_of.as_of_date as is_complete_week,
        units_by_week.level,
        units_by_week.unit_id,
        units_by_week.unit_name,
        units_by_week.region,
        cast(coalesce(rolled_up.planned_amount, 0) as decimal(18, 2)) as planned_amount,
        cast(coalesce(rolled_up.planned_amount, 0) - coalesce(rolled_up.planned_carried_over_amount, 0)
            as decimal(18, 2)) as planned_new_amount,
        cast(coalesce(rolled_up.planned_carried_over_amount, 0) as decimal(18, 2))
            as planned_carried_over_amount,
        cast(coalesce(rolled_up.planned_invoice_count, 0) as integer) as planned_invoice_count,
        cast(coalesce(rolled_up.collected_on_plan_amount, 0) as decimal(18, 2)) as collected_on_plan_amount,
        cast(coalesce(rolled_up.collected_invoice_count, 0) as integer) as collected_invoice_count,
        cast(coalesce(rolled_up.planned_amount, 0) - coalesce(rolled_up.collected_on_plan_amount, 0)
            as decimal(18, 2)) as shortfall_amount,
        cast(coalesce(rolled_up.collected_on_plan_amount, 0) as double) / nullif(rolled_up.planned_amount, 0)
            as collection_rate,
        case
            when coalesce(rolled_up.planned_amount, 0) = 0 then 'none'
            when cast(rolled_up.collected_on_plan_amount as double) / rolled_up.planned_amount
                >= {{ var('collection_rate_green_min') }} then 'green'
            when cast(rolled_up.collected_on_plan_amount as double) / rolled_up.planned_amount
                >= {{ var('collection_rate_yellow_min') }} then 'yellow'
            else 'red'
        end as status_light,
        cast(coalesce(rolled_up.collected_off_plan_amount, 0) as decimal(18, 2))
            as collected_off_plan_amount,
        cast(
            coalesce(rolled_up.collected_on_plan_amount, 0) + coalesce(rolled_up.collected_off_plan_amount, 0)
            as decimal(18, 2)
        ) as collected_total_amount
    from units_by_week
    cross join warehouse_as_of
    left join rolled_up
        on
            units_by_week.level = rolled_up.level
            and units_by_week.unit_id = rolled_up.unit_id
            and units_by_week.week_start_date = rolled_up.week_start_date

)

select * from final
