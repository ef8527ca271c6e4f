-- zombie_opportunity (quality/DEFECTS.md): an open opportunity that has not really moved for more than
-- var dq_zombie_idle_days (90) days before the as-of date. Such deals keep the pipeline looking full.
--
-- A rep who knows that "no update for 90 days" is flagged touches the record without moving the deal, so
-- an update alone does not count. What counts as a touch:
--   - a version whose material fields differ from the version before: stage, amount (by more than
--     var dq_zombie_min_amount_change, 1%), product, customer (read from every delivered version in the raw
--     table, as-of filtered like staging). A version that only changes the note (next_step), the
--     probability, the owner or the promised date, nudges the amount, or re-saves the same values, is not one;
--   - a stage change in the stage history;
--   - a real activity on the deal: a visit (拜访) of at least var dq_zombie_min_visit_minutes (15) minutes.
--     Calls and e-mails are touches, however long: "sent material, keeping in touch" every month keeps a
--     record fresh without moving the deal; a deal that moves gets a meeting or a change of its figures.
-- A deal without progress for more than 90 days but touched within them (a note edit, a pushed date, a token
-- activity) is flagged once it has had no progress for more than var dq_zombie_touched_idle_days (120): a
-- touch may carry news (a note that the customer is deciding) and buys a month's doubt, not more.
-- A long-cycle deal that really progresses slowly (its amount or stage changes, real visits) is not flagged,
-- nor is a deal quiet for 60-80 days. The evidence says what the edits since the last real touch changed.
with

raw_versions as (

    select
        {{ from_text('opportunity_id') }} as opportunity_id,
        {{ from_text('stage') }} as stage_name,
        {{ from_text('amount', 'decimal(18, 2)') }} as amount,
        {{ from_text('product_id') }} as product_id,
        {{ from_text('customer_id') }} as customer_id,
        {{ from_text('next_step') }} as next_step,
        {{ from_text('expected_close_date', 'date') }} as expected_close_date,
        {{ from_text('created_at', 'timestamp') }} as created_at,
        {{ from_text('updated_at', 'timestamp') }} as updated_at,
        _extract_date,
        _row_number
    from {{ source('crm', 'opportunities') }}
    where {{ as_of_condition() }}

),

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

versions as (

    select
        raw_versions.*,
        lag(raw_versions.opportunity_id) over by_version is null as is_first,
        lag(stage_name) over by_version as previous_stage_name,
        lag(amount) over by_version as previous_amount,
        lag(product_id) over by_version as previous_product_id,
        lag(customer_id) over by_version as previous_customer_id,
        lag(next_step) over by_version as previous_next_step,
        lag(expected_close_date) over by_version as previous_close_date
    from raw_versions
    window by_version as (
        partition by opportunity_id order by _extract_date, updated_at, _row_number
    )

),

-- what each version changed: material (the deal moved) or cosmetic (the record was only touched). An amount
-- nudged by less than var dq_zombie_min_amount_change (1%) is a touch, not a renegotiation.
classified as (

    select
        *,
        is_first
        or stage_name is distinct from previous_stage_name
        or product_id is distinct from previous_product_id
        or customer_id is distinct from previous_customer_id
        or (amount is null) != (previous_amount is null)
        or coalesce(
            abs(amount - previous_amount) > {{ var('dq_zombie_min_amount_change') }} * abs(previous_amount),
            false
        )
            as is_material,
        next_step is distinct from previous_next_step as note_changed,
        expected_close_date > previous_close_date as close_date_pushed
    from versions

),

last_material_versions as (

    select
        opportunity_id,
        -- the creation counts as a touch even when the first delivery holds a later version only
        greatest(max(updated_at) filter (where is_material), min(created_at)) as last_material_at
    from classified
    group by opportunity_id

),

last_stage_changes as (

    select
        opportunity_id,
        max(changed_at) as last_changed_at
    from stage_changes
    group by opportunity_id

),

last_real_activities as (

    select
        opportunity_id,
        max(activity_at) as last_activity_at
    from activities
    where
        opportunity_id is not null
        and activity_type = '拜访'
        and coalesce(duration_minutes, 0) >= {{ var('dq_zombie_min_visit_minutes') }}
    group by opportunity_id

),

last_touches as (

    select
        open_opportunities.opportunity_id,
        open_opportunities.owner_rep_id,
        open_opportunities.stage_name,
        open_opportunities.amount,
        open_opportunities.updated_at,
        open_opportunities._extract_date,
        greatest(
            coalesce(last_material_versions.last_material_at, open_opportunities.created_at),
            coalesce(last_stage_changes.last_changed_at, open_opportunities.created_at),
            coalesce(last_real_activities.last_activity_at, open_opportunities.created_at),
            -- a deal without any delivered version history (staging only): its last update
            case when last_material_versions.opportunity_id is null then open_opportunities.updated_at end
        ) as last_touched_at
    from open_opportunities
    left join last_material_versions
        on open_opportunities.opportunity_id = last_material_versions.opportunity_id
    left join last_stage_changes
        on open_opportunities.opportunity_id = last_stage_changes.opportunity_id
    left join last_real_activities
        on open_opportunities.opportunity_id = last_real_activities.opportunity_id

),

idle as (

    select
        last_touches.*,
        {{ days_between('cast(last_touches.last_touched_at as date)', 'warehouse_as_of.as_of_date') }} as idle_days
    from last_touches
    cross join warehouse_as_of

),

-- the edits since the last real touch, and what they changed
touches_since as (

    select
        idle.opportunity_id,
        count(classified.opportunity_id) as edit_count,
        count(*) filter (where classified.close_date_pushed) as pushed_count,
        count(*) filter (where classified.note_changed and not classified.close_date_pushed) as note_count,
        max(classified.updated_at) as last_edit_at
    from idle
    left join classified
        on
            idle.opportunity_id = classified.opportunity_id
            and classified.updated_at > idle.last_touched_at
            and not classified.is_material
    group by idle.opportunity_id

),

token_activities as (

    select
        idle.opportunity_id,
        count(activities.activity_id) as token_count,
        max(activities.activity_at) as last_token_at
    from idle
    left join activities
        on
            idle.opportunity_id = activities.opportunity_id
            and activities.activity_at > idle.last_touched_at
    group by idle.opportunity_id

),

final as (

    select
        'zombie_opportunity' as rule_id,
        'opportunities' as entity,
        idle.opportunity_id as record_id,
        idle.owner_rep_id as rep_id,
        '未结商机（' || idle.stage_name || '，金额 ' || {{ number_text('idle.amount') }} || ' 元）已 '
        || idle.idle_days || ' 天没有实质进展（阶段、金额、产品、客户变更或真实拜访/通话）；最后一次：'
        || {{ timestamp_text('idle.last_touched_at', '%Y-%m-%d') }}
        || case
            when touches_since.edit_count > 0 or token_activities.token_count > 0 then
                '。此后 ' || concat_ws(
                    '；',
                    case when touches_since.edit_count > 0 then
                        touches_since.edit_count || ' 次编辑未改动实质内容（其中推迟预计签约日期 '
                        || touches_since.pushed_count || ' 次，只改备注/下一步 ' || touches_since.note_count
                        || ' 次），最近一次 ' || {{ timestamp_text('idle.updated_at', '%Y-%m-%d') }}
                    end,
                    case when token_activities.token_count > 0 then
                        token_activities.token_count || ' 条电话、邮件或极短的拜访'
                    end
                )
            else ''
        end as evidence,
        idle._extract_date as first_seen_date,
        cast(idle.amount as decimal(18, 2)) as amount
    from idle
    inner join touches_since
        on idle.opportunity_id = touches_since.opportunity_id
    inner join token_activities
        on idle.opportunity_id = token_activities.opportunity_id
    cross join warehouse_as_of
    where
        idle.idle_days > {{ var('dq_zombie_idle_days') }}
        and (
            -- not even touched for that long
            {{ days_between(
                'cast(greatest(idle.last_touched_at, touches_since.last_edit_at, token_activities.last_token_at) as date)',
                'warehouse_as_of.as_of_date'
            ) }} > {{ var('dq_zombie_idle_days') }}
            -- touched, but still no progress long after: a touch buys the benefit of the doubt for a
            -- little while (a note may say the customer is deciding), not for ever
            or idle.idle_days > {{ var('dq_zombie_touched_idle_days') }}
        )

)

select * from final
