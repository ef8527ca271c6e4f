-- The component scores (0..100) of each quota rep's scorecard per month and quarter, period to date
-- (the as-of date's own month and quarter count up to the as-of date):
--   quantitative  = 100 x min(attainment, cap) / cap; attainment = won amount (int_won_opportunities,
--                   by closed_date, owner rep) / target (int_targets_spread_daily); null without target
--   qualitative   = weighted mean (vars scorecard_qualitative_weight_*) of
--                     activity score      = 100 x min(activities / team median, 1)
--                     new-customer score  = 100 x min(new customers owned / team median, 1)
--                     data-quality score  = 100 x activities complete and logged on time / activities
--                   (a team median of 0 gives 100; a rep without activities gets data quality 0; when
--                   the whole team logged no activity in the period - e.g. before the activity
--                   history starts - activity and data quality are null and the mean uses the rest)
--   team          = 100 x min(team attainment, cap) / cap (the rep's team: its reps' wins / targets)
-- One row per rep and period with a target, a win or an activity in it.
with

targets_daily as (
    select * from {{ ref('int_targets_spread_daily') }}
),

won_opportunities as (
    select * from {{ ref('int_won_opportunities') }}
),

activities as (
    select * from {{ ref('int_activities_enriched') }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

reps as (
    select * from {{ ref('clean_crm__reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

quota_reps as (

    select rep_id, team_id from reps where role = 'rep'

),

dated_facts as (

    -- every fact dated up to the as-of date, in one shape: rep, day, what it contributes
    select
        rep_id,
        target_date as fact_date,
        target_amount_daily as target_amount,
        0 as won_amount,
        0 as activity_count,
        0 as complete_on_time_count,
        0 as new_customer_count
    from targets_daily
    union all
    select owner_rep_id, closed_date, 0, amount, 0, 0, 0
    from won_opportunities
    where closed_date is not null
    union all
    select rep_id, activity_date, 0, 0, 1, case when is_complete and is_logged_on_time then 1 else 0 end, 0
    from activities
    union all
    select owner_rep_id, created_date, 0, 0, 0, 0, 1
    from customers
    where owner_rep_id is not null

),

facts_to_date as (

    select dated_facts.*
    from dated_facts
    inner join quota_reps
        on dated_facts.rep_id = quota_reps.rep_id
    where dated_facts.fact_date <= (select as_of_date from warehouse_as_of)

),

by_grain as (

    {% for grain in ['month', 'quarter'] %}
    select
        '{{ grain }}' as period_grain,
        cast(date_trunc('{{ grain }}', fact_date) as date) as period_start_date,
        rep_id,
        sum(target_amount) as target_amount,
        sum(won_amount) as won_amount,
        sum(activity_count) as activity_count,
        sum(complete_on_time_count) as complete_on_time_count,
        sum(new_customer_count) as new_customer_count
    from facts_to_date
    group by 1, 2, 3
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

with_team as (

    select
        by_grain.*,
        quota_reps.team_id,
        sum(by_grain.target_amount) over team_period as team_target_amount,
        sum(by_grain.won_amount) over team_period as team_won_amount,
        sum(by_grain.activity_count) over team_period as team_activity_count,
        median(by_grain.activity_count) over team_period as team_median_activity_count,
        median(by_grain.new_customer_count) over team_period as team_median_new_customer_count
    from by_grain
    inner join quota_reps
        on by_grain.rep_id = quota_reps.rep_id
    window team_period as (partition by by_grain.period_grain, by_grain.period_start_date, quota_reps.team_id)

),

rated as (

    select
        *,
        case when target_amount > 0 then cast(won_amount as double) / cast(target_amount as double) end
            as attainment_rate,
        case
            when team_target_amount > 0 then cast(team_won_amount as double) / cast(team_target_amount as double)
        end as team_attainment_rate,
        case
            when team_activity_count = 0 then null
            when team_median_activity_count = 0 then 1.0
            else least(activity_count / team_median_activity_count, 1)
        end as activity_ratio,
        case
            when team_median_new_customer_count = 0 then 1.0
            else least(new_customer_count / team_median_new_customer_count, 1)
        end as new_customer_ratio,
        case
            when team_activity_count = 0 then null
            when activity_count > 0 then complete_on_time_count / activity_count
            else 0
        end as data_quality_ratio
    from with_team

),

scored as (

    select
        *,
        -- least() skips nulls in DuckDB: no target must stay no score
        case
            when attainment_rate is not null
                then 100 * least(attainment_rate, {{ var('scorecard_attainment_cap') }})
                / {{ var('scorecard_attainment_cap') }}
        end as quantitative_score,
        100 * activity_ratio as activity_score,
        100 * new_customer_ratio as new_customer_score,
        100 * data_quality_ratio as data_quality_score,
        case
            when team_attainment_rate is not null
                then 100 * least(team_attainment_rate, {{ var('scorecard_attainment_cap') }})
                / {{ var('scorecard_attainment_cap') }}
        end as team_score
    from rated

),

final as (

    select
        period_grain || ':' || rep_id || ':' || cast(period_start_date as string) as rep_period_id,
        period_grain,
        period_start_date,
        cast(
            case period_grain
                when 'month' then period_start_date + interval 1 month
                else period_start_date + interval 3 month
            end - interval 1 day as date
        ) as period_end_date,
        rep_id,
        team_id,
        cast(round(target_amount, 2) as decimal(18, 2)) as target_amount,
        cast(won_amount as decimal(18, 2)) as won_amount,
        cast(attainment_rate as double) as attainment_rate,
        cast(team_attainment_rate as double) as team_attainment_rate,
        cast(activity_count as integer) as activity_count,
        cast(team_median_activity_count as double) as team_median_activity_count,
        cast(new_customer_count as integer) as new_customer_count,
        cast(team_median_new_customer_count as double) as team_median_new_customer_count,
        cast(complete_on_time_count as integer) as complete_on_time_activity_count,
        cast(quantitative_score as double) as quantitative_score,
        cast(activity_score as double) as activity_score,
        cast(new_customer_score as double) as new_customer_score,
        cast(data_quality_score as double) as data_quality_score,
        cast(
            (
                coalesce({{ var('scorecard_qualitative_weight_activity') }} * activity_score, 0)
                + {{ var('scorecard_qualitative_weight_new_customers') }} * new_customer_score
                + coalesce({{ var('scorecard_qualitative_weight_data_quality') }} * data_quality_score, 0)
            )
            / (
                case when activity_score is null then 0 else {{ var('scorecard_qualitative_weight_activity') }} end
                + {{ var('scorecard_qualitative_weight_new_customers') }}
                + case
                    when data_quality_score is null then 0
                    else {{ var('scorecard_qualitative_weight_data_quality') }}
                end
            ) as double
        ) as qualitative_score,
        cast(team_score as double) as team_score
    from scored
    -- a period with only new customers (e.g. before targets and activities are recorded) is no scorecard
    where target_amount > 0 or won_amount > 0 or activity_count > 0

)

select * from final
