-- Money must agree across layers: in fct_attainment_periods
--   (1) every rep row's target is its daily spread targets summed over the period (rounded to the
--       cent), its target to date the same up to the as-of date, its actual the amount it won in the
--       period (int_won_opportunities by closed_date);
--   (2) every team, region and company row is the sum of its reps' rows (target, target to date,
--       actual, deals), so a month or quarter is a sum of daily rows at every level;
--   (3) over the periods of one type, the company's actual is the amount won up to the as-of date.
-- Returns the rows that disagree.
{{ config(meta={'dagster': {'ref': {'name': 'fct_attainment_periods'}}}) }}  {#- its asset check in Dagster -#}
with

periods as (
    select * from {{ ref('fct_attainment_periods') }}
),

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

won as (
    select * from {{ ref('int_won_opportunities') }}
    where closed_date <= (select as_of_date from {{ ref('warehouse_as_of') }})
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

rep_rows as (
    select * from periods where level = 'rep'
),

rep_target_days as (

    -- the daily targets of each rep row's period, in one pass for the whole period and its part up to the
    -- as-of date
    select
        rep_rows.attainment_period_id,
        round(coalesce(sum(targets_daily.target_amount_daily), 0), 2) as target_from_days,
        round(coalesce(sum(targets_daily.target_amount_daily) filter (
            where targets_daily.target_date <= warehouse_as_of.as_of_date
        ), 0), 2) as target_to_date_from_days
    from rep_rows
    cross join warehouse_as_of
    left join targets_daily
        on
            targets_daily.rep_id = rep_rows.unit_id
            and targets_daily.target_date between rep_rows.period_start_date and rep_rows.period_end_date
    group by rep_rows.attainment_period_id

),

rep_daily_check as (

    select
        'rep row vs daily rows' as check_name,
        rep_rows.attainment_period_id,
        rep_rows.target_amount as mart_value,
        rep_target_days.target_from_days,
        rep_rows.target_to_date_amount,
        rep_target_days.target_to_date_from_days,
        rep_rows.actual_amount,
        (
            select coalesce(sum(won.amount), 0)
            from won
            where
                won.owner_rep_id = rep_rows.unit_id
                and won.closed_date between rep_rows.period_start_date and rep_rows.period_end_date
        ) as actual_from_won
    from rep_rows
    inner join rep_target_days
        on rep_rows.attainment_period_id = rep_target_days.attainment_period_id

),

rep_failures as (

    select check_name, attainment_period_id
    from rep_daily_check
    where
        mart_value != target_from_days
        or target_to_date_amount != target_to_date_from_days
        or actual_amount != actual_from_won

),

rep_sums as (

    select
        period_type,
        period_start_date,
        level,
        unit_id,
        sum(target_amount) as target_amount,
        sum(target_to_date_amount) as target_to_date_amount,
        sum(actual_amount) as actual_amount,
        sum(won_deal_count) as won_deal_count
    from (
        select period_type, period_start_date, 'team' as level, team_id as unit_id, target_amount,
            target_to_date_amount, actual_amount, won_deal_count
        from rep_rows
        union all
        select period_type, period_start_date, 'region', region, target_amount,
            target_to_date_amount, actual_amount, won_deal_count
        from rep_rows
        union all
        select period_type, period_start_date, 'company', 'company', target_amount,
            target_to_date_amount, actual_amount, won_deal_count
        from rep_rows
    ) as rolled
    group by 1, 2, 3, 4

),

level_failures as (

    select
        'level row vs sum of reps' as check_name,
        periods.attainment_period_id
    from periods
    left join rep_sums
        on
            periods.period_type = rep_sums.period_type
            and periods.period_start_date = rep_sums.period_start_date
            and periods.level = rep_sums.level
            and periods.unit_id = rep_sums.unit_id
    where
        periods.level != 'rep'
        and (
            periods.target_amount != coalesce(rep_sums.target_amount, 0)
            or periods.target_to_date_amount != coalesce(rep_sums.target_to_date_amount, 0)
            or periods.actual_amount != coalesce(rep_sums.actual_amount, 0)
            or periods.won_deal_count != coalesce(rep_sums.won_deal_count, 0)
        )

),

total_failures as (

    select
        'company actual vs won' as check_name,
        periods.period_type as attainment_period_id
    from periods
    where periods.level = 'company'
    group by periods.period_type
    having sum(periods.actual_amount) != (select coalesce(sum(amount), 0) from won where closed_date is not null)

),

final as (
    select * from rep_failures
    union all
    select * from level_failures
    union all
    select * from total_failures
)

select * from final
