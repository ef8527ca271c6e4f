-- Reconciliation of the DSO/CEI mart: in every period and unit, opening net AR + credit sales (credit
-- notes negative) - collections (every payment) = closing net AR (net AR = open invoices - unapplied
-- cash, so a prepayment counts when it arrives; no write-offs in the extracts), and the closing AR of a period is the opening AR of the
-- next; the company's collections in fct_collections_weekly add up to every payment received by the
-- as-of date. Returns the disagreeing rows.
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_dso_cei'}}}) }}  {#- its asset check in Dagster -#}
with

dso as (
    select * from {{ ref('fct_ar_dso_cei') }}
),

weekly as (
    select * from {{ ref('fct_collections_weekly') }}
),

payments as (
    select * from {{ ref('int_receivables__payments') }}
),

roll_forward as (

    select
        dso_cei_id as check_id,
        'opening net AR + credit sales - collections != closing net AR' as problem
    from dso
    where opening_net_ar + credit_sales - collections != closing_net_ar

),

chained as (

    select
        dso_cei_id as check_id,
        'opening AR != previous closing AR' as problem
    from (
        select
            dso_cei_id,
            opening_ar,
            opening_net_ar,
            lag(closing_net_ar) over (partition by period_type, level, unit_id order by period_start_date)
                as previous_closing_net_ar,
            lag(closing_ar) over (partition by period_type, level, unit_id order by period_start_date)
                as previous_closing_ar
        from dso
    ) as with_previous
    where
        previous_closing_ar is not null
        and (opening_ar != previous_closing_ar or opening_net_ar != previous_closing_net_ar)

),

weekly_total as (

    select
        'fct_collections_weekly' as check_id,
        'company collections != payments received' as problem
    from (select coalesce(sum(collected_total_amount), 0) as total from weekly where level = 'company') as w
    cross join (select coalesce(sum(payment_amount), 0) as total from payments) as p
    where w.total != p.total

),

final as (

    select * from roll_forward
    union all
    select * from chained
    union all
    select * from weekly_total

)

select * from final
