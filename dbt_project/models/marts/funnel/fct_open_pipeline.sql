-- Open pipeline (在途商机) on the as-of date, by stage, for the company and per region, team and rep:
-- deals and amount, probability-weighted amount, the high (> 65%) / medium (35-65%) / low bands and
-- the slipped deals (from int_open_opportunities, where "open pipeline" is defined once).
with

open_opportunities as (
    select * from {{ ref('int_open_opportunities') }}
),

units as (
    select opportunity_id, rep_name, team_id, team_name, region
    from {{ ref('int_opportunities_with_units') }}
),

warehouse_as_of as (
    select * from {{ ref('warehouse_as_of') }}
),

deals as (

    select
        open_opportunities.*,
        coalesce(units.rep_name, open_opportunities.owner_rep_id) as rep_name,
        coalesce(units.team_id, {{ unknown_label('team_id') }}) as team_id,
        coalesce(units.team_name, {{ unknown_label('team_name') }}) as team_name,
        coalesce(units.region, {{ unknown_label('region') }}) as region
    from open_opportunities
    left join units
        on open_opportunities.opportunity_id = units.opportunity_id

),

by_level as (

    select
        levels.level,
        case levels.level
            when 'company' then 'company'
            when 'region' then deals.region
            when 'team' then deals.team_id
            when 'rep' then deals.owner_rep_id
        end as unit_id,
        case levels.level
            when 'company' then '全公司'
            when 'region' then deals.region
            when 'team' then deals.team_name
            when 'rep' then deals.rep_name
        end as unit_name,
        case when levels.level in ('region', 'team', 'rep') then deals.region end as region,
        case when levels.level in ('team', 'rep') then deals.team_id end as team_id,
        deals.stage_key,
        deals.stage_order,
        deals.amount,
        deals.weighted_amount,
        deals.probability_band,
        deals.is_slipped
    from deals
    cross join (values ('company'), ('region'), ('team'), ('rep')) as levels (level)

),

aggregated as (

    select
        level,
        unit_id,
        min(unit_name) as unit_name,
        min(region) as region,
        min(team_id) as team_id,
        stage_key,
        min(stage_order) as stage_order,
        count(*) as open_count,
        sum(amount) as open_amount,
        sum(weighted_amount) as weighted_amount,
        count(*) filter (where probability_band = 'high') as high_count,
        coalesce(sum(amount) filter (where probability_band = 'high'), 0) as high_amount,
        count(*) filter (where probability_band = 'medium') as medium_count,
        coalesce(sum(amount) filter (where probability_band = 'medium'), 0) as medium_amount,
        count(*) filter (where probability_band = 'low') as low_count,
        coalesce(sum(amount) filter (where probability_band = 'low'), 0) as low_amount,
        count(*) filter (where is_slipped) as slipped_count,
        coalesce(sum(amount) filter (where is_slipped), 0) as slipped_amount
    from by_level
    group by level, unit_id, stage_key

),

final as (

    select
        aggregated.level || ':' || aggregated.unit_id || ':' || aggregated.stage_key as open_pipeline_id,
        warehouse_as_of.as_of_date,
        aggregated.level,
        aggregated.unit_id,
        aggregated.unit_name,
        cast(aggregated.region as string) as region,
        cast(aggregated.team_id as string) as team_id,
        aggregated.stage_key,
        aggregated.stage_order,
        cast(aggregated.open_count as integer) as open_count,
        cast(aggregated.open_amount as decimal(18, 2)) as open_amount,
        cast(aggregated.weighted_amount as decimal(18, 2)) as weighted_amount,
        cast(aggregated.high_count as integer) as high_count,
        cast(aggregated.high_amount as decimal(18, 2)) as high_amount,
        cast(aggregated.medium_count as integer) as medium_count,
        cast(aggregated.medium_amount as decimal(18, 2)) as medium_amount,
        cast(aggregated.low_count as integer) as low_count,
        cast(aggregated.low_amount as decimal(18, 2)) as low_amount,
        cast(aggregated.slipped_count as integer) as slipped_count,
        cast(aggregated.slipped_amount as decimal(18, 2)) as slipped_amount
    from aggregated
    cross join warehouse_as_of

)

select * from final
