"""Fetching the page: http(s) with timeouts, one overall deadline, retries with backoff, a size cap
and conditional GET; file:// for local copies. Plain Python (no Dagster, no dbt) so the light page
check stays light; orchestration.resources wraps it as a Dagster resource.

Redirects are followed only to the source's own host and port (an upgrade from http to https on the
same host counts as the same port, 80 -> 443) or to a host in KFOR_ALLOWED_HOSTS, and never from
https to http. Every FetchError's cause is redacted (orchestration.redact): it may quote the
source URL, which can carry credentials; the fetch itself uses the real URL."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import ssl
import stat
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

import httpx

from orchestration.core.layout import USER_AGENT
from orchestration.core.redact import redact_text

RETRY_STATUS = {429, 500, 502, 503, 504}
DEFAULT_PORTS = {"http": 80, "https": 443}
HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """The page could not be fetched. `unreachable` is true for DNS and connection failures only:
    the cases where a refresh of the default URL may fall back to the archive. A TLS failure
    (an untrusted certificate, a broken handshake) is not one: something answered, and it is not
    the page we trust."""

    def __init__(self, cause: str, *, unreachable: bool = False, attempts: int = 1,
                 status: int | None = None):
        cause = redact_text(cause)  # every URL in it; fetch() also scrubs the source's secrets
        super().__init__(cause)
        self.cause = cause
        self.unreachable = unreachable
        self.attempts = attempts
        self.status = status

    def __str__(self) -> str:  # the cause as it stands, suffixes such as "(after 4 attempts)" too
        return self.cause

    def redact(self, *urls: str) -> FetchError:
        """Scrub the secrets of `urls` from the cause (and args), wherever they appear."""
        self.cause = redact_text(self.cause, *urls)
        self.args = (self.cause,)
        return self


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
    allowed_hosts: tuple[str, ...] = ()  # extra hosts a redirect may lead to (Settings)
    max_redirects: int = 5


def fetch(url: str, validators: Validators | None = None,
          policy: FetchPolicy | None = None, sleep=time.sleep) -> FetchResult:
    """Fetch `url` (http, https or file). Raises FetchError with one clear cause, which never
    holds the URL's credentials or secret parameters."""
    try:
        return _fetch(url, validators, policy, sleep)
    except FetchError as e:
        raise e.redact(url) from None


def _fetch(url: str, validators: Validators | None, policy: FetchPolicy | None,
           sleep) -> FetchResult:
    policy = policy or FetchPolicy()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as e:
        raise FetchError(f"invalid URL {url!r}: {e}") from None
    if scheme == "file":
        return _fetch_file(url, policy)
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme or '(none)'!r}: only http, https and "
                         "file are allowed")
    return _fetch_http(url, validators or Validators(), policy, sleep)


def _fetch_file(url: str, policy: FetchPolicy) -> FetchResult:
    started = time.monotonic()
    parts = urlsplit(url)
    local = parts.netloc in ("", "localhost")  # file:///p and file://localhost/p are local paths
    path = Path(unquote(parts.path if local else f"//{parts.netloc}{parts.path}"))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a device or a FIFO could block or never end
            raise FetchError(f"{path} is not a regular file")
        if info.st_size > policy.max_bytes:
            raise FetchError(f"{path} is {info.st_size} bytes, over the {policy.max_bytes}-byte "
                             "cap")
        with open(path, "rb") as f:
            body = f.read(policy.max_bytes + 1)  # the file may have grown since stat
    except OSError as e:
        raise FetchError(f"cannot read {path}: {e.strerror or e}") from None
    if len(body) > policy.max_bytes:
        raise FetchError(f"{path} is over the {policy.max_bytes}-byte cap")
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
    watchdog = _Watchdog(deadline)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers,
                          event_hooks={"response": [_refuse_non_http_redirect]}) as client:
            return _attempts(client, url, policy, deadline, started, watchdog, sleep)
    finally:
        watchdog.cancel()


def _attempts(client: httpx.Client, url: str, policy: FetchPolicy, deadline: float,
              started: float, watchdog: _Watchdog, sleep) -> FetchResult:
    attempt = 0
    while True:
        attempt += 1
        retry_after = None
        try:
            return _one_attempt(client, url, policy, deadline, attempt, started, watchdog)
        except _Retryable as e:
            failure, retry_after = e.error, e.retry_after
        except FetchError as e:
            e.attempts = attempt
            raise
        failure.attempts = attempt
        wait = retry_after if retry_after is not None else policy.backoff * 2 ** (attempt - 1)
        if attempt >= policy.max_attempts or time.monotonic() + wait >= deadline:
            if attempt >= policy.max_attempts:
                failure.cause += f" (after {attempt} attempts)"
            else:
                failure.cause += f" (the {policy.deadline:g} s deadline leaves no time to retry)"
            raise failure
        sleep(wait)


def _refuse_non_http_redirect(response: httpx.Response) -> None:
    """Runs before httpx prepares the next request of a redirect, which fails with an unclear
    InvalidURL on a Location such as `javascript:...`."""
    if response.has_redirect_location:
        location = response.headers["location"]
        try:
            scheme = urlsplit(urljoin(str(response.request.url), location)).scheme.lower()
        except ValueError:
            raise FetchError(f"redirect to an invalid URL refused: {location!r}") from None
        if scheme not in ("http", "https"):
            raise FetchError(f"redirect to a non-http URL refused: {location}")


class _Watchdog:
    """The overall deadline for blocking reads. Per-read timeouts cannot stop a server that sends
    a byte every few seconds (in the headers or the body): at the deadline this shuts the fetch's
    sockets down, which wakes the blocked read, and the attempt reports the deadline."""

    _EVENTS = ("connection.connect_tcp.complete", "connection.start_tls.complete")

    def __init__(self, deadline: float):
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict) -> None:
        """httpx's "trace" request extension: learn each new connection's socket."""
        if event in self._EVENTS and info.get("return_value") is not None:
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                self._sockets.append(sock)
                if self.fired:
                    _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock) -> None:
    # The plain socket call: an SSLSocket's own shutdown() would drop its SSL state. OSError: the
    # socket is closed already, or was detached by the TLS wrapper (its SSLSocket is shut instead).
    with contextlib.suppress(OSError, TypeError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Retryable(Exception):
    def __init__(self, error: FetchError, retry_after: float | None = None):
        self.error, self.retry_after = error, retry_after


def _deadline_passed(policy: FetchPolicy, url: str, attempt: int, detail: str = "",
                     status: int | None = None) -> FetchError:
    after = f" (attempt {attempt})" if attempt > 1 else ""
    return FetchError(f"the {policy.deadline:g} s deadline passed while reading {url}"
                      f"{detail}{after}", status=status)


def _port(parts: SplitResult) -> int | None:
    """The port a URL connects to (its scheme's default when it names none)."""
    return parts.port or DEFAULT_PORTS.get(parts.scheme.lower())


def redirect_refusal(origin: str, current: str, target: str,
                     allowed_hosts: tuple[str, ...] | set[str] = ()) -> str | None:
    """Why a redirect from `current` (reached from the source URL `origin`) to `target` must not
    be followed, or None to follow it. Followed: the origin's host and port; an upgrade from
    http to https on the origin's host (port 80 -> 443 counts as the same port); any port of a
    host in `allowed_hosts`. Never: https -> http, anywhere in the chain. Raises ValueError for
    a target whose port is not a number."""
    o, c, t = urlsplit(origin), urlsplit(current), urlsplit(target)
    scheme = t.scheme.lower()
    if c.scheme.lower() == "https" and scheme == "http":
        return f"redirect from https to http refused: {target} (a downgrade is never followed)"
    if t.hostname in {h.lower() for h in allowed_hosts}:
        return None
    if t.hostname != o.hostname:
        return f"redirect to another host refused: {target} (allow it with KFOR_ALLOWED_HOSTS)"
    port, origin_port = _port(t), _port(o)
    if port == origin_port:
        return None
    if o.scheme.lower() == "http" and scheme == "https" and (origin_port, port) == (80, 443):
        return None  # the upgrade of the default port
    return (f"redirect to another port refused: {target} (the source is on port {origin_port}; "
            "allow the host with KFOR_ALLOWED_HOSTS)")


def _one_attempt(client: httpx.Client, url: str, policy: FetchPolicy, deadline: float,
                 attempt: int, started: float, watchdog: _Watchdog) -> FetchResult:
    origin_host = urlsplit(url).hostname
    seen = [url]
    current = url
    for _ in range(policy.max_redirects + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _deadline_passed(policy, current, attempt)
        # no single wait may outlast the overall deadline
        timeout = httpx.Timeout(min(policy.read_timeout, remaining),
                                connect=min(policy.connect_timeout, remaining))
        try:
            with client.stream("GET", current, timeout=timeout,
                               extensions={"trace": watchdog.trace}) as response:
                if response.has_redirect_location:
                    try:
                        target = urljoin(current, response.headers.get("location", ""))
                        parts = urlsplit(target)
                        if parts.scheme not in ("http", "https"):
                            raise FetchError(f"redirect to a non-http URL refused: {target}")
                        refusal = redirect_refusal(url, current, target, policy.allowed_hosts)
                    except ValueError:
                        raise FetchError(f"redirect to an invalid URL refused: "
                                         f"{response.headers.get('location')!r}") from None
                    if refusal:
                        raise FetchError(refusal)
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
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            classified = _classify(e, current, origin_host)
            if watchdog.fired or time.monotonic() >= deadline:
                error = classified.error if isinstance(classified, _Retryable) else classified
                if error.unreachable:  # still "cannot connect": the offline fallback applies
                    error.cause += f" (the {policy.deadline:g} s deadline passed)"
                    raise error from None
                raise _deadline_passed(policy, current, attempt) from None
            raise classified from None
    raise FetchError(f"more than {policy.max_redirects} redirects from {url}")


def _classify(e: Exception, url: str, origin_host: str | None) -> Exception:
    """An httpx error as a FetchError with one clear cause; _Retryable when a retry may help."""
    reason = _reason(e)
    tls = _tls_error(e)
    if tls is not None:  # the server answered, but not with a TLS session we can trust
        if isinstance(tls, ssl.SSLCertVerificationError):
            return FetchError(f"TLS certificate of {origin_host} not trusted: {reason}")
        return _Retryable(FetchError(f"TLS handshake with {origin_host} failed: {reason}"))
    if isinstance(e, httpx.ConnectError | httpx.ConnectTimeout):
        return _Retryable(FetchError(f"cannot connect to {origin_host}: {reason}",
                                     unreachable=True))
    if isinstance(e, httpx.TimeoutException):
        return _Retryable(FetchError(f"timed out reading {url}: {reason}"))
    if isinstance(e, httpx.RemoteProtocolError) and "complete message body" in reason:
        return _Retryable(FetchError(f"truncated body from {url}: {reason}"))
    if isinstance(e, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return _Retryable(FetchError(f"connection to {origin_host} broke: {reason}"))
    if isinstance(e, httpx.DecodingError):
        return FetchError(f"cannot decode the body of {url}: {reason}")
    return FetchError(f"cannot fetch {url}: {type(e).__name__}: {reason}")


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
                raise _deadline_passed(policy, url, attempt, f" ({size} bytes so far)", status)
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


def _tls_error(e: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError behind an httpx error (httpx wraps it in ConnectError), if any."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, ssl.SSLError):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def _reason(e: Exception) -> str:
    return (str(e) or type(e).__name__).splitlines()[0]
