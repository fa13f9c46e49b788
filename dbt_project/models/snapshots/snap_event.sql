-- History of every event across page versions (SCD2; see macros/scd2.sql).
{{ scd2(ref('int_events'), 'event_key',
        tracked=['event_type', 'event_date', 'event_end_date', 'date_precision', 'description',
                 'source_section', 'commander_key'],
        carried=['statement_count', 'source_text']) }}
