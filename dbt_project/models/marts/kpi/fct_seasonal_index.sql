-- Seasonal index (季节指数, 004 §5.3.2) per calendar month and quarter, from the won history.
-- Method (simple averages): take every complete calendar month of history (after the month of the
-- first win, which may be partial, up to the last month ended by the as-of date; a month without
-- wins counts as 0); average the won amount per month of the year; divide each month's average by
-- the mean of the 12 averages (so the 12 indexes average exactly 1). A quarter's index is the mean of
-- its three months'. When some month of the year has fewer than var seasonal_index_min_years
-- complete observations, all indexes come from the seasonal_index_fallback seed instead
-- (its weights normalised the same way), so a young warehouse still plans Q4 +20%.
with

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

fallback_weights as (
    select * from {{ ref('seasonal_index_fallback') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

won_to_date as (

    select
        won_opportunities.closed_date,
        won_opportunities.amount
    from won_opportunities
    cross join warehouse_as_of
    where
        won_opportunities.closed_date is not null
        and won_opportunities.closed_date <= warehouse_as_of.as_of_date

),

history_bounds as (

    select
        cast(date_trunc('month', min(won_to_date.closed_date)) + interval 1 month as date) as first_month,
        -- the as-of date's month counts only when the as-of date is its last day
        cast(date_trunc('month', max(warehouse_as_of.as_of_date) + 1) - interval 1 month as date)
            as last_month
    from won_to_date
    cross join warehouse_as_of

),

history_months as (

    select cast(month_series.month_start as date) as month_start_date
    from (
        select {{ unnest_list(inclusive_series(
            'cast(history_bounds.first_month as timestamp)',
            'cast(history_bounds.last_month as timestamp)',
            'interval 1 month'
        )) }} as month_start
        from history_bounds
        where history_bounds.first_month <= history_bounds.last_month
    ) as month_series

),

won_by_month as (

    select
        cast(date_trunc('month', closed_date) as date) as month_start_date,
        sum(amount) as won_amount
    from won_to_date
    group by 1

),

monthly_history as (

    select
        history_months.month_start_date,
        month(history_months.month_start_date) as month_of_year,
        coalesce(won_by_month.won_amount, 0) as won_amount
    from history_months
    left join won_by_month
        on history_months.month_start_date = won_by_month.month_start_date

),

months_of_year as (
    select cast(month_number as integer) as month_of_year
    from (select {{ unnest_list(inclusive_series('1', '12')) }} as month_number) as month_numbers
),

by_month_of_year as (

    select
        months_of_year.month_of_year,
        count(monthly_history.month_start_date) as years_observed,
        -- indexes in decimal(38, 10): averages of decimals are exact sums divided once, while an
        -- average of doubles depends on the order DuckDB's threads add them (the 4th decimal flips)
        cast({{ avg_as_double('monthly_history.won_amount') }} as decimal(38, 10)) as avg_won_amount
    from months_of_year
    left join monthly_history
        on months_of_year.month_of_year = monthly_history.month_of_year
    group by months_of_year.month_of_year

),

history_check as (

    select
        coalesce(
            min(years_observed) >= {{ var('seasonal_index_min_years') }} and {{ avg_as_double('avg_won_amount') }} > 0,
            false
        ) as use_history,
        {{ avg_as_double('avg_won_amount') }} as mean_of_monthly_averages
    from by_month_of_year

),

fallback_mean as (
    select {{ avg_as_double('cast(seasonal_weight as decimal(38, 10))') }} as mean_weight from fallback_weights
),

month_indexes as (

    select
        by_month_of_year.month_of_year,
        by_month_of_year.years_observed,
        by_month_of_year.avg_won_amount,
        case
            when history_check.mean_of_monthly_averages > 0
                then cast(
                    by_month_of_year.avg_won_amount / history_check.mean_of_monthly_averages as decimal(38, 10)
                )
        end as history_index,
        cast(fallback_weights.seasonal_weight / fallback_mean.mean_weight as decimal(38, 10)) as fallback_index,
        history_check.use_history
    from by_month_of_year
    cross join history_check
    cross join fallback_mean
    left join fallback_weights
        on by_month_of_year.month_of_year = fallback_weights.month_of_year

),

month_rows as (

    select
        'month' as period_type,
        month_of_year as period_of_year,
        years_observed,
        avg_won_amount,
        history_index,
        fallback_index,
        case when use_history then history_index else fallback_index end as seasonal_index,
        use_history
    from month_indexes

),

quarter_rows as (

    select
        'quarter' as period_type,
        cast(floor((period_of_year - 1) / 3) + 1 as integer) as period_of_year,
        min(years_observed) as years_observed,
        sum(avg_won_amount) as avg_won_amount,
        cast({{ avg_as_double('history_index') }} as decimal(38, 10)) as history_index,
        cast({{ avg_as_double('fallback_index') }} as decimal(38, 10)) as fallback_index,
        cast({{ avg_as_double('seasonal_index') }} as decimal(38, 10)) as seasonal_index,
        bool_and(use_history) as use_history
    from month_rows
    group by 2

),

all_rows as (
    select * from month_rows
    union all
    select * from quarter_rows
),

final as (

    select
        period_type || ':' || period_of_year as seasonal_index_id,
        period_type,
        cast(period_of_year as integer) as period_of_year,
        case period_type
            when 'month' then 'M' || lpad(cast(period_of_year as string), 2, '0')
            else 'Q' || period_of_year
        end as period_label,
        cast(round(seasonal_index, 4) as double) as seasonal_index,
        case when use_history then 'history' else 'fallback_seed' end as index_source,
        cast(round(history_index, 4) as double) as history_index,
        cast(round(fallback_index, 4) as double) as fallback_index,
        cast(years_observed as integer) as years_observed,
        cast(round(avg_won_amount, 2) as decimal(18, 2)) as avg_won_amount,
        (select first_month from history_bounds) as history_first_month_date,
        (select last_month from history_bounds) as history_last_month_date
    from all_rows

)

select * from final
