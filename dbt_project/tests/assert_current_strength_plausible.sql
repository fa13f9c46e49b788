-- KFOR's current strength (T6) may not jump implausibly from one version to the next in valid
-- time (P1): the larger figure over the smaller must stay below 3 ^ max(years between the two
-- page dates, 1) (P2). A figure that is missing, zero or unreadable is left to the positive_ and
-- converts_ tests; a corrections row can accept the jump (P6).
with pair as ({{ compared_versions() }}),

figures as (
    select
        t.content_sha256,
        t.troops,
        v.page_date as as_of  -- D1, V5: the page's own date, else its first sighting
    from {{ ref('int_troop_levels') }} as t
    inner join {{ ref('int_page_versions') }} as v using (content_sha256)
    where t.is_current and t.troops > 0
),

compared as (
    select
        pair.new_sha256,
        p.troops as previous_troops,
        n.troops as new_troops,
        abs(n.as_of - p.as_of) / 365.25 as years_apart,
        greatest(n.troops, p.troops)::double / least(n.troops, p.troops) as factor
    from pair
    inner join figures as n on n.content_sha256 = pair.new_sha256
    inner join figures as p on p.content_sha256 = pair.previous_sha256
)

select *, power(3, greatest(years_apart, 1)) as limit_factor
from compared
where factor >= power(3, greatest(years_apart, 1))
    and not {{ accepted('assert_current_strength_plausible', 'compared.new_sha256') }}
