-- The resource allocation shares (seed resource_allocation_shares) add up to 1.
select sum(share) as total_share
from {{ ref('resource_allocation_shares') }}
having abs(sum(share) - 1) > 0.000001
