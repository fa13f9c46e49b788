-- Every time the warehouse takes as true (rule P7 of docs/rules.md), and whether it lies after the
-- build's clock by more than the clock skew: the fetch time of every fetch the history counts
-- (published or unchanged, V1), the capture time of every imported capture among them, and every
-- loaded version's "Last updated" stamp as the instant it names (Brussels, V4). None may: a time
-- from the future would make its version the present until then. assert_no_future_times names
-- the rows after it; a rejected or failed fetch is no sighting and is not checked.
with counted as (
    select log_seq, fetch_id, content_sha256, fetched_at, captured_at
    from {{ ref('stg_raw__fetch_log') }}
    where outcome in ('published', 'unchanged')
),

times as (
    select 'fetched_at' as time_kind, content_sha256, log_seq, fetch_id, fetched_at as time_utc
    from counted
    union all
    select 'captured_at', content_sha256, log_seq, fetch_id, captured_at
    from counted
    where captured_at is not null
    union all
    select 'page_last_updated_utc', content_sha256, null, null, page_last_updated_utc
    from {{ ref('stg_raw__page_versions') }}
    where page_last_updated_utc is not null
)

select
    time_kind,
    content_sha256,
    log_seq,
    fetch_id,
    time_utc,
    time_utc > {{ latest_believable_time() }} as is_after_now
from times
