-- stage_jump (quality/DEFECTS.md): a forward stage change that skips two or more main stages, i.e. whose
-- stage_order rises by var dq_stage_jump_min_rise (3) or more (线索获取 -> 商务谈判, 需求挖掘 -> 签约成交).
-- Skipping exactly one stage (需求挖掘 -> 商务谈判, +2) is how real deals move and stays unflagged; a change
-- to a closed stage that is not a win (丢单) is off the main path. One row per opportunity.
with

stage_changes as (
    select * from {{ ref('stg_crm__opportunity_stage_history') }}
),

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

jumps as (

    select
        stage_changes.opportunity_id,
        stage_changes.from_stage_name,
        stage_changes.to_stage_name,
        to_stages.stage_order - from_stages.stage_order - 1 as skipped_stages,
        stage_changes.changed_at,
        stage_changes._extract_date
    from stage_changes
    -- inner joins: the creation row (no from-stage) is not a change
    inner join funnel_stages as from_stages
        on stage_changes.from_stage_key = from_stages.stage_key
    inner join funnel_stages as to_stages
        on stage_changes.to_stage_key = to_stages.stage_key
    where
        not (to_stages.is_closed and not to_stages.is_won)
        and to_stages.stage_order - from_stages.stage_order >= {{ var('dq_stage_jump_min_rise') }}

),

per_opportunity as (

    select
        opportunity_id,
        min(_extract_date) as first_seen_date,
        string_agg(
            strftime(changed_at, '%Y-%m-%d') || ' 阶段从「' || from_stage_name || '」直接改为「'
            || to_stage_name || '」，跳过 ' || skipped_stages || ' 个阶段',
            '；' order by changed_at
        ) as evidence
    from jumps
    group by opportunity_id

),

final as (

    select
        'stage_jump' as rule_id,
        'opportunities' as entity,
        per_opportunity.opportunity_id as record_id,
        opportunities.owner_rep_id as rep_id,
        per_opportunity.evidence,
        per_opportunity.first_seen_date,
        cast(opportunities.amount as decimal(18, 2)) as amount
    from per_opportunity
    left join opportunities
        on per_opportunity.opportunity_id = opportunities.opportunity_id

)

select * from final
