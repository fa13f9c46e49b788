-- Each tenure of every version next to the one before it in command order (rule H3 of
-- docs/rules.md): the days from the previous end to its start, and whether that is a handover the
-- rule H1 can settle (0 days: the same day, or 1: the next day). A longer gap (an acting commander
-- the page does not name) or an overlap is not, and neither is a tenure after one still open
-- ("present" on anyone but the last). assert_tenure_handovers names the newest version's rows
-- that fail.
with ordered as (
    select
        content_sha256,
        tenure_key,
        command_sequence,
        start_date,
        end_date,
        lag(end_date) over by_version as previous_end_date,
        lag(command_sequence) over by_version as previous_sequence,
        max(command_sequence) over (partition by content_sha256) as last_sequence
    from {{ ref('int_command_tenures') }}
    window by_version as (partition by content_sha256 order by command_sequence)
)

select
    content_sha256,
    tenure_key,
    command_sequence,
    start_date,
    end_date,
    previous_end_date,
    start_date - previous_end_date as days_after_previous_end,
    previous_sequence is null
        or (previous_end_date is not null and start_date - previous_end_date in (0, 1))
        as is_handover_settled,
    end_date is null and command_sequence <> last_sequence as is_open_before_the_last
from ordered
