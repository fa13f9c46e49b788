{#- Turning the page's text into values. The parser hands over canonical text expressions
    (see orchestration/parsing/dates.py); anything else, or an impossible date, becomes null and
    fails a `converts` test instead of being guessed. -#}

{% macro text_to_date(text) -%}
    {{ day_text_to_timestamp(text, with_time=false) }}::date
{%- endmacro %}

{% macro text_to_timestamp(text) -%}
    coalesce({{ day_text_to_timestamp(text, with_time=true) }}, {{ day_text_to_timestamp(text, with_time=false) }})
{%- endmacro %}

{% macro text_to_count(text) -%}
    case when {{ full_match(text, '[0-9]{1,3}(,[0-9]{3})*|[0-9]+') }}
         then {{ try_integer("replace(" ~ text ~ ", ',', '')") }} end  {#- too large: null -#}
{%- endmacro %}

{#- A period expression -> a period (period_start, period_end, date_precision; `period` in
    adapter_sql.sql, read by period_part). Relative words were normalised to 'today' by the
    parser and resolve to the page's own date (never the fetch time).
      day            '12 Jun 1999'   '11-12 Jun 2009'   '30 Jun 2009 - 02 Jul 2009'
      month          'Jun 1999'
      part_of_year   'early|mid|late|end of|beginning of 2002'  Jan-Apr | May-Aug | Sep-Dec | Oct-Dec | Jan-Mar
      season         'spring|summer|autumn|winter 2023'          Mar-May | Jun-Aug | Sep-Nov | Dec-Feb
      year           '2016'                                                          -#}
{% macro period_bounds(expr, page_date) -%}
(
    with p as (
        select
            {{ expr }} as e,
            {{ try_integer(regex_group(expr, '([0-9]{4})$')) }} as y,
            {{ regex_group(expr, '^([A-Za-z0-9_]+(?: of)?) [0-9]{4}$') }} as q
    )
    select case
        when e = 'today' then {{ period(
            page_date ~ '::date',
            page_date ~ '::date',
            "'day'") }}
        when {{ full_match('e', '[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}') }} then {{ period(
            text_to_date('e'),
            text_to_date('e'),
            "'day'") }}
        when {{ full_match('e', '[0-9]{1,2}-[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}') }} then {{ period(
            text_to_date("regexp_replace(e, '-[0-9]{1,2} ', ' ')"),
            text_to_date("regexp_replace(e, '^[0-9]{1,2}-', '')"),
            "'day'") }}
        when {{ full_match('e', '[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} - [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}') }} then {{ period(
            text_to_date("split_part(e, ' - ', 1)"),
            text_to_date("split_part(e, ' - ', 2)"),
            "'day'") }}
        when {{ full_match('e', '[A-Z][a-z]{2} [0-9]{4}') }} then {{ period(
            text_to_date("'01 ' || e"),
            month_end(text_to_date("'01 ' || e")),
            "'month'") }}
        when q in ('early', 'mid', 'late', 'end of', 'beginning of') then {{ period(
            "make_date(y, case q when 'early' then 1 when 'mid' then 5 when 'late' then 9
                                 when 'end of' then 10 else 1 end, 1)",
            month_end("make_date(y, case q when 'early' then 4 when 'mid' then 8
                                           when 'beginning of' then 3 else 12 end, 1)"),
            "'part_of_year'") }}
        when q in ('spring', 'summer', 'autumn', 'winter') then {{ period(
            "make_date(y, case q when 'spring' then 3 when 'summer' then 6
                                 when 'autumn' then 9 else 12 end, 1)",
            month_end("case q when 'winter' then make_date(y + 1, 2, 1)
                               else make_date(y, case q when 'spring' then 5
                                                        when 'summer' then 8 else 11 end, 1) end"),
            "'season'") }}
        when {{ full_match('e', '[0-9]{4}') }} then {{ period(
            'make_date(y, 1, 1)',
            'make_date(y, 12, 31)',
            "'year'") }}
    end
    from p
)
{%- endmacro %}

{#- Stable person key: the ASCII-folded name ("Özkan Ulutaş" -> 'ozkan-ulutas'), so accent edits on
    the page do not make a new person. -#}
{% macro commander_key(full_name) -%}
    trim(both '-' from regexp_replace(lower({{ strip_accents("replace(" ~ full_name ~ ", '''', '')") }}), '[^a-z0-9]+', '-', 'g'))
{%- endmacro %}
