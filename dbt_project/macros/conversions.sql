{#- Turning the page's text into values. The parser hands over canonical text expressions
    (see orchestration/parsing/dates.py); anything else, or an impossible date, becomes null and
    fails a `converts` test instead of being guessed. -#}

{% macro text_to_date(text) -%}
    try_strptime({{ text }}, '%d %b %Y')::date
{%- endmacro %}

{% macro text_to_timestamp(text) -%}
    coalesce(try_strptime({{ text }}, '%d %b %Y %H:%M'), try_strptime({{ text }}, '%d %b %Y'))
{%- endmacro %}

{% macro text_to_count(text) -%}
    case when regexp_full_match({{ text }}, '\d{1,3}(,\d{3})*|\d+')
         then try_cast(replace({{ text }}, ',', '') as integer) end  {#- too large: null -#}
{%- endmacro %}

{#- A period expression -> struct(period_start, period_end, date_precision). Relative words were
    normalised to 'today' by the parser and resolve to the page's own date (never the fetch time).
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
            try_cast(regexp_extract({{ expr }}, '(\d{4})$', 1) as integer) as y,
            regexp_extract({{ expr }}, '^(\w+(?: of)?) \d{4}$', 1) as q
    )
    select case
        when e = 'today' then
            {'period_start': {{ page_date }}::date, 'period_end': {{ page_date }}::date, 'date_precision': 'day'}
        when regexp_full_match(e, '\d{1,2} [A-Z][a-z]{2} \d{4}') then
            {'period_start': {{ text_to_date('e') }}, 'period_end': {{ text_to_date('e') }}, 'date_precision': 'day'}
        when regexp_full_match(e, '\d{1,2}-\d{1,2} [A-Z][a-z]{2} \d{4}') then
            {'period_start': {{ text_to_date("regexp_replace(e, '-[0-9]{1,2} ', ' ')") }},
             'period_end': {{ text_to_date("regexp_replace(e, '^[0-9]{1,2}-', '')") }},
             'date_precision': 'day'}
        when regexp_full_match(e, '\d{1,2} [A-Z][a-z]{2} \d{4} - \d{1,2} [A-Z][a-z]{2} \d{4}') then
            {'period_start': {{ text_to_date("split_part(e, ' - ', 1)") }},
             'period_end': {{ text_to_date("split_part(e, ' - ', 2)") }},
             'date_precision': 'day'}
        when regexp_full_match(e, '[A-Z][a-z]{2} \d{4}') then
            {'period_start': {{ text_to_date("'01 ' || e") }},
             'period_end': last_day({{ text_to_date("'01 ' || e") }}),
             'date_precision': 'month'}
        when q in ('early', 'mid', 'late', 'end of', 'beginning of') then
            {'period_start': make_date(y, case q when 'early' then 1 when 'mid' then 5 when 'late' then 9
                                                 when 'end of' then 10 else 1 end, 1),
             'period_end': last_day(make_date(y, case q when 'early' then 4 when 'mid' then 8
                                                      when 'beginning of' then 3 else 12 end, 1)),
             'date_precision': 'part_of_year'}
        when q in ('spring', 'summer', 'autumn', 'winter') then
            {'period_start': make_date(y, case q when 'spring' then 3 when 'summer' then 6
                                                 when 'autumn' then 9 else 12 end, 1),
             'period_end': case q when 'winter' then last_day(make_date(y + 1, 2, 1))
                                  else last_day(make_date(y, case q when 'spring' then 5
                                                                   when 'summer' then 8 else 11 end, 1)) end,
             'date_precision': 'season'}
        when regexp_full_match(e, '\d{4}') then
            {'period_start': make_date(y, 1, 1), 'period_end': make_date(y, 12, 31), 'date_precision': 'year'}
    end
    from p
)
{%- endmacro %}

{#- Stable person key: the ASCII-folded name ("Özkan Ulutaş" -> 'ozkan-ulutas'), so accent edits on
    the page do not make a new person. -#}
{% macro commander_key(full_name) -%}
    trim(regexp_replace(lower(strip_accents(replace({{ full_name }}, '''', ''))), '[^a-z0-9]+', '-', 'g'), '-')
{%- endmacro %}
