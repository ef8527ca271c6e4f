-- Win rate (赢单率) of the deals CLOSED in a period (by closed_date): won / (won + lost), by count and
-- by amount, for the company and per region, team, rep, customer channel and customer industry.
-- Won amounts are int_won_opportunities' (what attainment counts); lost amounts are the deal's last
-- amount. Deals without a closed_date cannot be placed in a period and are left out.
with

opportunities as (
    select * from {{ ref('int_opportunities_with_units') }}
),

grains as (
    select * from {{ funnel_period_grains_relation() }}
),

closed as (

    select *
    from opportunities
    where (is_won or is_lost) and closed_date is not null

),

by_dimension as (

    -- one row per closed deal and reporting dimension (unpivot)
    select
        closed.opportunity_id,
        closed.closed_date,
        closed.is_won,
        closed.amount,
        dimensions.dimension,
        case dimensions.dimension
            when 'company' then 'company'
            when 'region' then closed.region
            when 'team' then closed.team_id
            when 'rep' then closed.owner_rep_id
            when 'channel' then closed.channel
            when 'industry' then closed.industry
        end as dimension_value,
        case dimensions.dimension
            when 'company' then '全公司'
            when 'region' then closed.region
            when 'team' then closed.team_name
            when 'rep' then closed.rep_name
            when 'channel' then closed.channel
            when 'industry' then closed.industry
        end as dimension_label
    from closed
    cross join (
        values ('company'), ('region'), ('team'), ('rep'), ('channel'), ('industry')
    ) as dimensions (dimension)

),

aggregated as (

    select
        grains.period_grain,
        cast(date_trunc(grains.period_grain, by_dimension.closed_date) as date) as period_start_date,
        by_dimension.dimension,
        by_dimension.dimension_value,
        min(by_dimension.dimension_label) as dimension_label,
        count(*) filter (where by_dimension.is_won) as won_count,
        count(*) filter (where not by_dimension.is_won) as lost_count,
        coalesce(sum(by_dimension.amount) filter (where by_dimension.is_won), 0) as won_amount,
        coalesce(sum(by_dimension.amount) filter (where not by_dimension.is_won), 0) as lost_amount
    from by_dimension
    cross join grains
    group by all

),

final as (

    select
        period_grain || ':' || cast(period_start_date as string) || ':' || dimension || ':'
        || dimension_value as win_rate_id,
        period_grain,
        period_start_date,
        {{ funnel_period_end('period_grain', 'period_start_date') }} as period_end_date,
        dimension,
        dimension_value,
        dimension_label,
        cast(won_count as integer) as won_count,
        cast(lost_count as integer) as lost_count,
        cast(won_amount as decimal(18, 2)) as won_amount,
        cast(lost_amount as decimal(18, 2)) as lost_amount,
        cast(won_count as double) / (won_count + lost_count) as win_rate_count,
        case
            when won_amount + lost_amount > 0
                then cast(won_amount as double) / cast(won_amount + lost_amount as double)
        end as win_rate_amount
    from aggregated

)

select * from final
