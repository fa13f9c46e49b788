select
    content_sha256,
    ordinal as section_ordinal,
    level as heading_level,
    heading,
    heading_path,
    text as section_text
from {{ source('raw', 'section') }}
