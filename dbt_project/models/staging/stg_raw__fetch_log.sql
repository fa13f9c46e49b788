select
    log_seq,
    fetch_id,
    strptime(fetched_at, '%Y-%m-%dT%H:%M:%S.%fZ') as fetched_at,  -- UTC: recorded time
    strptime(captured_at, '%Y-%m-%dT%H:%M:%S.%fZ') as captured_at,  -- UTC: an archive's capture
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
