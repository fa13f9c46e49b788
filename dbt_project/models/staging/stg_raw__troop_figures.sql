select
    content_sha256,
    ordinal as figure_ordinal,
    force,
    figure_type,
    personnel,
    troops_text,
    {{ text_to_count('troops_text') }} as troops,
    approximation,
    period_text,
    date_rule,
    contributing_nations_text,
    {{ text_to_count('contributing_nations_text') }} as contributing_nations,
    section as source_section,
    source_text as source_sentence
from (
    {{ corrected(source('raw', 'troop_figure'), 'troop_figure',
                 ['force', 'figure_type', 'personnel', 'troops_text', 'approximation', 'period_text', 'contributing_nations_text']) }}
) as corrected -- operator corrections (seeds/corrections.csv)
