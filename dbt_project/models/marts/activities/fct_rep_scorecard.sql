-- Composite rep scorecard per month and quarter (004 §5.1.3): the component scores of
-- int_rep_scorecard_components weighted by the scheme var scorecard_scheme picks in seed
-- scorecard_weights ('004': quantitative 60% + qualitative 40%; '002': results 50 / process 30 /
-- team 20), rounded to 2 decimals, and banded: >= var scorecard_band_excellent_min (90) excellent 优秀,
-- >= good_min (80) good 良好, >= pass_min (70) pass 达标, else needs_improvement 待改进.
-- The composite is null when a component with a weight above 0 has no score (e.g. no target).
with

components as (
    select * from {{ ref('int_rep_scorecard_components') }}
),

scorecard_weights as (
    select * from {{ ref('scorecard_weights') }}
),

reps as (
    select * from {{ ref('dim_reps') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

scheme_weights as (

    select
        coalesce(max(weight) filter (where component = 'quantitative'), 0) as quantitative_weight,
        coalesce(max(weight) filter (where component = 'qualitative'), 0) as qualitative_weight,
        coalesce(max(weight) filter (where component = 'team'), 0) as team_weight
    from scorecard_weights
    where scheme = '{{ var("scorecard_scheme") }}'

),

weighted as (

    select
        components.*,
        scheme_weights.quantitative_weight,
        scheme_weights.qualitative_weight,
        scheme_weights.team_weight,
        case
            when
                (scheme_weights.quantitative_weight > 0 and components.quantitative_score is null)
                or (scheme_weights.qualitative_weight > 0 and components.qualitative_score is null)
                or (scheme_weights.team_weight > 0 and components.team_score is null)
                then null
            else round(
                (
                    scheme_weights.quantitative_weight * coalesce(components.quantitative_score, 0)
                    + scheme_weights.qualitative_weight * coalesce(components.qualitative_score, 0)
                    + scheme_weights.team_weight * coalesce(components.team_score, 0)
                )
                / (scheme_weights.quantitative_weight + scheme_weights.qualitative_weight + scheme_weights.team_weight),
                2
            )
        end as composite_score
    from components
    cross join scheme_weights

),

final as (

    select
        weighted.rep_period_id,
        weighted.period_grain,
        weighted.period_start_date,
        weighted.period_end_date,
        weighted.period_end_date <= warehouse_as_of.as_of_date as is_complete_period,
        weighted.rep_id,
        coalesce(reps.rep_name, weighted.rep_id) as rep_name,
        weighted.team_id,
        coalesce(reps.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(reps.region, {{ unknown_label('region') }}) as region,
        weighted.target_amount,
        weighted.won_amount,
        weighted.attainment_rate,
        weighted.team_attainment_rate,
        weighted.activity_count,
        weighted.team_median_activity_count,
        weighted.new_customer_count,
        weighted.team_median_new_customer_count,
        weighted.complete_on_time_activity_count,
        weighted.quantitative_score,
        weighted.activity_score,
        weighted.new_customer_score,
        weighted.data_quality_score,
        weighted.qualitative_score,
        weighted.team_score,
        '{{ var("scorecard_scheme") }}' as weight_scheme,
        cast(weighted.quantitative_weight as double) as quantitative_weight,
        cast(weighted.qualitative_weight as double) as qualitative_weight,
        cast(weighted.team_weight as double) as team_weight,
        cast(weighted.composite_score as double) as composite_score,
        case
            when weighted.composite_score is null then null
            when weighted.composite_score >= {{ var('scorecard_band_excellent_min') }} then 'excellent'
            when weighted.composite_score >= {{ var('scorecard_band_good_min') }} then 'good'
            when weighted.composite_score >= {{ var('scorecard_band_pass_min') }} then 'pass'
            else 'needs_improvement'
        end as score_band,
        case
            when weighted.composite_score is null then null
            when weighted.composite_score >= {{ var('scorecard_band_excellent_min') }} then '优秀'
            when weighted.composite_score >= {{ var('scorecard_band_good_min') }} then '良好'
            when weighted.composite_score >= {{ var('scorecard_band_pass_min') }} then '达标'
            else '待改进'
        end as score_band_zh
    from weighted
    cross join warehouse_as_of
    left join reps
        on weighted.rep_id = reps.rep_id

)

select * from final
