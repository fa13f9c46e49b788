-- A version's "Last updated" stamp is not earlier than the stamp of the version before it in valid
-- time (P1)
-- before it (P4); a corrections row can accept it (P6).
with pair as ({{ compared_versions() }})

select
    pair.new_sha256,
    n.page_last_updated as new_last_updated,
    p.page_last_updated as previous_last_updated
from pair
inner join {{ ref('int_page_versions') }} as n on n.content_sha256 = pair.new_sha256
inner join {{ ref('int_page_versions') }} as p on p.content_sha256 = pair.previous_sha256
where n.page_last_updated < p.page_last_updated
    and not {{ accepted('assert_page_date_not_backwards', 'pair.new_sha256') }}
