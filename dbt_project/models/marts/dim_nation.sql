-- Every NATO member and every partner nation the page may name, by NATO's two-letter code
-- (STANAG 1059: GE = Germany, SP = Spain, TU = Turkiye, UK = United Kingdom; not ISO 3166).
select
    nato_code as nation_key,
    nato_code,
    iso_alpha2,
    iso_alpha3,
    nation_name,
    nato_member_since,
    nato_member_since is not null as is_nato_member
from {{ ref('nato_nations') }}
