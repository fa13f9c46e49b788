select
    log_seq,
    fetch_id,
    {{ log_time('fetched_at') }} as fetched_at,  -- recorded time (rule V6: an instant)
    {{ log_time('captured_at') }} as captured_at,  -- an archive's capture time
    url,
    source,
    status,
    etag,
    last_modified,
    content_type,
    body_sha256,
    content_sha256,
    bytes as body_bytes,
    attempts,
    elapsed_ms,
    outcome,
    message
from {{ source('raw', 'fetch_log') }}
