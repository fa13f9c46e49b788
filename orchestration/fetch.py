"""Fetching the page: http(s) with timeouts, one overall deadline, retries with backoff, a size cap
and conditional GET; file:// for local copies. Plain Python (no Dagster, no dbt) so the light page
check stays light; orchestration.resources wraps it as a Dagster resource."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from .paths import USER_AGENT

RETRY_STATUS = {429, 500, 502, 503, 504}
HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """The page could not be fetched. `unreachable` is true for DNS and connection failures only:
    the cases where a refresh of the default URL may fall back to the archive."""

    def __init__(self, cause: str, *, unreachable: bool = False, attempts: int = 1,
                 status: int | None = None):
        super().__init__(cause)
        self.cause = cause
        self.unreachable = unreachable
        self.attempts = attempts
        self.status = status


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    url: str
    source: str  # live | file | archive
    status: int | None  # None for file:// and archive
    body: bytes | None  # None on 304 Not Modified
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 1
    elapsed_ms: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class FetchPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 45.0  # one overall limit for all attempts, waits included
    max_attempts: int = 4
    backoff: float = 1.0  # first wait; doubles per attempt
    max_bytes: int = 5_000_000
    allowed_hosts: tuple[str, ...] = ()  # extra hosts a redirect may lead to
    max_redirects: int = 5


def fetch(url: str, validators: Validators | None = None,
          policy: FetchPolicy | None = None, sleep=time.sleep) -> FetchResult:
    """Fetch `url` (http, https or file). Raises FetchError with one clear cause."""
    policy = policy or FetchPolicy()
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _fetch_file(url, policy)
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme or '(none)'!r}: only http, https and "
                         "file are allowed")
    return _fetch_http(url, validators or Validators(), policy, sleep)


def _fetch_file(url: str, policy: FetchPolicy) -> FetchResult:
    started = time.monotonic()
    parts = urlsplit(url)
    path = Path(unquote(parts.path if not parts.netloc else f"//{parts.netloc}{parts.path}"))
    try:
        size = path.stat().st_size
        if size > policy.max_bytes:
            raise FetchError(f"{path} is {size} bytes, over the {policy.max_bytes}-byte cap")
        body = path.read_bytes()
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror or e}") from None
    return FetchResult(url=url, source="file", status=None, body=body, content_type=None,
                       elapsed_ms=int((time.monotonic() - started) * 1000))


def _fetch_http(url: str, validators: Validators, policy: FetchPolicy, sleep) -> FetchResult:
    started = time.monotonic()
    deadline = started + policy.deadline
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9"}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            try:
                return _one_attempt(client, url, policy, deadline, attempt, started)
            except _Retryable as e:
                failure, retry_after = e.error, e.retry_after
            failure.attempts = attempt
            wait = retry_after if retry_after is not None else policy.backoff * 2 ** (attempt - 1)
            if attempt >= policy.max_attempts or time.monotonic() + wait >= deadline:
                if attempt >= policy.max_attempts:
                    failure.cause += f" (after {attempt} attempts)"
                else:
                    failure.cause += f" (the {policy.deadline:g} s deadline leaves no time to retry)"
                raise failure
            sleep(wait)


class _Retryable(Exception):
    def __init__(self, error: FetchError, retry_after: float | None = None):
        self.error, self.retry_after = error, retry_after


def _one_attempt(client: httpx.Client, url: str, policy: FetchPolicy, deadline: float,
                 attempt: int, started: float) -> FetchResult:
    origin_host = urlsplit(url).hostname
    seen = [url]
    current = url
    for _ in range(policy.max_redirects + 1):
        try:
            with client.stream("GET", current) as response:
                if response.has_redirect_location:
                    target = urljoin(current, response.headers.get("location", ""))
                    host = urlsplit(target).hostname
                    if urlsplit(target).scheme not in ("http", "https"):
                        raise FetchError(f"redirect to a non-http URL refused: {target}")
                    if host != origin_host and host not in policy.allowed_hosts:
                        raise FetchError(f"redirect to another host refused: {target} "
                                         "(allow it with KFOR_ALLOWED_HOSTS)")
                    if target in seen:
                        raise FetchError(f"redirect loop: {' -> '.join(seen + [target])}")
                    seen.append(target)
                    current = target
                    continue
                return _read(response, current, policy, deadline, attempt, started)
        except FetchError:
            raise
        except _Retryable:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise _Retryable(FetchError(f"cannot connect to {origin_host}: {_reason(e)}",
                                        unreachable=True)) from None
        except httpx.TimeoutException as e:
            raise _Retryable(FetchError(f"timed out reading {current}: {_reason(e)}")) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
            raise _Retryable(FetchError(f"connection to {origin_host} broke: {_reason(e)}")) \
                from None
    raise FetchError(f"more than {policy.max_redirects} redirects from {url}")


def _read(response: httpx.Response, url: str, policy: FetchPolicy, deadline: float,
          attempt: int, started: float) -> FetchResult:
    status = response.status_code
    if status == 304:
        body = None
    elif status in RETRY_STATUS:
        raise _Retryable(FetchError(f"HTTP {status} from {url}", status=status),
                         _retry_after(response.headers.get("retry-after")))
    elif status != 200:
        raise FetchError(f"HTTP {status} from {url}", status=status)
    else:
        content_type = response.headers.get("content-type", "")
        if content_type and not content_type.lower().startswith(HTML_TYPES):
            raise FetchError(f"{url} answered with {content_type!r}, not HTML", status=status)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchError(f"body of {declared} bytes is over the {policy.max_bytes}-byte cap",
                             status=status)
        chunks, size = [], 0
        for chunk in response.iter_bytes():  # decoded: the cap also bounds a compressed bomb
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(f"body is over the {policy.max_bytes}-byte cap", status=status)
            if time.monotonic() > deadline:
                raise FetchError(f"the {policy.deadline:g} s deadline passed while reading "
                                 f"{url} ({size} bytes so far)", status=status)
            chunks.append(chunk)
        body = b"".join(chunks)
        if declared and declared.isdigit() and int(declared) > response.num_bytes_downloaded:
            raise _Retryable(FetchError(f"truncated body: {response.num_bytes_downloaded} of "
                                        f"{declared} bytes", status=status))
    return FetchResult(
        url=url, source="live", status=status, body=body,
        content_type=response.headers.get("content-type"),
        validators=Validators(response.headers.get("etag"),
                              response.headers.get("last-modified")),
        attempts=attempt, elapsed_ms=int((time.monotonic() - started) * 1000))


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(e: Exception) -> str:
    return str(e) or type(e).__name__
