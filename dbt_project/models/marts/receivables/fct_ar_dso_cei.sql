-- DSO, receivable turnover days and collection effectiveness (CEI) per month and quarter, for the
-- company and each region (formulas in METRICS.md). A period still running on the as-of
-- date closes on the as-of date (is_complete_period = false). Opening AR is the AR on the day before
-- the period starts; AR on a day is the sum of the open balances in fct_ar_invoice_snapshots (credit notes
-- negative); net AR = AR - unapplied cash (fct_ar_unapplied_cash: prepayments, payments of invoices not
-- delivered). DSO, turnover days and CEI use the net AR; collections are every payment received.
{%- set trailing_days = var('dso_trailing_days') %}
with

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
),

payments as (
    select * from {{ ref('int_receivables__payments') }}
),

snapshots as (
    select * from {{ ref('fct_ar_invoice_snapshots') }}
),

unapplied_cash as (
    select * from {{ ref('fct_ar_unapplied_cash') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

bounds as (

    select
        min(invoices.invoice_date) as first_date,
        warehouse_as_of.as_of_date
    from invoices
    cross join warehouse_as_of
    group by warehouse_as_of.as_of_date

),

months as (

    select
        cast(month_start as date) as month_start_date,
        as_of_date
    from (
        select
            {{ unnest_series(
                "date_trunc('month', first_date)", "date_trunc('month', as_of_date)", 'interval 1 month'
            ) }} as month_start,
            as_of_date
        from bounds
    ) as month_series

),

periods as (

    select distinct
        'month' as period_type,
        month_start_date as period_start_date,
        last_day(month_start_date) as period_end_date,
        left(cast(month_start_date as string), 7) as period_label,
        as_of_date
    from months
    union all
    select distinct
        'quarter',
        cast(date_trunc('quarter', month_start_date) as date),
        cast(date_trunc('quarter', month_start_date) + interval 3 month - interval 1 day as date),
        cast(year(month_start_date) as string) || '-Q' || cast(quarter(month_start_date) as string),
        as_of_date
    from months

),

periods_closed as (

    select
        period_type,
        period_start_date,
        period_end_date,
        period_label,
        least(period_end_date, as_of_date) as closing_date,
        cast(period_start_date - interval 1 day as date) as opening_date,
        {{ days_between('period_start_date', 'least(period_end_date, as_of_date)') }} + 1 as days_in_period,
        period_end_date <= as_of_date as is_complete_period
    from periods

),

units as (

    select 'company' as level, 'company' as unit_id, '全公司' as unit_name
    union all
    select distinct 'region', region, region
    from invoices

),

grid as (

    select
        periods_closed.*,
        units.level,
        units.unit_id,
        units.unit_name
    from periods_closed
    cross join units

),

snapshot_units as (

    select snapshot_date, 'company' as unit_id, open_balance, days_overdue from snapshots
    union all
    select snapshot_date, region, open_balance, days_overdue from snapshots

),

ar_on_date as (

    select
        snapshot_date,
        unit_id,
        sum(open_balance) as ar,
        coalesce(sum(case when days_overdue <= 0 then open_balance end), 0) as current_ar
    from snapshot_units
    group by snapshot_date, unit_id

),

unapplied_on_date as (

    select snapshot_date, unit_id, sum(unapplied_amount) as unapplied
    from (
        select snapshot_date, 'company' as unit_id, unapplied_amount from unapplied_cash
        union all
        select snapshot_date, region, unapplied_amount from unapplied_cash
    ) as unapplied_units
    group by snapshot_date, unit_id

),

invoice_units as (

    select invoice_date, 'company' as unit_id, invoice_amount from invoices
    union all
    select invoice_date, region, invoice_amount from invoices

),

payment_units as (

    -- every payment received: those no issued invoice takes yet are unapplied cash in the net AR
    select payment_date, 'company' as unit_id, payment_amount from payments
    union all
    select payment_date, region, payment_amount from payments

),

trailing_sales as (

    select
        grid.period_type,
        grid.period_start_date,
        grid.unit_id,
        sum(invoice_units.invoice_amount) as trailing_credit_sales
    from grid
    inner join invoice_units
        on
            grid.unit_id = invoice_units.unit_id
            and invoice_units.invoice_date <= grid.closing_date
            and invoice_units.invoice_date > grid.closing_date - {{ trailing_days }}
    group by grid.period_type, grid.period_start_date, grid.unit_id

),

period_sales as (

    select
        grid.period_type,
        grid.period_start_date,
        grid.unit_id,
        sum(invoice_units.invoice_amount) as credit_sales
    from grid
    inner join invoice_units
        on
            grid.unit_id = invoice_units.unit_id
            and invoice_units.invoice_date between grid.period_start_date and grid.closing_date
    group by grid.period_type, grid.period_start_date, grid.unit_id

),

period_collections as (

    select
        grid.period_type,
        grid.period_start_date,
        grid.unit_id,
        sum(payment_units.payment_amount) as collections
    from grid
    inner join payment_units
        on
            grid.unit_id = payment_units.unit_id
            and payment_units.payment_date between grid.period_start_date and grid.closing_date
    group by grid.period_type, grid.period_start_date, grid.unit_id

),

measures as (

    select
        grid.*,
        cast(coalesce(opening.ar, 0) as decimal(18, 2)) as opening_ar,
        cast(coalesce(period_sales.credit_sales, 0) as decimal(18, 2)) as credit_sales,
        cast(coalesce(period_collections.collections, 0) as decimal(18, 2)) as collections,
        cast(coalesce(closing.ar, 0) as decimal(18, 2)) as closing_ar,
        cast(coalesce(closing.current_ar, 0) as decimal(18, 2)) as closing_current_ar,
        cast(coalesce(closing.ar, 0) - coalesce(closing.current_ar, 0) as decimal(18, 2)) as closing_overdue_ar,
        cast(coalesce(trailing_sales.trailing_credit_sales, 0) as decimal(18, 2)) as trailing_credit_sales,
        cast(coalesce(opening_unapplied.unapplied, 0) as decimal(18, 2)) as opening_unapplied_cash,
        cast(coalesce(closing_unapplied.unapplied, 0) as decimal(18, 2)) as closing_unapplied_cash,
        cast(coalesce(opening.ar, 0) - coalesce(opening_unapplied.unapplied, 0) as decimal(18, 2))
            as opening_net_ar,
        cast(coalesce(closing.ar, 0) - coalesce(closing_unapplied.unapplied, 0) as decimal(18, 2))
            as closing_net_ar
    from grid
    left join ar_on_date as opening
        on grid.opening_date = opening.snapshot_date and grid.unit_id = opening.unit_id
    left join ar_on_date as closing
        on grid.closing_date = closing.snapshot_date and grid.unit_id = closing.unit_id
    left join unapplied_on_date as opening_unapplied
        on grid.opening_date = opening_unapplied.snapshot_date and grid.unit_id = opening_unapplied.unit_id
    left join unapplied_on_date as closing_unapplied
        on grid.closing_date = closing_unapplied.snapshot_date and grid.unit_id = closing_unapplied.unit_id
    left join period_sales
        on
            grid.period_type = period_sales.period_type
            and grid.period_start_date = period_sales.period_start_date
            and grid.unit_id = period_sales.unit_id
    left join trailing_sales
        on
            grid.period_type = trailing_sales.period_type
            and grid.period_start_date = trailing_sales.period_start_date
            and grid.unit_id = trailing_sales.unit_id
    left join period_collections
        on
            grid.period_type = period_collections.period_type
            and grid.period_start_date = period_collections.period_start_date
            and grid.unit_id = period_collections.unit_id

),

ratios as (

    select
        measures.*,
        -- on the net AR (open invoices, credit notes negative, less unapplied cash), consistently
        round(cast(closing_net_ar as double) / nullif(trailing_credit_sales, 0) * {{ trailing_days }}, 1)
            as dso_days,
        round(cast(opening_net_ar + closing_net_ar as double) / 2 / nullif(credit_sales, 0) * days_in_period, 1)
            as turnover_days,
        round(
            cast(opening_net_ar + credit_sales - closing_net_ar as double)
            / nullif(opening_net_ar + credit_sales - (closing_current_ar - closing_unapplied_cash), 0) * 100,
            1
        ) as cei_pct
    from measures

),

final as (

    select
        period_type || ':' || level || ':' || unit_id || ':' || cast(period_start_date as string) as dso_cei_id,
        period_type,
        period_start_date,
        period_end_date,
        period_label,
        opening_date,
        closing_date,
        days_in_period,
        is_complete_period,
        level,
        unit_id,
        unit_name,
        opening_ar,
        credit_sales,
        collections,
        closing_ar,
        closing_current_ar,
        closing_overdue_ar,
        opening_unapplied_cash,
        closing_unapplied_cash,
        opening_net_ar,
        closing_net_ar,
        trailing_credit_sales,
        dso_days,
        round(dso_days - lag(dso_days) over previous_period, 1) as dso_change_days,
        turnover_days,
        round(turnover_days - lag(turnover_days) over previous_period, 1) as turnover_days_change,
        cei_pct
    from ratios
    window previous_period as (partition by period_type, level, unit_id order by period_start_date)

)

select * from final
