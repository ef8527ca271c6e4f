-- zombie_opportunity (quality/DEFECTS.md): an open opportunity nobody has touched - no version of the
-- record, no stage change and no activity on it - for more than var dq_zombie_idle_days (90) days before the
-- as-of date. Such deals keep the pipeline looking full. A deal quiet for 60-80 days stays unflagged.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

stage_changes as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

activities as (
    select * from {{ ref('stg_crm__activities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

open_opportunities as (

    select opportunities.*
    from opportunities
    inner join funnel_stages
        on opportunities.stage_key = funnel_stages.stage_key
    where not funnel_stages.is_closed

),

last_stage_changes as (

    select
        opportunity_id,
        max(changed_at) as last_changed_at
    from stage_changes
    group by opportunity_id

),

last_activities as (

    select
        opportunity_id,
        max(activity_at) as last_activity_at
    from activities
    where opportunity_id is not null
    group by opportunity_id

),

last_touches as (

    select
        open_opportunities.opportunity_id,
        open_opportunities.owner_rep_id,
        open_opportunities.stage_name,
        open_opportunities.amount,
        open_opportunities._extract_date,
        greatest(
            open_opportunities.updated_at,
            coalesce(last_stage_changes.last_changed_at, open_opportunities.updated_at),
            coalesce(last_activities.last_activity_at, open_opportunities.updated_at)
        ) as last_touched_at
    from open_opportunities
    left join last_stage_changes
        on open_opportunities.opportunity_id = last_stage_changes.opportunity_id
    left join last_activities
        on open_opportunities.opportunity_id = last_activities.opportunity_id

),

idle as (

    select
        last_touches.*,
        datediff('day', cast(last_touches.last_touched_at as date), warehouse_as_of.as_of_date) as idle_days
    from last_touches
    cross join warehouse_as_of

),

final as (

    select
        'zombie_opportunity' as rule_id,
        'opportunities' as entity,
        opportunity_id as record_id,
        owner_rep_id as rep_id,
        '未结商机（' || stage_name || '，金额 ' || format('{:,.2f}', amount) || ' 元）已 ' || idle_days
        || ' 天没有更新、阶段变更或活动；最后一次：' || strftime(last_touched_at, '%Y-%m-%d') as evidence,
        _extract_date as first_seen_date,
        cast(amount as decimal(18, 2)) as amount
    from idle
    where idle_days > {{ var('dq_zombie_idle_days') }}

)

select * from final
