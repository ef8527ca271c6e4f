-- stage_jump (quality/DEFECTS.md): an opportunity whose recorded path through the funnel is not one it
-- really took. Two shapes, read from the stage timestamps (stg_crm__opportunity_stage_history):
--
--   skipped: a forward stage change that skips two or more main stages, i.e. whose stage_order rises by
--     var dq_stage_jump_min_rise (3) or more (线索获取 -> 商务谈判, 需求挖掘 -> 签约成交).
--   back-filled: a rep who knows skipped stages are flagged enters the missing stages afterwards, all at
--     once. Every stage is then present, but none is real. An intermediate stage is not real when it is
--     hollow - entered by a forward change and left by the next forward change within
--     var dq_stage_backfill_max_minutes (60) minutes or on the same calendar day (the whole path typed on
--     the day the deal is won; identical timestamps hold a stage for 0 minutes) - or a ghost: entered after
--     the first delivery, yet no delivered version of the deal was ever saved in it (history written
--     afterwards with back-dated timestamps). Flagged: var dq_stage_backfill_min_hollow (2) or more stages
--     not real, or one that lasted less than those 60 minutes, or one ghost the history says lasted days.
--     A real stage lasts at least until the next meeting with the customer, which is another day.
--
-- Legitimate and unflagged: skipping exactly one stage (需求挖掘 -> 商务谈判, +2), which real deals do; a deal
-- that moves quickly, one stage a day or every few days; a single stage left hours after it was entered on
-- the same day (a demo that turns into a negotiation that afternoon). The creation row (no from-stage) is not a change,
-- and a change to a closed stage that is not a win (丢单) is off the main path. One row per opportunity.
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

-- forward changes along the main path (a change to 丢单 or backwards is left out)
forward_changes as (

    select
        stage_changes.opportunity_id,
        stage_changes.stage_change_id,
        stage_changes.from_stage_name,
        stage_changes.to_stage_name,
        to_stages.stage_order - from_stages.stage_order as rise,
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
        and to_stages.stage_order > from_stages.stage_order

),

{%- set jump -%}
    {{ timestamp_text('changed_at', '%Y-%m-%d') }} || ' 阶段从「' || from_stage_name || '」直接改为「'
            || to_stage_name || '」，跳过 ' || (rise - 1) || ' 个阶段'
{%- endset %}
jumps as (

    select
        opportunity_id,
        min(_extract_date) as first_seen_date,
        {{ ordered_string_agg(jump, "'；'", 'changed_at') }} as evidence
    from forward_changes
    where rise >= {{ var('dq_stage_jump_min_rise') }}
    group by opportunity_id

),

-- every stage the delivered versions of the opportunity were ever saved in (as-of filtered like staging)
raw_versions as (

    select distinct
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('stage') }} as stage_name
    from {{ source('crm', 'opportunities') }}
    where {{ as_of_condition() }}

),

-- stage changes are only checked against versions delivered after the first delivery: a first load holds
-- one version per deal, not its history
first_delivery as (

    select min(_extract_date) as first_extract_date
    from {{ source('crm', 'opportunities') }}
    where {{ as_of_condition() }}

),

-- each stage entered by a forward change, with the change that left it (the next forward change)
stage_stays as (

    select
        forward_changes.*,
        lead(changed_at) over (
            partition by opportunity_id order by changed_at, stage_change_id
        ) as left_at,
        lead(_extract_date) over (
            partition by opportunity_id order by changed_at, stage_change_id
        ) as left_extract_date
    from forward_changes

),

-- a stage is not real when it was left within minutes or on the day it was entered (hollow), or when no
-- delivered version of the deal was ever saved in it although it was entered after the first delivery
-- (ghost: the history was written afterwards, with back-dated timestamps)
stage_flags as (

    select
        stage_stays.*,
        coalesce(
            stage_stays.left_at
            <= stage_stays.changed_at + interval {{ var('dq_stage_backfill_max_minutes') }} minutes
            or cast(stage_stays.left_at as date) = cast(stage_stays.changed_at as date),
            false
        ) as is_hollow,
        raw_versions.stage_name is null
        and cast(stage_stays.changed_at as date) > first_delivery.first_extract_date as is_ghost
    from stage_stays
    cross join first_delivery
    left join raw_versions
        on
            stage_stays.opportunity_id = raw_versions.opportunity_id
            and stage_stays.to_stage_name = raw_versions.stage_name
    -- only intermediate stages: a win is real (its order says so), and its version is often the same day
    where stage_stays.to_stage_name not in (select stage_name from funnel_stages where is_closed)

),

unreal_stages as (
    select * from stage_flags where is_hollow or is_ghost
),

backfills as (

    select
        opportunity_id,
        count(*) filter (where is_hollow) as hollow_count,
        greatest(max(_extract_date), max(left_extract_date)) as first_seen_date,
        -- the hollow stages: from the first entered to the last left
        min(changed_at) filter (where is_hollow) as first_at,
        max(left_at) filter (where is_hollow) as last_at,
        {{ ordered_string_agg('to_stage_name', "'、'", 'changed_at') }} filter (where is_hollow) as hollow_names,
        {{ ordered_string_agg('to_stage_name', "'、'", 'changed_at') }} filter (
            where is_ghost and not is_hollow
        ) as ghost_names
    from unreal_stages
    group by opportunity_id
    having
        count(*) >= {{ var('dq_stage_backfill_min_hollow') }}
        -- one stage is enough when it lasted minutes, or when the history says the deal sat in it for days
        -- while no version of the deal was saved in it
        or min({{ minute_boundaries_between('changed_at', 'left_at') }}) < {{ var('dq_stage_backfill_max_minutes') }}
        or count(*) filter (where is_ghost and not is_hollow) > 0

),

backfill_evidence as (

    select
        opportunity_id,
        first_seen_date,
        concat_ws(
            '；',
            -- hollow stages + the change that left the last one = the changes entered together
            case when hollow_count > 0 then
                (hollow_count + 1) || ' 次阶段变更集中在 '
                || case
                    when {{ minute_boundaries_between('first_at', 'last_at') }} < 60
                        then {{ timestamp_text('first_at', '%Y-%m-%d %H:%M') }} || ' 起 '
                        || {{ minute_boundaries_between('first_at', 'last_at') }} || ' 分钟内录入'
                    when cast(first_at as date) = cast(last_at as date)
                        then {{ timestamp_text('first_at', '%Y-%m-%d') }} || ' 当天录入（'
                        || {{ timestamp_text('first_at', '%H:%M') }} || '-' || {{ timestamp_text('last_at', '%H:%M') }} || '）'
                    -- hollow stages on different days: each left on the day it was entered
                    else {{ timestamp_text('first_at', '%Y-%m-%d') }} || ' 至 ' || {{ timestamp_text('last_at', '%Y-%m-%d') }}
                        || ' 间的几个单日内录入'
                end
                || '，阶段「' || hollow_names || '」没有真实停留'
            end,
            case when ghost_names is not null then
                '阶段历史中的「' || ghost_names || '」从未出现在商机的任何一次保存中（补录的阶段历史）'
            end
        ) as evidence
    from backfills

),

per_opportunity as (

    select
        coalesce(jumps.opportunity_id, backfill_evidence.opportunity_id) as opportunity_id,
        least(jumps.first_seen_date, backfill_evidence.first_seen_date) as first_seen_date,
        concat_ws('；', jumps.evidence, backfill_evidence.evidence) as evidence
    from jumps
    full outer join backfill_evidence
        on jumps.opportunity_id = backfill_evidence.opportunity_id

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
