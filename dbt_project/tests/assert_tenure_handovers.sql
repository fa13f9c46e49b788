-- Protects the chain of command of the version the marts describe (rule H3 of docs/rules.md): in
-- command order, each tenure starts 0 or 1 day after the previous one ended, and only the last
-- tenure is open ("present" on anyone else fails here). int_handovers decides.
select *
from {{ ref('int_handovers') }}
where content_sha256 = {{ current_version() }}
    and (not is_handover_settled or is_open_before_the_last)
