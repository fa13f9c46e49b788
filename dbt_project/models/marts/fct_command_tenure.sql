-- One tenure as COMKFOR per row, in command order. The current tenure counts its days to the
-- page's own "Last updated" date.
select
    tenure_key,
    command_sequence,
    commander_key,
    nation_key,
    rank_abbreviation,
    start_date,
    end_date,
    is_current,
    tenure_days,
    content_sha256,
    source_text
from {{ ref('int_command_tenures') }}
where content_sha256 = {{ current_version() }}
