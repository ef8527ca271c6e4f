-- 核查结论: the managers' current verdict on each verified record. A manager who sends a corrected
-- file changes the verdict: the latest loaded file wins (then the later row of that file).
with

loaded as (
    {{ manual_source('manual', 'verification_verdicts', [
        ['activity_id', 'string'],
        ['week_start_date', 'date'],
        ['week_label', 'string'],
        ['manager_id', 'string'],
        ['manager_name', 'string'],
        ['rep_id', 'string'],
        ['rep_name', 'string'],
        ['activity_at', 'timestamp'],
        ['activity_type', 'string'],
        ['stratum', 'integer'],
        ['inclusion_probability', 'double'],
        ['verdict', 'string'],
        ['verdict_text', 'string'],
        ['note', 'string'],
        ['verified_by', 'string'],
        ['verified_at', 'timestamp'],
        ['_source_file', 'string'],
        ['_row_number', 'integer'],
        ['_loaded_at', 'timestamp'],
    ]) }}
),

latest as (

    select *
    from loaded
    qualify row_number() over (
        partition by activity_id
        order by _loaded_at desc, _source_file desc, _row_number desc
    ) = 1

),

final as (

    select
        activity_id,
        week_start_date,
        week_label,
        cast(date_trunc('month', activity_at) as date) as month_start_date,
        manager_id,
        manager_name,
        rep_id,
        rep_name,
        activity_at,
        activity_type,
        stratum,
        inclusion_probability,
        verdict,
        verdict_text,
        verdict in ('confirmed', 'fake') as is_verified,
        verdict = 'fake' as is_fake,
        note,
        verified_by,
        verified_at,
        _source_file,
        _row_number,
        _loaded_at
    from latest

)

select * from final
