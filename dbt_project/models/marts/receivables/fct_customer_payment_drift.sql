-- Payment-cycle drift per customer (回款周期漂移, 004 §3.6.3): how a customer pays now against how it
-- used to pay. Recent = invoices paid in full in the last var payment_cycle_window_days before the
-- as-of date; earlier = invoices paid in full in the first var payment_cycle_window_days of the
-- customer's payment history within the last var payment_cycle_lookback_days (and before the recent
-- window). A cycle that moved from about 30 to about 60 days is a credit-risk signal (threshold vars).
{%- set window_days = var('payment_cycle_window_days') %}
with

cycles as (
    select * from {{ ref('fct_payment_cycles') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

windows as (

    select
        as_of_date,
        cast(as_of_date - {{ var('payment_cycle_lookback_days') }} + 1 as date) as lookback_start_date,
        cast(as_of_date - {{ window_days }} + 1 as date) as recent_window_start_date
    from warehouse_as_of

),

in_lookback as (

    select
        cycles.*,
        windows.as_of_date,
        windows.recent_window_start_date
    from cycles
    cross join windows
    where cycles.settled_date between windows.lookback_start_date and windows.as_of_date

),

earlier_windows as (

    -- the customer's first paid invoice in the lookback, before the recent window, opens its window
    select
        customer_id,
        min(settled_date) as earlier_window_start_date,
        least(
            cast(min(settled_date) + {{ window_days }} - 1 as date),
            cast(max(recent_window_start_date) - 1 as date)
        ) as earlier_window_end_date
    from in_lookback
    where settled_date < recent_window_start_date
    group by customer_id

),

windowed as (

    select
        in_lookback.*,
        earlier_windows.earlier_window_start_date,
        earlier_windows.earlier_window_end_date,
        case
            when in_lookback.settled_date >= in_lookback.recent_window_start_date then 'recent'
            when in_lookback.settled_date <= earlier_windows.earlier_window_end_date then 'earlier'
        end as cycle_window
    from in_lookback
    left join earlier_windows
        on in_lookback.customer_id = earlier_windows.customer_id

),

per_customer as (

    select
        customer_id,
        max(customer_name) as customer_name,
        max(rep_id) as rep_id,
        max(region) as region,
        max(earlier_window_start_date) as earlier_window_start_date,
        max(earlier_window_end_date) as earlier_window_end_date,
        max(recent_window_start_date) as recent_window_start_date,
        max(as_of_date) as as_of_date,
        count(*) filter (where cycle_window = 'earlier') as earlier_paid_invoice_count,
        avg(days_to_settle) filter (where cycle_window = 'earlier') as earlier_avg_days_to_settle,
        count(*) filter (where cycle_window = 'recent') as recent_paid_invoice_count,
        avg(days_to_settle) filter (where cycle_window = 'recent') as recent_avg_days_to_settle
    from windowed
    group by customer_id

),

final as (

    select
        customer_id,
        customer_name,
        rep_id,
        region,
        earlier_window_start_date,
        earlier_window_end_date,
        recent_window_start_date,
        as_of_date,
        earlier_paid_invoice_count,
        round(earlier_avg_days_to_settle, 1) as earlier_avg_days_to_settle,
        recent_paid_invoice_count,
        round(recent_avg_days_to_settle, 1) as recent_avg_days_to_settle,
        round(recent_avg_days_to_settle - earlier_avg_days_to_settle, 1) as drift_days,
        coalesce(
            earlier_paid_invoice_count >= {{ var('payment_cycle_min_invoices') }}
            and recent_paid_invoice_count >= {{ var('payment_cycle_min_invoices') }}
            and earlier_avg_days_to_settle <= {{ var('payment_cycle_drift_from_max_days') }}
            and recent_avg_days_to_settle >= {{ var('payment_cycle_drift_to_min_days') }}
            and recent_avg_days_to_settle - earlier_avg_days_to_settle
            >= {{ var('payment_cycle_drift_min_increase_days') }},
            false
        ) as is_drifting
    from per_customer

)

select * from final
