select
    content_sha256,
    ordinal as command_sequence,
    rank as rank_abbreviation,
    honorific,
    full_name,
    nation_code,
    service_code,
    start_text,
    end_text,
    {{ text_to_date('start_text') }} as start_date,
    {{ text_to_date('end_text') }} as end_date,
    section as source_section,
    source_text
from (
    {{ corrected(source('raw', 'commander'), 'commander',
                 ['rank', 'honorific', 'full_name', 'nation_code', 'service_code', 'start_text', 'end_text']) }}
) as corrected -- operator corrections (seeds/corrections.csv)
