-- Aging of open receivables (账龄) per company, region, rep and customer on every snapshot date: the
-- open balance and invoice count in each bucket of the aging_buckets seed. Every unit with an open
-- balance or unapplied cash on a date has a row for every bucket (0 when empty), so its buckets sum to its
-- total. Credit notes are negative balances in the current bucket; unapplied cash (prepayments, payments of
-- invoices not yet delivered) is not in a bucket: total_unapplied_cash, netted in total_net_open_balance. A
-- customer with only unapplied cash has every bucket 0 and a negative net balance.
with

snapshots as (
    select * from {{ ref('fct_ar_invoice_snapshots') }}
),

snapshot_dates as (
    select * from {{ ref('int_receivables__snapshot_dates') }}
),

unapplied_cash as (
    select * from {{ ref('fct_ar_unapplied_cash') }}
),

aging_buckets as (
    select * from {{ ref('aging_buckets') }}
),

unit_rows as (

    -- one row per open invoice and unit level; its bucket and balance
    select
        snapshot_date, 'company' as level, 'company' as unit_id, '全公司' as unit_name,
        cast(null as string) as region, aging_bucket_key, open_balance
    from snapshots
    union all
    select snapshot_date, 'region', region, region, region, aging_bucket_key, open_balance
    from snapshots
    union all
    select snapshot_date, 'rep', rep_id, coalesce(rep_name, rep_id), region, aging_bucket_key, open_balance
    from snapshots
    union all
    select
        snapshot_date, 'customer', customer_id, coalesce(customer_name, customer_id), region,
        aging_bucket_key, open_balance
    from snapshots

),

unapplied_rows as (

    -- the unit's unapplied cash on the date: in no bucket, netted in total_net_open_balance
    select
        snapshot_date, 'company' as level, 'company' as unit_id, '全公司' as unit_name,
        cast(null as string) as region, unapplied_amount
    from unapplied_cash
    union all
    select snapshot_date, 'region', region, region, region, unapplied_amount
    from unapplied_cash
    union all
    select snapshot_date, 'rep', rep_id, coalesce(rep_name, rep_id), region, unapplied_amount
    from unapplied_cash
    union all
    select
        snapshot_date, 'customer', coalesce(customer_id, 'unknown'),
        coalesce(customer_name, customer_id, 'unknown'), region, unapplied_amount
    from unapplied_cash

),

invoice_units as (

    select
        snapshot_date,
        level,
        unit_id,
        max(unit_name) as unit_name,
        max(region) as region,
        sum(open_balance) as total_open_balance,
        count(*) as total_invoice_count
    from unit_rows
    group by snapshot_date, level, unit_id

),

unapplied_units as (

    select
        snapshot_date,
        level,
        unit_id,
        max(unit_name) as unit_name,
        max(region) as region,
        sum(unapplied_amount) as unapplied_amount
    from unapplied_rows
    group by snapshot_date, level, unit_id

),

units as (

    -- every unit with an open invoice or unapplied cash on the date (a customer who only paid in advance
    -- gets its rows too: buckets 0, net balance negative); name and region from its invoices first
    select
        coalesce(invoice_units.snapshot_date, unapplied_units.snapshot_date) as snapshot_date,
        coalesce(invoice_units.level, unapplied_units.level) as level,
        coalesce(invoice_units.unit_id, unapplied_units.unit_id) as unit_id,
        coalesce(invoice_units.unit_name, unapplied_units.unit_name) as unit_name,
        coalesce(invoice_units.region, unapplied_units.region) as region,
        coalesce(invoice_units.total_open_balance, 0) as total_open_balance,
        coalesce(invoice_units.total_invoice_count, 0) as total_invoice_count,
        coalesce(unapplied_units.unapplied_amount, 0) as total_unapplied_cash
    from invoice_units
    full outer join unapplied_units
        on
            invoice_units.snapshot_date = unapplied_units.snapshot_date
            and invoice_units.level = unapplied_units.level
            and invoice_units.unit_id = unapplied_units.unit_id

),

bucket_totals as (

    select
        snapshot_date,
        level,
        unit_id,
        aging_bucket_key,
        sum(open_balance) as open_balance,
        count(*) as invoice_count
    from unit_rows
    group by snapshot_date, level, unit_id, aging_bucket_key

),

final as (

    select
        units.level || ':' || units.unit_id || ':' || cast(units.snapshot_date as string) || ':'
        || aging_buckets.bucket_key as aging_id,
        units.snapshot_date,
        snapshot_dates.is_week_end,
        snapshot_dates.is_month_end,
        snapshot_dates.is_quarter_end,
        snapshot_dates.is_as_of_date,
        units.level,
        units.unit_id,
        units.unit_name,
        units.region,
        aging_buckets.bucket_key,
        aging_buckets.bucket_label,
        aging_buckets.bucket_order,
        cast(coalesce(bucket_totals.open_balance, 0) as decimal(18, 2)) as open_balance,
        coalesce(bucket_totals.invoice_count, 0) as invoice_count,
        cast(units.total_open_balance as decimal(18, 2)) as total_open_balance,
        units.total_invoice_count,
        cast(coalesce(bucket_totals.open_balance, 0) as double) / nullif(units.total_open_balance, 0)
            as share_of_open_balance,
        cast(units.total_unapplied_cash as decimal(18, 2)) as total_unapplied_cash,
        cast(units.total_open_balance - units.total_unapplied_cash as decimal(18, 2)) as total_net_open_balance
    from units
    cross join aging_buckets
    inner join snapshot_dates
        on units.snapshot_date = snapshot_dates.snapshot_date
    left join bucket_totals
        on
            units.snapshot_date = bucket_totals.snapshot_date
            and units.level = bucket_totals.level
            and units.unit_id = bucket_totals.unit_id
            and aging_buckets.bucket_key = bucket_totals.aging_bucket_key

)

select * from final
