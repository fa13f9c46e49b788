{#- The SQL that differs between DuckDB (target dev) and Postgres (target postgres), one small
    macro each, dispatched by adapter: `duckdb__` is the SQL the DuckDB warehouse always ran,
    `postgres__` the same meaning on Postgres (15 and later). The rules themselves (formats,
    months, thresholds) stay in the shared macros and models that call these, so a rule changes in
    one place for both. Any other adapter fails at compile time, naming the macro.
    tests/postgres/test_cross_adapter.py builds the same pages on both and compares every row;
    tests/postgres/test_dbt_unit_postgres.py runs the unit tests on Postgres and the conversions
    on both engines over the same texts. -#}

{% macro unsupported(name) -%}
    {{ exceptions.raise_compiler_error(name ~ " has SQL for duckdb and postgres only, not " ~ target.type) }}
{%- endmacro %}


{#- text fully matches a regular expression (RE2 on DuckDB, ARE on Postgres; write patterns in
    their common part: [0-9], classes, groups, {m,n}, alternation). -#}
{% macro full_match(text, pattern) -%}{{ return(adapter.dispatch('full_match')(text, pattern)) }}{%- endmacro %}
{% macro default__full_match(text, pattern) -%}{{ unsupported('full_match') }}{%- endmacro %}
{% macro duckdb__full_match(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}
{% macro postgres__full_match(text, pattern) -%}
    ({{ text }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}

{#- The first capture group of a pattern; no match: '' on DuckDB, null on Postgres (callers
    compare it with words or cast it to a number, where both mean no value). -#}
{% macro regex_group(text, pattern) -%}{{ return(adapter.dispatch('regex_group')(text, pattern)) }}{%- endmacro %}
{% macro default__regex_group(text, pattern) -%}{{ unsupported('regex_group') }}{%- endmacro %}
{% macro duckdb__regex_group(text, pattern) -%}
    regexp_extract({{ text }}, '{{ pattern }}', 1)
{%- endmacro %}
{% macro postgres__regex_group(text, pattern) -%}
    substring({{ text }} from '{{ pattern }}')
{%- endmacro %}

{#- Digits as an integer; null when the text is no integer or does not fit in 32 bits. -#}
{% macro try_integer(text) -%}{{ return(adapter.dispatch('try_integer')(text)) }}{%- endmacro %}
{% macro default__try_integer(text) -%}{{ unsupported('try_integer') }}{%- endmacro %}
{% macro duckdb__try_integer(text) -%}
    try_cast({{ text }} as integer)
{%- endmacro %}
{% macro postgres__try_integer(text) -%}
    (case when {{ text }} ~ '^\s*[+-]?[0-9]+\s*$' then
        case when ({{ text }})::numeric between -2147483648 and 2147483647
             then ({{ text }})::integer end end)
{%- endmacro %}

{#- A day of the page's own form, 'd Mon yyyy' (any case, runs of spaces), optionally with
    ' hh:mm': the timestamp it names, or null when there is none (31 Feb, 24:00, 'June'). DuckDB's
    strptime is the reference: 1-2 digit day, hour and minute, a 1-4 digit year. -#}
{% macro day_text_to_timestamp(text, with_time) -%}{{ return(adapter.dispatch('day_text_to_timestamp')(text, with_time)) }}{%- endmacro %}
{% macro default__day_text_to_timestamp(text, with_time) -%}{{ unsupported('day_text_to_timestamp') }}{%- endmacro %}
{% macro duckdb__day_text_to_timestamp(text, with_time) -%}
    try_strptime({{ text }}, '{{ "%d %b %Y %H:%M" if with_time else "%d %b %Y" }}')
{%- endmacro %}
{% macro postgres__day_text_to_timestamp(text, with_time) -%}
    (select case when y >= 1 and m is not null and d >= 1 and hh < 24 and mi < 60 then
                case when d <= extract(day from make_date(y, m, 1) + interval '1 month - 1 day')
                     then make_timestamp(y, m, d, hh, mi, 0) end end
     from (select parts[1]::integer as d,
                  array_position(array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug',
                                       'sep', 'oct', 'nov', 'dec'], lower(parts[2])) as m,
                  parts[3]::integer as y,
                  {{ "parts[4]::integer" if with_time else "0" }} as hh,
                  {{ "parts[5]::integer" if with_time else "0" }} as mi
           from (select regexp_match({{ text }},
                   '^\s*([0-9]{1,2})\s+([A-Za-z]{3})\s+([0-9]{1,4}){% if with_time %}\s+([0-9]{1,2}):([0-9]{1,2}){% endif %}\s*$')
                   as parts) as matched
           where parts is not null) as fields)
{%- endmacro %}

{#- A fetch-log time, '2023-11-20T16:24:00.000000Z' (orchestration.core.archive's format,
    always UTC), as the instant it names; any other text fails the build, naming it. -#}
{% macro log_time(text) -%}{{ return(adapter.dispatch('log_time')(text)) }}{%- endmacro %}
{% macro default__log_time(text) -%}{{ unsupported('log_time') }}{%- endmacro %}
{% macro duckdb__log_time(text) -%}
    (strptime({{ text }}, '%Y-%m-%dT%H:%M:%S.%fZ') at time zone 'UTC')
{%- endmacro %}
{% macro postgres__log_time(text) -%}
    (case when {{ text }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6}Z$'
          then cast(left({{ text }}, -1) as timestamp) at time zone 'UTC'
          else cast('not a fetch-log time: ' || {{ text }} as timestamp) at time zone 'UTC' end)
{%- endmacro %}

{#- The last day of the month of a date. -#}
{% macro month_end(day) -%}{{ return(adapter.dispatch('month_end')(day)) }}{%- endmacro %}
{% macro default__month_end(day) -%}{{ unsupported('month_end') }}{%- endmacro %}
{% macro duckdb__month_end(day) -%}
    last_day({{ day }})
{%- endmacro %}
{% macro postgres__month_end(day) -%}
    (date_trunc('month', {{ day }}) + interval '1 month - 1 day')::date
{%- endmacro %}

{#- A period as one value: a struct on DuckDB, a jsonb object on Postgres (which has no
    anonymous struct); period_part reads a part back with its type. -#}
{% macro period(period_start, period_end, date_precision) -%}{{ return(adapter.dispatch('period')(period_start, period_end, date_precision)) }}{%- endmacro %}
{% macro default__period(period_start, period_end, date_precision) -%}{{ unsupported('period') }}{%- endmacro %}
{% macro duckdb__period(period_start, period_end, date_precision) -%}
    {'period_start': {{ period_start }}, 'period_end': {{ period_end }}, 'date_precision': {{ date_precision }}}
{%- endmacro %}
{% macro postgres__period(period_start, period_end, date_precision) -%}
    jsonb_build_object('period_start', {{ period_start }}, 'period_end', {{ period_end }},
                       'date_precision', {{ date_precision }})
{%- endmacro %}

{% macro period_part(period, part) -%}{{ return(adapter.dispatch('period_part')(period, part)) }}{%- endmacro %}
{% macro default__period_part(period, part) -%}{{ unsupported('period_part') }}{%- endmacro %}
{% macro duckdb__period_part(period, part) -%}
    {{ period }}.{{ part }}
{%- endmacro %}
{% macro postgres__period_part(period, part) -%}
    ({{ period }} ->> '{{ part }}')::{{ 'varchar' if part == 'date_precision' else 'date' }}
{%- endmacro %}

{#- Every day from one date through another, one row each, as a column of dates. -#}
{% macro day_series(first_day, last_day) -%}{{ return(adapter.dispatch('day_series')(first_day, last_day)) }}{%- endmacro %}
{% macro default__day_series(first_day, last_day) -%}{{ unsupported('day_series') }}{%- endmacro %}
{% macro duckdb__day_series(first_day, last_day) -%}
    unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day))::date
{%- endmacro %}
{% macro postgres__day_series(first_day, last_day) -%}
    generate_series(({{ first_day }})::timestamp, ({{ last_day }})::timestamp, interval '1 day')::date
{%- endmacro %}

{#- Text with its accents removed ('Özkan Ulutaş' -> 'Ozkan Ulutas'): Unicode decomposition, then
    the combining marks dropped, as DuckDB's strip_accents does (Postgres: a UTF8 database). -#}
{% macro strip_accents(text) -%}{{ return(adapter.dispatch('strip_accents')(text)) }}{%- endmacro %}
{% macro default__strip_accents(text) -%}{{ unsupported('strip_accents') }}{%- endmacro %}
{% macro duckdb__strip_accents(text) -%}
    strip_accents({{ text }})
{%- endmacro %}
{% macro postgres__strip_accents(text) -%}
    regexp_replace(normalize({{ text }}, NFD), '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g')
{%- endmacro %}

{#- The value of `arg` on the row with the least `val` (rows with either null left out). -#}
{% macro arg_min(arg, val) -%}{{ return(adapter.dispatch('arg_min')(arg, val)) }}{%- endmacro %}
{% macro default__arg_min(arg, val) -%}{{ unsupported('arg_min') }}{%- endmacro %}
{% macro duckdb__arg_min(arg, val) -%}
    arg_min({{ arg }}, {{ val }})
{%- endmacro %}
{% macro postgres__arg_min(arg, val) -%}
    (array_agg({{ arg }} order by {{ val }}) filter (where {{ arg }} is not null and {{ val }} is not null))[1]
{%- endmacro %}

{#- Every column of a relation, some replaced by expressions ({name: sql}), in the relation's
    column order. Postgres has no `* replace`: the columns are read from the built relation. -#}
{% macro star_replace(relation, alias, replacements) -%}{{ return(adapter.dispatch('star_replace')(relation, alias, replacements)) }}{%- endmacro %}
{% macro default__star_replace(relation, alias, replacements) -%}{{ unsupported('star_replace') }}{%- endmacro %}
{% macro duckdb__star_replace(relation, alias, replacements) -%}
    {{ alias ~ '.' if alias }}* replace (
        {%- for name, sql in replacements.items() %}
        {{ sql }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
{% macro postgres__star_replace(relation, alias, replacements) -%}
    {%- if not execute -%}*{%- else -%}
    {%- set columns = adapter.get_columns_in_relation(standing_for(relation)) -%}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error("star_replace: no columns found in " ~ relation) }}
    {%- endif -%}
    {%- for c in columns %}
        {{ replacements.get(c.name, (alias ~ '.' if alias) ~ adapter.quote(c.name)) }} as {{ adapter.quote(c.name) }}{{ "," if not loop.last }}
    {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- The relation a dbt unit test's input CTE stands for (its fixture has that relation's columns):
    __dbt__cte__<source>__<table> is that source's table. A unit test's `graph` is empty, so the
    source's schema is taken to be its name, as it is for this project's one source (raw, in
    models/staging/__sources.yml); a wrong guess finds no columns and fails compiling, naming the
    relation. Any other relation is itself. -#}
{% macro standing_for(relation) -%}
    {%- if not relation.is_cte -%}{{ return(relation) }}{%- endif -%}
    {%- set name = relation.identifier | replace('__dbt__cte__', '', 1) -%}
    {%- for node in graph.get('sources', {}).values() -%}
        {%- if node.source_name ~ '__' ~ node.name == name -%}
            {{ return(api.Relation.create(database=node.database, schema=node.schema,
                                          identifier=node.identifier)) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if '__' in name -%}
        {%- set source_name, table = name.split('__', 1) -%}
        {{ return(api.Relation.create(database=target.database, schema=source_name, identifier=table)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- Wide to long: after a subquery with the named columns (all text), one row per (row, column)
    with the column's name in `name_column` and its value, nulls kept, in `value_column`. -#}
{% macro unpivot_including_nulls(columns, name_column, value_column) -%}{{ return(adapter.dispatch('unpivot_including_nulls')(columns, name_column, value_column)) }}{%- endmacro %}
{% macro default__unpivot_including_nulls(columns, name_column, value_column) -%}{{ unsupported('unpivot_including_nulls') }}{%- endmacro %}
{% macro duckdb__unpivot_including_nulls(columns, name_column, value_column) -%}
    unpivot include nulls ({{ value_column }} for {{ name_column }} in ({{ columns | join(', ') }}))
{%- endmacro %}
{% macro postgres__unpivot_including_nulls(columns, name_column, value_column) -%}
    as wide cross join lateral (values
        {%- for c in columns %} ('{{ c }}', wide.{{ c }}){{ "," if not loop.last }}{% endfor %}
    ) as long ({{ name_column }}, {{ value_column }})
{%- endmacro %}

{#- Calendar words of a date: the month's English name, and the ISO week as '2020-W53'. -#}
{% macro month_name(day) -%}{{ return(adapter.dispatch('month_name')(day)) }}{%- endmacro %}
{% macro default__month_name(day) -%}{{ unsupported('month_name') }}{%- endmacro %}
{% macro duckdb__month_name(day) -%}
    monthname({{ day }})
{%- endmacro %}
{% macro postgres__month_name(day) -%}
    to_char({{ day }}, 'FMMonth')::varchar
{%- endmacro %}

{% macro iso_year_week(day) -%}{{ return(adapter.dispatch('iso_year_week')(day)) }}{%- endmacro %}
{% macro default__iso_year_week(day) -%}{{ unsupported('iso_year_week') }}{%- endmacro %}
{% macro duckdb__iso_year_week(day) -%}
    strftime({{ day }}, '%G-W%V')
{%- endmacro %}
{% macro postgres__iso_year_week(day) -%}
    to_char({{ day }}, 'IYYY-"W"IW')::varchar
{%- endmacro %}

{#- The database engine that built the warehouse, e.g. 'DuckDB v1.5.6', 'PostgreSQL 15.18'; and
    DuckDB's library version alone (null on Postgres: meta.duckdb_version, kept). -#}
{% macro engine_version() -%}{{ return(adapter.dispatch('engine_version')()) }}{%- endmacro %}
{% macro default__engine_version() -%}{{ unsupported('engine_version') }}{%- endmacro %}
{% macro duckdb__engine_version() -%}
    ('DuckDB ' || (select library_version from pragma_version()))
{%- endmacro %}
{% macro postgres__engine_version() -%}
    ('PostgreSQL ' || current_setting('server_version'))
{%- endmacro %}

{% macro duckdb_version() -%}{{ return(adapter.dispatch('duckdb_version')()) }}{%- endmacro %}
{% macro default__duckdb_version() -%}{{ unsupported('duckdb_version') }}{%- endmacro %}
{% macro duckdb__duckdb_version() -%}
    (select library_version from pragma_version())
{%- endmacro %}
{% macro postgres__duckdb_version() -%}
    null::varchar
{%- endmacro %}

{#- Any non-null value of a group whose values are all equal (Postgres 15 has no any_value; dbt's
    own macro is DuckDB's arbitrary(), which may return a null). -#}
{% macro any_value_of(value) -%}{{ return(adapter.dispatch('any_value_of')(value)) }}{%- endmacro %}
{% macro default__any_value_of(value) -%}{{ unsupported('any_value_of') }}{%- endmacro %}
{% macro duckdb__any_value_of(value) -%}
    any_value({{ value }})
{%- endmacro %}
{% macro postgres__any_value_of(value) -%}
    min({{ value }})
{%- endmacro %}
