-- Reconciliation (money must agree across layers): on every snapshot date and for every unit, the aging
-- buckets sum to the unit's open balance; the regions, the reps and the customers each sum to the
-- company; and the company's total equals the open balances of the invoice snapshots. Returns the
-- disagreeing (date, level, unit) rows.
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_aging'}}}) }}  {#- its asset check in Dagster -#}
with

aging as (
    select * from {{ ref('fct_ar_aging') }}
),

snapshots as (
    select * from {{ ref('fct_ar_invoice_snapshots') }}
),

bucket_sums as (

    select
        snapshot_date,
        level,
        unit_id,
        sum(open_balance) as bucket_total,
        max(total_open_balance) as total_open_balance,
        min(total_open_balance) as total_open_balance_min
    from aging
    group by snapshot_date, level, unit_id

),

buckets_disagree as (

    select snapshot_date, level, unit_id, bucket_total, total_open_balance
    from bucket_sums
    where bucket_total != total_open_balance or total_open_balance != total_open_balance_min

),

level_sums as (

    select snapshot_date, level, sum(total_open_balance) as level_total
    from bucket_sums
    group by snapshot_date, level

),

invoice_sums as (

    select snapshot_date, sum(open_balance) as invoice_total
    from snapshots
    group by snapshot_date

),

levels_disagree as (

    select
        coalesce(level_sums.snapshot_date, invoice_sums.snapshot_date) as snapshot_date,
        level_sums.level,
        'all' as unit_id,
        level_sums.level_total as bucket_total,
        invoice_sums.invoice_total as total_open_balance
    from level_sums
    full outer join invoice_sums
        on level_sums.snapshot_date = invoice_sums.snapshot_date
    where level_sums.level_total is distinct from invoice_sums.invoice_total

),

final as (

    select * from buckets_disagree
    union all
    select * from levels_disagree

)

select * from final
