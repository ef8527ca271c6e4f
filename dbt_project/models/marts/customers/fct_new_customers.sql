-- New customers (by CRM created_at) per week and month, for the company and each region, split by
-- acquisition channel and potential band (004 §2.1.2). Every period from the first customer's to the
-- as-of date's has a row for every unit, channel and band (0 when none), so shares and trends need no
-- gap filling. converted_customer_count = those of them who have ordered by the as-of date.
with

customers as (
    select * from {{ ref('int_customers') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

customer_units as (

    select
        customer_id,
        created_at,
        coalesce(channel, '未知渠道') as channel,
        potential_band,
        is_buyer,
        'company' as level,
        'company' as unit_id
    from customers
    union all
    select
        customer_id,
        created_at,
        coalesce(channel, '未知渠道'),
        potential_band,
        is_buyer,
        'region',
        coalesce(region, {{ unknown_label('region') }})
    from customers

),

periods as (

    {%- set grain_steps = {'week': 'interval 7 day', 'month': 'interval 1 month'} %}
    {% for grain in ['week', 'month'] %}
    select
        '{{ grain }}' as period_grain,
        cast(period_series.period_start as date) as period_start_date,
        cast(period_series.period_start + {{ grain_steps[grain] }} - interval 1 day as date) as period_end_date
    from {{ unnest_series(
        "(select cast(date_trunc('" ~ grain ~ "', min(created_at)) as timestamp) from customers)",
        "(select cast(date_trunc('" ~ grain ~ "', as_of_date) as timestamp) from warehouse_as_of)",
        grain_steps[grain]
    ) }} as period_series (period_start)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

cells as (

    select
        periods.period_grain,
        periods.period_start_date,
        periods.period_end_date,
        units.level,
        units.unit_id,
        channels.channel,
        bands.potential_band
    from periods
    cross join (select distinct level, unit_id from customer_units) as units
    cross join (select distinct channel from customer_units) as channels
    cross join (select distinct potential_band from customer_units) as bands

),

counted as (

    select
        cells.period_grain,
        cells.period_start_date,
        cells.period_end_date,
        cells.level,
        cells.unit_id,
        cells.channel,
        cells.potential_band,
        count(customer_units.customer_id) as new_customer_count,
        count(customer_units.customer_id) filter (where customer_units.is_buyer) as converted_customer_count
    from cells
    left join customer_units
        on
            cells.level = customer_units.level
            and cells.unit_id = customer_units.unit_id
            and cells.channel = customer_units.channel
            and cells.potential_band = customer_units.potential_band
            and cast(customer_units.created_at as date) between cells.period_start_date and cells.period_end_date
    group by all

),

final as (

    select
        period_grain || ':' || level || ':' || unit_id || ':' || channel || ':' || potential_band || ':'
        || cast(period_start_date as string) as new_customers_id,
        period_grain,
        period_start_date,
        period_end_date,
        level,
        unit_id,
        channel,
        potential_band,
        cast(new_customer_count as integer) as new_customer_count,
        cast(converted_customer_count as integer) as converted_customer_count,
        cast(
            sum(new_customer_count) over (partition by period_grain, period_start_date, level, unit_id) as integer
        ) as unit_period_new_customer_count,
        cast(new_customer_count as double)
        / nullif(sum(new_customer_count) over (partition by period_grain, period_start_date, level, unit_id), 0)
            as share_of_unit_period
    from counted

)

select * from final
