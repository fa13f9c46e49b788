select
    content_sha256,
    ordinal as mention_ordinal,
    event_type,
    period_text,
    section as source_section,
    source_text
from (
    {{ corrected(source('raw', 'event_mention'), 'event_mention',
                 ['event_type', 'period_text']) }}
) as corrected -- operator corrections (seeds/corrections.csv)
