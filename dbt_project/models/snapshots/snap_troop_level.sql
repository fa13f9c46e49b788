-- History of every troop figure across page versions (SCD2; see macros/scd2.sql), named as
-- fct_troop_level names its columns.
{{ scd2(ref('int_troop_levels'), 'troop_level_key',
        tracked=['force', 'figure_type', 'personnel', 'period_start', 'period_end',
                 'date_precision', 'troops', 'approximation', 'contributing_nations', 'is_current'],
        carried=['period_text', 'source_sentence'],
        aliases={'is_today_figure': 'is_current', 'source_text': 'source_sentence'}) }}
