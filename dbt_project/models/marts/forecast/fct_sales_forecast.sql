-- Sales forecast (销售预测) for every week and quarter, made with only what was known on the
-- forecast date (the day before the period starts; for the next period after the as-of date, the
-- as-of date itself), next to the actual won amount and the error: a BACKTEST for past periods and
-- the forecast for the next week and the next quarter.
--   pipeline part   = weighted pipeline expected in the period (fct_pipeline_daily on the forecast
--                     date: open deals whose promised date, or the day after the forecast date if it
--                     has passed, falls in the period; amount x probability)
--                     x realization rate (won / weighted pipeline expected, summed over the last
--                     var forecast_calibration_periods_<grain> complete periods, as known then)
--   run-rate part   = won per day over the var forecast_run_rate_days days up to the forecast date
--                     x days in the period x seasonal factor
--   seasonal factor = year-ago won per day in the period's season window / year-ago won per day in
--                     the run-rate window, clipped to [forecast_season_factor_min, _max]; 1 when the
--                     year-ago run-rate window starts before the first known win
--   forecast        = w x pipeline part + (1 - w) x run-rate part, w = var
--                     forecast_pipeline_weight_<grain>; 0 while no realization rate exists and for
--                     a forecast made before the period's eve (the next quarter seen mid-quarter).
-- Won amounts known on a date come from the opportunity versions delivered by then.
with

pipeline_daily as (
    select * from {{ ref('fct_pipeline_daily') }}
),

versions as (
    select * from {{ ref('int_opportunity_versions') }}
),

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

bounds as (

    select
        (select min(snapshot_date) from pipeline_daily) as first_snapshot_date,
        as_of_date
    from warehouse_as_of

),

candidate_periods as (

    -- every week and quarter from the first one that can be forecast to the one after the as-of date's
    select
        'week' as period_grain,
        cast(period_series.period_start as date) as period_start_date,
        cast(period_series.period_start + interval 6 day as date) as period_end_date
    from bounds
    cross join lateral {{ series_rows(
        "date_trunc('week', bounds.first_snapshot_date + interval 1 day)",
        "date_trunc('week', bounds.as_of_date) + interval 7 day",
        'interval 7 day'
    ) }} as period_series (period_start)
    union all
    select
        'quarter' as period_grain,
        cast(period_series.period_start as date) as period_start_date,
        cast(period_series.period_start + interval 3 month - interval 1 day as date) as period_end_date
    from bounds
    cross join lateral {{ series_rows(
        "date_trunc('quarter', bounds.first_snapshot_date + interval 1 day)",
        "date_trunc('quarter', bounds.as_of_date) + interval 3 month",
        'interval 3 month'
    ) }} as period_series (period_start)

),

periods as (

    select
        candidate_periods.*,
        least(cast(candidate_periods.period_start_date - interval 1 day as date), bounds.as_of_date)
            as forecast_date,
        {{ days_between('candidate_periods.period_start_date', 'candidate_periods.period_end_date') }} + 1
            as period_days,
        case candidate_periods.period_grain
            when 'week' then {{ var('forecast_pipeline_weight_week') }}
            when 'quarter' then {{ var('forecast_pipeline_weight_quarter') }}
        end as pipeline_weight,
        case candidate_periods.period_grain
            when 'week' then {{ var('forecast_calibration_periods_week') }}
            when 'quarter' then {{ var('forecast_calibration_periods_quarter') }}
        end as calibration_periods,
        -- the season window, one year back
        cast(candidate_periods.period_start_date - interval 364 day as date) as season_start_date,
        case candidate_periods.period_grain
            when 'week'
                then cast(
                    candidate_periods.period_start_date
                    - interval 364 day
                    + interval {{ var('forecast_season_window_days_week') - 1 }} day as date
                )
            else cast(candidate_periods.period_end_date - interval 364 day as date)
        end as season_end_date
    from candidate_periods
    cross join bounds
    where cast(candidate_periods.period_start_date - interval 1 day as date) >= bounds.first_snapshot_date

),

forecast_dates as (

    select distinct forecast_date from periods

),

won_known as (

    -- won deals as the extracts delivered by each forecast date described them
    select
        forecast_dates.forecast_date,
        versions.opportunity_id,
        versions.closed_date,
        versions.amount
    from forecast_dates
    inner join versions
        on
            versions.known_from_date <= forecast_dates.forecast_date
            and (versions.known_to_date is null or versions.known_to_date >= forecast_dates.forecast_date)
    where versions.is_won and versions.closed_date <= forecast_dates.forecast_date

),

first_win as (

    select forecast_date, min(closed_date) as first_won_date
    from won_known
    group by forecast_date

),

run_rates as (

    select
        periods.period_grain,
        periods.period_start_date,
        -- rates as doubles (DuckDB divides decimals as doubles)
        cast(coalesce(sum(won_known.amount) filter (
            where won_known.closed_date > periods.forecast_date - {{ var('forecast_run_rate_days') }}
        ), 0) as double) / {{ var('forecast_run_rate_days') }} as run_rate_daily,
        cast(coalesce(sum(won_known.amount) filter (
            where won_known.closed_date between periods.season_start_date and periods.season_end_date
        ), 0) as double)
        / ({{ days_between('periods.season_start_date', 'periods.season_end_date') }} + 1) as season_rate_daily,
        cast(coalesce(sum(won_known.amount) filter (
            where
                won_known.closed_date > periods.forecast_date - 364 - {{ var('forecast_run_rate_days') }}
                and won_known.closed_date <= periods.forecast_date - 364
        ), 0) as double) / {{ var('forecast_run_rate_days') }} as year_ago_run_rate_daily
    from periods
    left join won_known
        on periods.forecast_date = won_known.forecast_date
    group by periods.period_grain, periods.period_start_date, periods.season_start_date, periods.season_end_date

),

pipeline_expected as (

    select
        periods.period_grain,
        periods.period_start_date,
        count(pipeline_daily.opportunity_id) as pipeline_deal_count,
        coalesce(sum(pipeline_daily.weighted_amount), 0) as pipeline_expected_amount
    from periods
    left join pipeline_daily
        on
            periods.forecast_date = pipeline_daily.snapshot_date
            and greatest(pipeline_daily.expected_close_date, periods.forecast_date + 1)
            between periods.period_start_date and periods.period_end_date
    group by periods.period_grain, periods.period_start_date

),

won_known_by_period as (

    -- per forecast date: won per past period of each grain, as known on that date
    select
        periods.period_grain,
        periods.period_start_date,
        periods.forecast_date,
        past.period_start_date as past_period_start_date,
        coalesce(sum(won_known.amount), 0) as won_amount
    from periods
    inner join periods as past
        on
            periods.period_grain = past.period_grain
            and past.period_end_date <= periods.forecast_date
    left join won_known
        on
            periods.forecast_date = won_known.forecast_date
            and won_known.closed_date between past.period_start_date and past.period_end_date
    group by all

),

recent_past_periods as (

    -- the last calibration_periods complete periods before each forecast
    select
        won_known_by_period.period_grain,
        won_known_by_period.period_start_date,
        won_known_by_period.won_amount,
        past_pipeline.pipeline_expected_amount
    from won_known_by_period
    inner join pipeline_expected as past_pipeline
        on
            won_known_by_period.period_grain = past_pipeline.period_grain
            and won_known_by_period.past_period_start_date = past_pipeline.period_start_date
    inner join periods
        on
            won_known_by_period.period_grain = periods.period_grain
            and won_known_by_period.period_start_date = periods.period_start_date
    qualify row_number() over (
        partition by won_known_by_period.period_grain, won_known_by_period.period_start_date
        order by won_known_by_period.past_period_start_date desc
    ) <= periods.calibration_periods

),

calibration as (

    select
        period_grain,
        period_start_date,
        sum(won_amount) as calibration_won_amount,
        sum(pipeline_expected_amount) as calibration_pipeline_amount,
        count(*) as calibration_period_count
    from recent_past_periods
    group by period_grain, period_start_date

),

actuals as (

    select
        periods.period_grain,
        periods.period_start_date,
        coalesce(sum(won_opportunities.amount), 0) as actual_amount
    from periods
    left join won_opportunities
        on won_opportunities.closed_date between periods.period_start_date and periods.period_end_date
    group by periods.period_grain, periods.period_start_date

),

combined as (

    select
        periods.*,
        pipeline_expected.pipeline_deal_count,
        pipeline_expected.pipeline_expected_amount,
        case
            when calibration.calibration_pipeline_amount > 0
                then cast(calibration.calibration_won_amount as double)
                / cast(calibration.calibration_pipeline_amount as double)
        end as realization_rate,
        coalesce(calibration.calibration_period_count, 0) as calibration_period_count,
        run_rates.run_rate_daily,
        coalesce(
            run_rates.year_ago_run_rate_daily > 0
            and first_win.first_won_date <= periods.forecast_date - 364 - {{ var('forecast_run_rate_days') }} + 1,
            false
        ) as has_season_history,
        case
            when
                run_rates.year_ago_run_rate_daily > 0
                and first_win.first_won_date <= periods.forecast_date - 364 - {{ var('forecast_run_rate_days') }} + 1
                then least(
                    greatest(
                        run_rates.season_rate_daily / run_rates.year_ago_run_rate_daily,
                        {{ var('forecast_season_factor_min') }}
                    ),
                    {{ var('forecast_season_factor_max') }}
                )
            else 1.0
        end as seasonal_factor,
        actuals.actual_amount,
        periods.period_end_date <= bounds.as_of_date as is_complete,
        periods.period_start_date > bounds.as_of_date as is_future_period
    from periods
    cross join bounds
    inner join pipeline_expected
        on
            periods.period_grain = pipeline_expected.period_grain
            and periods.period_start_date = pipeline_expected.period_start_date
    inner join run_rates
        on
            periods.period_grain = run_rates.period_grain
            and periods.period_start_date = run_rates.period_start_date
    inner join actuals
        on
            periods.period_grain = actuals.period_grain
            and periods.period_start_date = actuals.period_start_date
    left join calibration
        on
            periods.period_grain = calibration.period_grain
            and periods.period_start_date = calibration.period_start_date
    left join first_win
        on periods.forecast_date = first_win.forecast_date

),

components as (

    select
        combined.*,
        combined.pipeline_expected_amount * combined.realization_rate as pipeline_component,
        combined.run_rate_daily * combined.period_days * combined.seasonal_factor as run_rate_component,
        -- no pipeline part without a realization rate, nor for a period seen from before its eve
        -- (the next quarter seen mid-quarter: most of its deals are not in the pipeline yet)
        case
            when
                combined.realization_rate is null
                or combined.forecast_date < cast(combined.period_start_date - interval 1 day as date)
                then 0
            else combined.pipeline_weight
        end as pipeline_weight_used
    from combined

),

forecasts as (

    select
        components.*,
        components.pipeline_weight_used * coalesce(components.pipeline_component, 0)
        + (1 - components.pipeline_weight_used) * components.run_rate_component as forecast_amount
    from components

),

final as (

    select
        period_grain || ':' || cast(period_start_date as string) as forecast_id,
        period_grain,
        period_start_date,
        period_end_date,
        forecast_date,
        is_complete,
        is_future_period,
        has_season_history and calibration_period_count = calibration_periods as has_full_history,
        cast(pipeline_deal_count as integer) as pipeline_deal_count,
        cast(pipeline_expected_amount as decimal(18, 2)) as pipeline_expected_amount,
        realization_rate,
        cast(calibration_period_count as integer) as calibration_period_count,
        cast(pipeline_component as decimal(18, 2)) as pipeline_component,
        cast(run_rate_daily as decimal(18, 2)) as run_rate_daily,
        seasonal_factor,
        cast(run_rate_component as decimal(18, 2)) as run_rate_component,
        cast(pipeline_weight_used as double) as pipeline_weight,
        cast(forecast_amount as decimal(18, 2)) as forecast_amount,
        cast(actual_amount as decimal(18, 2)) as actual_amount,
        case when is_complete then cast(forecast_amount - actual_amount as decimal(18, 2)) end as forecast_error,
        case
            when is_complete and actual_amount > 0
                then abs(cast(forecast_amount as double) - cast(actual_amount as double)) / cast(actual_amount as double)
        end as abs_pct_error,
        case
            when is_complete and actual_amount > 0
                then abs(cast(forecast_amount as double) - cast(actual_amount as double))
                / cast(actual_amount as double) <= {{ var('forecast_error_target') }}
        end as is_within_target
    from forecasts

)

select * from final
