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
    source_text as source_sentence,
    -- a range's ends (rule T8 of docs/rules.md); null for any other figure
    troops_low_text,
    {{ text_to_count('troops_low_text') }} as troops_low,
    troops_high_text,
    {{ text_to_count('troops_high_text') }} as troops_high
from (
    {{ corrected(source('raw', 'troop_figure'), 'troop_figure',
                 ['force', 'figure_type', 'personnel', 'troops_text', 'approximation', 'period_text', 'contributing_nations_text',
                  'troops_low_text', 'troops_high_text']) }}
) as corrected -- operator corrections (seeds/corrections.csv)
