-- The plan's top-down target chain (倒推法, 002): year -> quarter -> month, and next week, for the
-- years that hold next week and next quarter (relative to the warehouse's as-of date).
--   monthly level  = mean over the last var plan_history_months complete months of won / month index
--                    (the de-seasonalised monthly run rate, fct_seasonal_index)
--   year plan      = 12 x monthly level x (1 + var plan_growth_rate) x (1 + revision), where the
--                    revision is var plan_revision_rate limited to +/- var plan_revision_limit (002: ±15%)
--   quarter plan   = year plan split by the quarters' seasonal indexes, to the cent
--   month plan     = quarter plan split by its months' seasonal indexes, to the cent
--   next week plan = sum over its days of (month plan / days in the month), to the cent
-- Quarters add up exactly to their year and months to their quarter (largest remainder, macro
-- allocate_cents). The company's targets from the extract for the same period sit alongside.
with

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

seasonal_index as (
    select * from {{ ref('fct_seasonal_index') }}
),

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

horizon as (

    select
        as_of_date,
        cast(date_trunc('week', as_of_date) + interval 7 day as date) as next_week_start_date,
        cast(date_trunc('quarter', as_of_date) + interval 3 month as date) as next_quarter_start_date,
        -- the last complete month (the as-of date's own month only when it is its last day)
        cast(date_trunc('month', as_of_date + 1) - interval 1 month as date) as last_history_month,
        -- and the first of the last plan_history_months complete months
        cast(
            date_trunc('month', as_of_date + 1) - interval {{ var('plan_history_months') }} month as date
        ) as first_history_month
    from warehouse_as_of

),

month_index as (
    -- decimal: the indexes are summed into quarter weights and split into cents below; a sum of
    -- doubles depends on the order DuckDB's threads add them, a decimal sum is exact
    select period_of_year as month_of_year, cast(seasonal_index as decimal(18, 4)) as seasonal_index
    from seasonal_index
    where period_type = 'month'
),

history_months as (

    -- the last plan_history_months complete months, not before the first complete month of history
    select cast(month_series.month_start as date) as month_start_date
    from (
        select {{ unnest_list(inclusive_series(
            'cast(horizon.first_history_month as timestamp)',
            'cast(horizon.last_history_month as timestamp)',
            'interval 1 month'
        )) }} as month_start
        from horizon
    ) as month_series
    where
        cast(month_series.month_start as date)
        >= (select min(history_first_month_date) from seasonal_index)

),

won_by_month as (

    select
        cast(date_trunc('month', closed_date) as date) as month_start_date,
        sum(amount) as won_amount
    from won_opportunities
    where closed_date <= (select as_of_date from horizon)
    group by 1

),

monthly_level as (

    -- de-seasonalised monthly won amount, averaged; 0 without history
    select
        coalesce({{ avg_as_double(
            'cast(
                cast(coalesce(won_by_month.won_amount, 0) as double) / nullif(month_index.seasonal_index, 0)
                as decimal(38, 10)
            )'
        ) }}, 0) as monthly_level_amount,
        count(*) as history_months_used
    from history_months
    left join won_by_month
        on history_months.month_start_date = won_by_month.month_start_date
    inner join month_index
        on month(history_months.month_start_date) = month_index.month_of_year

),

plan_factors as (

    select
        monthly_level.*,
        {{ var('plan_growth_rate') }} as growth_rate,
        greatest(
            -{{ var('plan_revision_limit') }},
            least({{ var('plan_revision_limit') }}, {{ var('plan_revision_rate') }})
        ) as revision_rate
    from monthly_level

),

plan_months as (

    select cast(month_series.month_start as date) as month_start_date
    from (
        select {{ unnest_list(inclusive_series(
            "cast(date_trunc('year', horizon.next_week_start_date) as timestamp)",
            "cast(date_trunc('year', horizon.next_quarter_start_date) + interval 11 month as timestamp)",
            'interval 1 month'
        )) }} as month_start
        from horizon
    ) as month_series

),

plan_years as (

    select
        cast(date_trunc('year', plan_months.month_start_date) as date) as year_start_date,
        cast(round(
            12 * plan_factors.monthly_level_amount * (1 + plan_factors.growth_rate)
            * (1 + plan_factors.revision_rate) * 100
        ) as bigint) as year_cents
    from plan_months
    cross join plan_factors
    group by 1, plan_factors.monthly_level_amount, plan_factors.growth_rate, plan_factors.revision_rate

),

quarter_weights as (

    select
        plan_years.year_start_date,
        plan_years.year_cents,
        cast(date_trunc('quarter', plan_months.month_start_date) as date) as quarter_start_date,
        sum(month_index.seasonal_index) as quarter_weight
    from plan_months
    inner join plan_years
        on cast(date_trunc('year', plan_months.month_start_date) as date) = plan_years.year_start_date
    inner join month_index
        on month(plan_months.month_start_date) = month_index.month_of_year
    group by 1, 2, 3

),

quarters as (
    {{ allocate_cents('quarter_weights', ['year_start_date'], 'year_cents', 'quarter_weight', 'quarter_start_date') }}
),

month_weights as (

    select
        quarters.quarter_start_date,
        quarters.allocated_cents as quarter_cents,
        plan_months.month_start_date,
        month_index.seasonal_index as month_weight
    from plan_months
    inner join quarters
        on cast(date_trunc('quarter', plan_months.month_start_date) as date) = quarters.quarter_start_date
    inner join month_index
        on month(plan_months.month_start_date) = month_index.month_of_year

),

months as (
    {{ allocate_cents('month_weights', ['quarter_start_date'], 'quarter_cents', 'month_weight', 'month_start_date') }}
),

next_week_days as (

    select cast(day_series.day_start as date) as plan_date
    from (
        select {{ unnest_list(inclusive_series(
            'cast(horizon.next_week_start_date as timestamp)',
            'cast(horizon.next_week_start_date + 6 as timestamp)',
            'interval 1 day'
        )) }} as day_start
        from horizon
    ) as day_series

),

next_week as (

    select
        min(next_week_days.plan_date) as week_start_date,
        cast(round(sum(
            cast(
                cast(months.allocated_cents as double)
                / {{ days_between(
                    'months.month_start_date', 'cast(months.month_start_date + interval 1 month as date)'
                ) }}
                as decimal(38, 10)
            )
        )) as bigint) as week_cents
    from next_week_days
    inner join months
        on cast(date_trunc('month', next_week_days.plan_date) as date) = months.month_start_date

),

chain as (

    select
        'year' as period_type,
        year_start_date as period_start_date,
        cast(year_start_date + interval 1 year - interval 1 day as date) as period_end_date,
        null as parent_period_type,
        cast(null as date) as parent_period_start_date,
        1.0 as seasonal_index,
        year_cents as plan_cents
    from plan_years

    union all

    select
        'quarter',
        quarter_start_date,
        cast(quarter_start_date + interval 3 month - interval 1 day as date),
        'year',
        year_start_date,
        cast(quarter_weight as double) / 3,
        allocated_cents
    from quarters

    union all

    select
        'month',
        month_start_date,
        cast(month_start_date + interval 1 month - interval 1 day as date),
        'quarter',
        quarter_start_date,
        month_weight,
        allocated_cents
    from months

    union all

    select
        'week',
        week_start_date,
        cast(week_start_date + 6 as date),
        'month',
        cast(date_trunc('month', week_start_date) as date),
        null,
        week_cents
    from next_week

),

extract_targets as (

    select
        chain.period_type,
        chain.period_start_date,
        cast(round(sum(targets_daily.target_amount_daily), 2) as decimal(18, 2)) as extract_target_amount,
        count(distinct targets_daily.target_date) as extract_target_days
    from chain
    inner join targets_daily
        on targets_daily.target_date between chain.period_start_date and chain.period_end_date
    group by 1, 2

),

final as (

    select
        chain.period_type || ':' || cast(chain.period_start_date as string) as plan_period_id,
        chain.period_type,
        chain.period_start_date,
        chain.period_end_date,
        case chain.period_type
            when 'year' then cast(year(chain.period_start_date) as string)
            when 'quarter' then year(chain.period_start_date) || '-Q' || quarter(chain.period_start_date)
            when 'month' then left(cast(chain.period_start_date as string), 7)
            else {{ iso_week_label('chain.period_start_date') }}
        end as period_label,
        case
            when chain.parent_period_type is not null
                then chain.parent_period_type || ':' || cast(chain.parent_period_start_date as string)
        end as parent_plan_period_id,
        chain.period_type = 'week' as is_next_week,
        chain.period_type = 'quarter' and chain.period_start_date = horizon.next_quarter_start_date
            as is_next_quarter,
        round(chain.seasonal_index, 4) as seasonal_index,
        cast(chain.plan_cents / 100 as decimal(18, 2)) as plan_amount,
        cast(round(plan_factors.monthly_level_amount, 2) as decimal(18, 2)) as monthly_level_amount,
        cast(plan_factors.history_months_used as integer) as history_months_used,
        plan_factors.growth_rate,
        plan_factors.revision_rate,
        extract_targets.extract_target_amount,
        cast(coalesce(extract_targets.extract_target_days, 0) as integer) as extract_target_days,
        cast({{ days_between('chain.period_start_date', 'chain.period_end_date') }} + 1 as integer) as days_in_period
    from chain
    cross join horizon
    cross join plan_factors
    left join extract_targets
        on
            chain.period_type = extract_targets.period_type
            and chain.period_start_date = extract_targets.period_start_date

)

select * from final
