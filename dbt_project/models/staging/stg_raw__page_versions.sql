select
    content_sha256,
    body_sha256,
    title,
    last_updated_text,
    {{ text_to_timestamp('last_updated_text') }} as page_last_updated,
    -- the stamp is Brussels local time (rule V4): the instant it names, beside the fetch times
    {{ text_to_timestamp('last_updated_text') }} at time zone 'Europe/Brussels'
        as page_last_updated_utc,
    parser_version
from {{ source('raw', 'page_version') }}
