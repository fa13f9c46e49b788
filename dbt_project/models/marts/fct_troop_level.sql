-- One strength figure the page reports for a force, with the period it carries (rules T1-T9
-- of docs/rules.md); a range (T8) has no troops, only its ends. is_today_figure marks KFOR's figure for "today" only (T6); is_current is the
-- contract's name for it, kept as an alias.
select
    troop_level_key,
    force,
    figure_type,
    personnel,
    period_start,
    period_end,
    date_precision,
    troops,
    troops_low,
    troops_high,
    approximation,
    contributing_nations,
    is_current as is_today_figure,
    is_current,
    period_text,
    date_rule,
    source_section,
    source_sentence,
    content_sha256,
    source_sentence as source_text  -- the contract's name; source_sentence its alias
from {{ ref('int_troop_levels') }}
where content_sha256 = {{ current_version() }}
