-- Protects the present from the future (rule P7 of docs/rules.md): no fetch time or capture time
-- the history counts, and no page stamp, lies after this build's clock by more than the clock
-- skew; otherwise the version it dates would be current until then. No corrections row can
-- accept it. int_time_checks decides.
select *
from {{ ref('int_time_checks') }}
where is_after_now
