-- orphan_reference (quality/DEFECTS.md), rule unknown_rep: an opportunity whose owner_rep_id is empty or
-- names no rep in the reps extract as of the as-of date. Silent until a reps list has been delivered, and
-- when the source declares reps absent (absent_entities). Severity block: a deal nobody in the sales
-- organisation owns cannot be credited to a rep, team or region. amount = the deal amount.
with

opportunities as (
    select * from {{ ref('stg_crm__opportunities') }}
),

reps as (
    select * from {{ ref('stg_crm__reps') }}
),

absent_entities as (
    select * from {{ ref('absent_entities') }}
),

judged as (

    select
        (select count(*) from reps) > 0
        and not exists (select 1 from absent_entities where entity = 'reps') as can_judge

),

final as (

    select
        'unknown_rep' as rule_id,
        'opportunities' as entity,
        opportunities.opportunity_id as record_id,
        opportunities.owner_rep_id as rep_id,
        '商机（金额 ' || {{ number_text('opportunities.amount') }} || ' 元）的负责人编号 '
        || coalesce(nullif(trim(opportunities.owner_rep_id), ''), '（空）') || ' 不在销售人员名单中' as evidence,
        opportunities._extract_date as first_seen_date,
        cast(opportunities.amount as decimal(18, 2)) as amount
    from opportunities
    cross join judged
    left join reps
        on opportunities.owner_rep_id = reps.rep_id
    where judged.can_judge and reps.rep_id is null

)

select * from final
