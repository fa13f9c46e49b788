-- Protects the page's strength series from a misread figure (rules P1, P2, P6 of docs/rules.md):
-- KFOR's strength for today may not change by more than strength_change_factor between versions
-- less than strength_check_years apart, unless a corrections row accepts it. int_version_checks
-- decides; its unit tests pin the boundaries.
select *
from {{ ref('int_version_checks') }}
where is_strength_implausible and not is_strength_accepted
