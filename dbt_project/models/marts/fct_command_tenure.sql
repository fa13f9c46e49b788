-- One tenure as COMKFOR per row, in command order. The current tenure counts its days to the
-- page's own "Last updated" date. on_duty_from / on_duty_until (exclusive) bound the days the
-- tenure is on duty by the handover rule H1 of docs/rules.md: exactly one tenure per day (H2).
-- is_current is the contract's name for is_in_office, kept as an alias.
select
    tenure_key,
    command_sequence,
    commander_key,
    nation_key,
    rank_abbreviation,
    start_date,
    end_date,
    on_duty_from,
    on_duty_until,
    is_current as is_in_office,
    is_current,
    tenure_days,
    content_sha256,
    source_text
from {{ ref('int_command_tenures') }}
where content_sha256 = {{ current_version() }}
