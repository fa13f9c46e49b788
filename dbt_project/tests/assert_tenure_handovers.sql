-- Protects the chain of command: in command order, each tenure starts 0 or 1 day after the
-- previous one ended, and only the last tenure is open ("present" on anyone else fails here).
with ordered as (
    select
        *,
        lag(end_date) over (order by command_sequence) as previous_end,
        lag(command_sequence) over (order by command_sequence) as previous_sequence,
        max(command_sequence) over () as last_sequence
    from {{ ref('fct_command_tenure') }}
)

select *
from ordered
where
    (previous_sequence is not null and (
        previous_end is null
        or start_date - previous_end not in (0, 1)
    ))
    or (end_date is null and command_sequence <> last_sequence)
