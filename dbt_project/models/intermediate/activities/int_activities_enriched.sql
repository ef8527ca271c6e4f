-- One row per logged activity (visit / call / email) up to the as-of date, with the week it falls in,
-- the contacted customer's potential band, and whether the record is complete and was logged on time
-- (within var scorecard_timely_log_hours of the activity), for the scorecard's data-quality score.
with

activities as (
    select * from {{ ref('clean_crm__activities') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

final as (

    select
        activities.activity_id,
        activities.activity_type,
        activities.rep_id,
        activities.customer_id,
        activities.activity_at,
        cast(activities.activity_at as date) as activity_date,
        cast(date_trunc('week', activities.activity_at) as date) as week_start_date,
        activities.logged_at,
        coalesce(customers.potential_band, 'unknown') as customer_potential_band,
        coalesce(customers.potential_band = 'high', false) as is_high_potential_customer,
        -- complete: the customer and the notes are filled in
        activities.customer_id is not null
        and nullif(trim(activities.summary), '') is not null as is_complete,
        coalesce(
            activities.logged_at <= activities.activity_at + interval {{ var('scorecard_timely_log_hours') }} hour,
            false
        ) as is_logged_on_time
    from activities
    left join customers
        on activities.customer_id = customers.customer_id
    where
        activities.rep_id is not null
        and activities.activity_at is not null
        and cast(activities.activity_at as date) <= (select as_of_date from warehouse_as_of)

)

select * from final
