-- The collection plan (回款计划) by week and invoice: the plan lines of each week (staging keeps the
-- latest version of each plan line) summed per invoice, with the rep and risk reason of the week's
-- latest line. The sample ERP re-plans every open overdue invoice each Monday at its open balance
-- (until it is more than 90 days overdue), so the same money is planned again week after week:
-- is_carried_over marks an invoice that was already planned in an earlier week.
with

collection_plan as (
    select * from {{ ref('clean_erp__collection_plan') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

plan_lines as (

    select
        collection_plan.*,
        cast(date_trunc('week', collection_plan.planned_week_start_date) as date) as week_start_date
    from collection_plan
    cross join warehouse_as_of
    where collection_plan.planned_week_start_date <= warehouse_as_of.as_of_date

),

invoice_weeks as (

    select
        week_start_date,
        invoice_id,
        sum(planned_amount) as planned_amount,
        count(*) as plan_line_count,
        -- the latest line; plan_id breaks ties on updated_at, else the line picked may change between builds
        -- (max_by skips a null value as DuckDB's arg_max does, but Spark's does not: hence "is not null")
        max_by(rep_id, (updated_at, plan_id)) filter (where updated_at is not null and rep_id is not null) as rep_id,
        max_by(customer_id, (updated_at, plan_id)) filter (
            where updated_at is not null and customer_id is not null
        ) as customer_id,
        max_by(risk_reason, (updated_at, plan_id)) filter (
            where updated_at is not null and risk_reason is not null
        ) as risk_reason
    from plan_lines
    group by week_start_date, invoice_id

),

final as (

    select
        cast(invoice_weeks.week_start_date as string) || ':' || invoice_weeks.invoice_id
            as planned_collection_id,
        invoice_weeks.week_start_date,
        invoice_weeks.invoice_id,
        invoice_weeks.customer_id,
        coalesce(invoice_weeks.rep_id, 'unknown') as rep_id,
        reps.rep_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        cast(invoice_weeks.planned_amount as decimal(18, 2)) as planned_amount,
        invoice_weeks.plan_line_count,
        invoice_weeks.risk_reason,
        row_number() over (
            partition by invoice_weeks.invoice_id order by invoice_weeks.week_start_date
        ) > 1 as is_carried_over
    from invoice_weeks
    left join reps
        on invoice_weeks.rep_id = reps.rep_id

)

select * from final
