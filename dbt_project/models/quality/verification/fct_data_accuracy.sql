-- 数据准确率 Data accuracy (004 §6.1.3: 88% -> 97%) per rep, manager and the company, per sample
-- week and per calendar month, from the managers' phone verdicts on the weekly sample.
-- accuracy = 1 - fakes / verified records (unverifiable calls are left out); the fake rate is also
-- estimated for all the unit's records with Horvitz-Thompson weights 1 / inclusion probability
-- (ratio form, so records not yet called do not count as genuine); one confirmed fake is a veto.
-- Built from the verdicts, published next to the other marts (the packs read marts).
{{ config(schema='marts') }}

with

verdicts as (
    select * from {{ ref('verification_verdicts') }}
),

periods as (

    select
        'week' as period_type,
        week_start_date as period_start_date,
        week_start_date + 6 as period_end_date,
        week_label as period_label,
        *
    from verdicts

    union all

    select
        'month' as period_type,
        month_start_date as period_start_date,
        cast(last_day(month_start_date) as date) as period_end_date,
        left(cast(month_start_date as string), 7) as period_label,
        *
    from verdicts

),

units as (

    {#- the columns of periods that counted uses, next to the unit's (Spark has no select * exclude) -#}
    {%- set period_columns = [
        'period_type', 'period_start_date', 'period_end_date', 'period_label', 'week_start_date',
        'verdict', 'is_verified', 'is_fake', 'inclusion_probability'
    ] %}

    select
        'rep' as level,
        rep_id as unit_id,
        rep_name as unit_name,
        manager_id,
        manager_name,
        {{ period_columns | join(', ') }}
    from periods

    union all

    select
        'manager' as level,
        manager_id as unit_id,
        manager_name as unit_name,
        manager_id,
        manager_name,
        {{ period_columns | join(', ') }}
    from periods

    union all

    select
        'company' as level,
        'company' as unit_id,
        '全公司' as unit_name,
        null as manager_id,
        null as manager_name,
        {{ period_columns | join(', ') }}
    from periods

),

counted as (

    select
        period_type,
        period_start_date,
        level,
        unit_id,
        any_value(period_end_date) as period_end_date,
        any_value(period_label) as period_label,
        -- names as issued with the latest sample (the latest one given: DuckDB's arg_max skips nulls, Spark's
        -- max_by does not, hence the filters)
        max_by(unit_name, week_start_date) filter (where unit_name is not null) as unit_name,
        max_by(manager_id, week_start_date) filter (where manager_id is not null) as manager_id,
        max_by(manager_name, week_start_date) filter (where manager_name is not null) as manager_name,
        count(*) as verdict_count,
        count(*) filter (where is_verified) as verified_count,
        count(*) filter (where verdict = 'confirmed') as confirmed_count,
        count(*) filter (where is_fake) as fake_count,
        count(*) filter (where verdict = 'unverifiable') as unverifiable_count,
        -- weights summed in decimal: a sum of doubles depends on the order DuckDB's threads add them
        sum(cast(1.0 / inclusion_probability as decimal(38, 10))) filter (where is_verified) as weighted_verified,
        sum(cast(1.0 / inclusion_probability as decimal(38, 10))) filter (where is_fake) as weighted_fake
    from units
    group by period_type, period_start_date, level, unit_id

),

final as (

    select
        period_type || ':' || level || ':' || unit_id || ':' || cast(period_start_date as string)
        as data_accuracy_id,
        period_type,
        period_start_date,
        period_end_date,
        period_label,
        level,
        unit_id,
        unit_name,
        manager_id,
        manager_name,
        cast(verdict_count as integer) as verdict_count,
        cast(verified_count as integer) as verified_count,
        cast(confirmed_count as integer) as confirmed_count,
        cast(fake_count as integer) as fake_count,
        cast(unverifiable_count as integer) as unverifiable_count,
        case when verified_count > 0 then 1 - fake_count / verified_count end as accuracy_rate,
        case
            when weighted_verified > 0
                then cast(coalesce(weighted_fake, 0) as double) / cast(weighted_verified as double)
        end as fake_rate_ht,
        fake_count > 0 as has_veto,
        {{ accuracy_light('case when verified_count > 0 then 1 - fake_count / verified_count end') }}
        as status_light
    from counted

)

select * from final
