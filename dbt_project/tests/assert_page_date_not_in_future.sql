-- Protects "today" (D1) from a stamp the page could not have had when it was seen (rules P5, P6 of
-- docs/rules.md): a version's stamp, as the instant it names (V4), is no later than its first
-- sighting plus the clock skew, unless a corrections row accepts it. The first publication is
-- checked too. int_version_checks decides.
select *
from {{ ref('int_version_checks') }}
where is_page_date_after_first_sighting and not is_after_first_sighting_accepted
