-- Forecast accuracy (预测准确率) of the backtest, one summary row per period grain (week, quarter):
-- the mean absolute percentage error (MAPE = mean of |forecast - actual| / actual) over the complete
-- periods whose forecast had its full history (a full calibration window and a year-ago season),
-- against the domain's goal (var forecast_error_target, 15%), plus the same over every complete
-- period, the median, the weighted error (sum |error| / sum actual) and the bias.
with

forecasts as (
    select * from {{ ref('fct_sales_forecast') }}
),

scored as (

    -- errors averaged as decimals: an average of doubles depends on the order DuckDB's threads add
    -- them, and the mean is compared with the goal (is_within_target)
    select
        *,
        cast(abs_pct_error as decimal(38, 10)) as abs_pct_error_exact,
        cast(cast(forecast_error as double) / cast(actual_amount as double) as decimal(38, 10)) as pct_error_exact
    from forecasts
    where abs_pct_error is not null

),

final as (

    select
        period_grain,
        cast(count(*) filter (where has_full_history) as integer) as backtest_period_count,
        min(period_start_date) filter (where has_full_history) as first_period_start_date,
        max(period_start_date) filter (where has_full_history) as last_period_start_date,
        cast(avg(abs_pct_error_exact) filter (where has_full_history) as double) as mean_abs_pct_error,
        cast(median(abs_pct_error) filter (where has_full_history) as double) as median_abs_pct_error,
        cast(sum(abs(forecast_error)) filter (where has_full_history) as double)
        / cast(nullif(sum(actual_amount) filter (where has_full_history), 0) as double) as weighted_abs_pct_error,
        cast(avg(pct_error_exact) filter (where has_full_history) as double) as mean_pct_error,
        -- 1e0, a double: Spark's average of the decimal 1.0 keeps only 5 decimals
        avg(case when is_within_target then 1e0 else 0e0 end) filter (where has_full_history)
            as share_within_target,
        cast(count(*) as integer) as all_period_count,
        cast(avg(abs_pct_error_exact) as double) as all_periods_mean_abs_pct_error,
        cast({{ var('forecast_error_target') }} as double) as error_target,
        coalesce(avg(abs_pct_error_exact) filter (where has_full_history) <= {{ var('forecast_error_target') }}, false)
            as is_within_target
    from scored
    group by period_grain

)

select * from final
