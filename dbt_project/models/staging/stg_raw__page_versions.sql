select
    content_sha256,
    body_sha256,
    title,
    last_updated_text,
    {{ text_to_timestamp('last_updated_text') }} as page_last_updated,
    parser_version
from {{ source('raw', 'page_version') }}
