-- The dates open receivables are snapshotted on: every Sunday (weekly trend), every month end (DSO and
-- CEI by month and quarter) and the as-of date itself, from the first invoice's date to the as-of date.
with

invoices as (
    select * from {{ ref('int_receivables__invoices') }}
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

day_series as (

    select
        {{ unnest_series('cast(first_date as timestamp)', 'cast(as_of_date as timestamp)', 'interval 1 day') }}
            as snapshot_at,
        as_of_date
    from bounds

),

days as (

    select
        cast(snapshot_at as date) as snapshot_date,
        as_of_date
    from day_series

),

flagged as (

    select
        snapshot_date,
        cast(date_trunc('week', snapshot_date) as date) as snapshot_week_start_date,
        {{ iso_day_of_week('snapshot_date') }} = 7 as is_week_end,
        snapshot_date = last_day(snapshot_date) as is_month_end,
        snapshot_date = last_day(snapshot_date) and month(snapshot_date) in (3, 6, 9, 12) as is_quarter_end,
        snapshot_date = as_of_date as is_as_of_date
    from days

),

final as (

    select *
    from flagged
    where is_week_end or is_month_end or is_as_of_date

)

select * from final
