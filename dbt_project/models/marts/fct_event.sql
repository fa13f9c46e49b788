-- One dated event the page states (stated twice: one row) and each assumption of command.
select
    event_key,
    event_date,
    event_end_date,
    date_precision,
    event_type,
    description,
    source_section,
    statement_count,
    commander_key,
    period_text,
    source_text,
    content_sha256
from {{ ref('int_events') }}
where content_sha256 = {{ current_version() }}
