-- The build stops (nothing is published) when 'block' rules keep more than var max_held_back_won_share
-- (10%) of the won revenue to date out of the marts: a misspelt product list or a late reps extract must
-- not silently take a third of the revenue out of every figure. The test always returns the total row of
-- quality.held_back_revenue; fail_calc turns its share into basis points (ceil, so 10.001% fails a 10%
-- limit), which Dagster records as the check's failed_row_count: the build summary prints the share
-- from it (pipelines/lib/build_report.py), also when the build fails and its warehouse is discarded.
{{ config(
    severity='error',
    fail_calc='coalesce(max(held_back_basis_points), 0)',
    warn_if='> 10000',
    error_if='> ' ~ ((var('max_held_back_won_share') * 10000) | round | int),
) }}
select
    rule_id,
    won_amount_held_back,
    won_amount_total,
    won_share_held_back,
    cast(ceil(round(coalesce(won_share_held_back, 0) * 10000, 6)) as integer) as held_back_basis_points
from {{ ref('held_back_revenue') }}
where is_total
