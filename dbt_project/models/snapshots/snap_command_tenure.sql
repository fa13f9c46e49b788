-- History of every tenure across page versions (SCD2; see macros/scd2.sql), named as
-- fct_command_tenure names its columns.
{{ scd2(ref('int_command_tenures'), 'tenure_key',
        tracked=['command_sequence', 'commander_key', 'nation_key', 'rank_abbreviation',
                 'honorific', 'full_name', 'service_code', 'start_date', 'end_date', 'is_current'],
        carried=['source_text'],
        aliases={'is_in_office': 'is_current'}) }}
