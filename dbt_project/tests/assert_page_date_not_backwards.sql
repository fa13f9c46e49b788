-- Protects the order of the page's history (rules P1, P4, P6 of docs/rules.md): a version's "Last
-- updated" stamp is not earlier than the stamp of the version before it in valid time, unless a
-- corrections row accepts it. int_version_checks decides.
select *
from {{ ref('int_version_checks') }}
where is_page_date_backwards and not is_backwards_accepted
