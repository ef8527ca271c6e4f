-- Attainment against a seasonally adjusted target (004 §5.3.2), per month and quarter, per rep,
-- team, region and company. Method: each rep's targets over the periods of a calendar year that
-- carry a target (the year's plan, future periods included) are re-timed by the seasonal index:
--   adjusted target(p) = year's targeted total x index(p) / sum of index over the year's targeted periods
-- so the year's total is kept and only its split over months (quarters) follows the seasonal
-- pattern. Flat targets thus get a Q4 uplift; targets already set seasonally barely change.
-- Higher levels add their reps' adjusted targets. Rows: the periods of fct_attainment_periods
-- (started by the as-of date), period types month and quarter.
with

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

seasonal_index as (
    select * from {{ ref('fct_seasonal_index') }}
),

attainment_periods as (
    select * from {{ ref('fct_attainment_periods') }}
    where period_type in ('month', 'quarter')
),

period_types as (
    select * from (values ('month'), ('quarter')) as period_types (period_type)
),

rep_period_targets as (

    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, targets_daily.target_date) as date) as period_start_date,
        targets_daily.rep_id,
        sum(targets_daily.target_amount_daily) as target_amount
    from targets_daily
    cross join period_types
    group by 1, 2, 3

),

rep_period_indexed as (

    select
        rep_period_targets.*,
        year(rep_period_targets.period_start_date) as target_year,
        -- decimal: summed over the rep's year below; a sum of doubles depends on the order DuckDB's
        -- threads add them and moves the rounded cents between builds
        -- (9, 4) and the year's target as (28, 10) below: their product fits 38 digits exactly on every
        -- engine (Spark rounds a wider decimal product to 6 decimals)
        cast(seasonal_index.seasonal_index as decimal(9, 4)) as seasonal_index
    from rep_period_targets
    inner join seasonal_index
        on
            rep_period_targets.period_type = seasonal_index.period_type
            and seasonal_index.period_of_year = case rep_period_targets.period_type
                when 'month' then month(rep_period_targets.period_start_date)
                else quarter(rep_period_targets.period_start_date)
            end
    where rep_period_targets.target_amount > 0

),

rep_adjusted as (

    select
        period_type,
        period_start_date,
        rep_id,
        seasonal_index,
        cast(round(cast(
            cast(cast(sum(target_amount) over rep_year as decimal(28, 10)) * seasonal_index as double)
            / cast(sum(seasonal_index) over rep_year as double)
            as decimal(38, 10)
        ), 2) as decimal(18, 2)) as adjusted_target_amount,
        cast(round(sum(target_amount) over rep_year, 2) as decimal(18, 2)) as year_target_amount
    from rep_period_indexed
    window rep_year as (partition by period_type, rep_id, target_year)

),

rep_adjusted_with_units as (

    select
        rep_adjusted.*,
        coalesce(reps.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(reps.region, {{ unknown_label('region') }}) as region
    from rep_adjusted
    left join reps
        on rep_adjusted.rep_id = reps.rep_id

),

adjusted_by_unit as (

    select
        period_type,
        period_start_date,
        'rep' as level,
        rep_id as unit_id,
        adjusted_target_amount,
        year_target_amount
    from rep_adjusted_with_units

    union all

    select
        period_type,
        period_start_date,
        'team' as level,
        team_id as unit_id,
        sum(adjusted_target_amount),
        sum(year_target_amount)
    from rep_adjusted_with_units
    group by 1, 2, 4

    union all

    select
        period_type,
        period_start_date,
        'region' as level,
        region as unit_id,
        sum(adjusted_target_amount),
        sum(year_target_amount)
    from rep_adjusted_with_units
    group by 1, 2, 4

    union all

    select
        period_type,
        period_start_date,
        'company' as level,
        'company' as unit_id,
        sum(adjusted_target_amount),
        sum(year_target_amount)
    from rep_adjusted_with_units
    group by 1, 2

),

joined as (

    select
        attainment_periods.attainment_period_id,
        attainment_periods.period_type,
        attainment_periods.period_start_date,
        attainment_periods.period_end_date,
        attainment_periods.period_label,
        attainment_periods.level,
        attainment_periods.unit_id,
        attainment_periods.unit_name,
        attainment_periods.region,
        attainment_periods.team_id,
        attainment_periods.team_name,
        attainment_periods.is_period_complete,
        seasonal_index.seasonal_index,
        seasonal_index.index_source,
        attainment_periods.target_amount,
        coalesce(adjusted_by_unit.adjusted_target_amount, 0) as seasonally_adjusted_target_amount,
        coalesce(adjusted_by_unit.year_target_amount, 0) as year_target_amount,
        attainment_periods.actual_amount,
        attainment_periods.attainment_rate
    from attainment_periods
    inner join seasonal_index
        on
            attainment_periods.period_type = seasonal_index.period_type
            and seasonal_index.period_of_year = case attainment_periods.period_type
                when 'month' then month(attainment_periods.period_start_date)
                else quarter(attainment_periods.period_start_date)
            end
    left join adjusted_by_unit
        on
            attainment_periods.period_type = adjusted_by_unit.period_type
            and attainment_periods.period_start_date = adjusted_by_unit.period_start_date
            and attainment_periods.level = adjusted_by_unit.level
            and attainment_periods.unit_id = adjusted_by_unit.unit_id

),

final as (

    select
        attainment_period_id,
        period_type,
        period_start_date,
        period_end_date,
        period_label,
        level,
        unit_id,
        unit_name,
        region,
        team_id,
        team_name,
        is_period_complete,
        seasonal_index,
        index_source,
        target_amount,
        cast(seasonally_adjusted_target_amount as decimal(18, 2)) as seasonally_adjusted_target_amount,
        cast(year_target_amount as decimal(18, 2)) as year_target_amount,
        actual_amount,
        attainment_rate,
        case
            when seasonally_adjusted_target_amount = 0 then null
            else cast(actual_amount as double) / cast(seasonally_adjusted_target_amount as double)
        end as seasonally_adjusted_attainment_rate,
        {{ status_light(
            'case when seasonally_adjusted_target_amount = 0 then null '
            ~ 'else cast(actual_amount as double) / cast(seasonally_adjusted_target_amount as double) end'
        ) }} as seasonally_adjusted_status_light
    from joined

)

select * from final
