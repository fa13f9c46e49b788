select
    content_sha256,
    ordinal as mention_ordinal,
    event_type,
    period_text,
    section as source_section,
    source_text
from {{ source('raw', 'event_mention') }}
