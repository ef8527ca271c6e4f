-- 核查总体: every record a manager may be asked to phone-verify, with its risk score. The population
-- of a week is the week's visits and every activity with a reported customer intention, of reps who
-- have a manager (reps.manager_id). quality/verification.py draws the weekly sample from this table.
-- Reads staging like the quality detectors do: a record quarantined by a 'block' rule was still
-- reported by the rep and is worth a call.
with

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

quarantine as (
    select * from {{ ref('quarantine') }}
),

verdicts as (
    select * from {{ ref('verification_verdicts') }}
),

population as (

    select
        activities.*,
        cast(date_trunc('week', activities.activity_at) as date) as week_start_date,
        reps.rep_name,
        reps.manager_id,
        managers.rep_name as manager_name
    from activities
    inner join reps
        on activities.rep_id = reps.rep_id
    left join reps as managers
        on reps.manager_id = managers.rep_id
    where
        activities.activity_at is not null
        and reps.manager_id is not null
        and (
            activities.activity_type = '{{ var("verification_visit_activity_type") }}'
            or activities.intention_level is not null
        )

),

record_flags as (

    select
        record_id as activity_id,
        count(*) as record_flag_count
    from quarantine
    where entity = 'activities'
    group by 1

),

rep_weeks as (

    select distinct
        rep_id,
        week_start_date
    from population

),

rep_flags as (

    -- flags on any of the rep's records first seen in the lookback window up to the week's Sunday
    select
        rep_weeks.rep_id,
        rep_weeks.week_start_date,
        count(*) as rep_flag_count
    from rep_weeks
    inner join quarantine
        on
            rep_weeks.rep_id = quarantine.rep_id
            and quarantine.first_seen_date <= rep_weeks.week_start_date + 6
            and quarantine.first_seen_date
            > rep_weeks.week_start_date + 6 - {{ var('verification_risk_lookback_days') }}
    group by 1, 2

),

rep_past_fakes as (

    -- fakes confirmed on the rep's records of earlier sample weeks within the lookback window
    select
        rep_weeks.rep_id,
        rep_weeks.week_start_date,
        count(*) as rep_past_fake_count
    from rep_weeks
    inner join verdicts
        on
            rep_weeks.rep_id = verdicts.rep_id
            and verdicts.is_fake
            and verdicts.week_start_date < rep_weeks.week_start_date
            and verdicts.week_start_date
            >= rep_weeks.week_start_date - {{ var('verification_risk_lookback_days') }}
    group by 1, 2

),

signals as (

    select
        population.*,
        cast({{ minute_boundaries_between('population.activity_at', 'population.logged_at') }} as double) / 60
            as hours_to_log,
        coalesce(
            {{ minute_boundaries_between('population.activity_at', 'population.logged_at') }}
            > {{ var('verification_late_log_hours') }} * 60,
            false
        ) as is_logged_late,
        coalesce(record_flags.record_flag_count, 0) as record_flag_count,
        coalesce(rep_flags.rep_flag_count, 0) as rep_flag_count,
        coalesce(rep_past_fakes.rep_past_fake_count, 0) as rep_past_fake_count
    from population
    left join record_flags
        on population.activity_id = record_flags.activity_id
    left join rep_flags
        on
            population.rep_id = rep_flags.rep_id
            and population.week_start_date = rep_flags.week_start_date
    left join rep_past_fakes
        on
            population.rep_id = rep_past_fakes.rep_id
            and population.week_start_date = rep_past_fakes.week_start_date

),

final as (

    {%- set cap = var('verification_risk_count_cap') %}
    select
        signals.activity_id,
        signals.week_start_date,
        {{ iso_week_label('signals.week_start_date') }} as week_label,
        signals.manager_id,
        signals.manager_name,
        signals.rep_id,
        signals.rep_name,
        signals.customer_id,
        customers.customer_name,
        customers.contact_name,
        customers.contact_mobile,
        signals.activity_at,
        signals.activity_type,
        signals.city,
        signals.intention_level,
        signals.summary,
        signals.logged_at,
        signals.hours_to_log,
        signals.is_logged_late,
        signals.record_flag_count,
        signals.rep_flag_count,
        signals.rep_past_fake_count,
        cast(
            {{ var('verification_risk_weight_record_flag') }} * least(signals.record_flag_count, {{ cap }})
            + {{ var('verification_risk_weight_rep_flag') }} * least(signals.rep_flag_count, {{ cap }})
            + {{ var('verification_risk_weight_late_log') }} * cast(signals.is_logged_late as integer)
            + {{ var('verification_risk_weight_past_fake') }} * least(signals.rep_past_fake_count, {{ cap }})
            as double
        ) as risk_score
    from signals
    left join customers
        on signals.customer_id = customers.customer_id

)

select * from final
