-- The weighting scheme var scorecard_scheme selects exists in seed scorecard_weights and its weights
-- add up to 1, so a composite score stays on the 0-100 scale of its components.
-- Returns a row when the scheme is missing or its weights do not add up to 1.
with

scheme as (
    select count(*) as components, coalesce(sum(weight), 0) as total_weight
    from {{ ref('scorecard_weights') }}
    where scheme = '{{ var("scorecard_scheme") }}'
)

select *
from scheme
where components = 0 or abs(total_weight - 1) > 0.000001
