"""Secrets out of everything the project writes: the fetch log, messages, alerts, the warehouse.

A source URL may carry credentials (`https://user:password@host/...`) or secret query parameters
(`?token=...`, `?api_key=...`, `X-Amz-Signature=...`). The fetch uses the real URL; whatever is
written or printed uses `redact_url(url)` or `redact_text(message, url)`.

Rules (SPEC "Credentials and secret query parameters are never written"), one rule for every URL
the project prints, logs, stores, records in the Dagster instance or sends (the source, its
redirects, the webhook, a CDX endpoint, a replay prefix):
- the user-info part (`user:password@`, or `user@`) of any `scheme://` URL is removed;
- the value of every query parameter whose name (percent-decoded, case-folded) is secret is
  replaced by REDACTED, the name kept (`is_secret_name`): a name containing one of SECRET_WORDS
  (`pwd`, `api_key`, `X-Amz-Credential`, `code`), a name of the cloud signers' families
  (SECRET_PREFIXES: every `X-Amz-*`, `X-Goog-*`), or an Azure SAS name (SECRET_NAMES: `se`, `sp`;
  its `sig` is a word already);
- the fragment never reaches a server: each of its `name=value` pairs gets the query's treatment
  (OAuth puts `#access_token=...` there) and every piece without "=" is replaced whole, so a bare
  `#abc` becomes `#REDACTED`;
- nothing else changes: a URL without secrets comes back byte for byte (no normalisation), and
  redacting twice gives what redacting once gave.

Plain string surgery, no URL parser: it must never raise, whatever the text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

REDACTED = "REDACTED"
SECRET_WORDS = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "credential", "session",
                "code")
SECRET_PREFIXES = ("x-amz-", "x-goog-")  # the cloud signers' families: every member is redacted
SECRET_NAMES = ("se", "sp")  # Azure SAS expiry and permissions: exact names (a word would match
# "base" or "response")
# Shortest secret value redact_text replaces where it appears outside a URL: shorter ones ("1",
# "a") would also match innocent words and digits of the message itself.
MIN_LITERAL = 3

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# A URL inside free text: a scheme, "//", then anything up to whitespace, a quote or a bracket.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]*")
# An authority that cannot be host[:port] because its "port" is not a number: "bob:p".
_MALFORMED_USERINFO = re.compile(r"[^:\[\]]*:(?![0-9]*$)")


def is_secret_name(name: str) -> bool:
    """True for a query parameter name that holds a secret (token, api_key, X-Amz-Signature...)."""
    folded = unquote_plus(name).casefold().strip()
    return (any(word in folded for word in SECRET_WORDS) or folded.startswith(SECRET_PREFIXES)
            or folded in SECRET_NAMES)


def _redact_params(part: str, bare: bool = False) -> str:
    """`a=1&token=x;sig=y` with every secret value replaced (`&` and `;` both separate); with
    `bare`, a non-empty piece without "=" too (the fragment's rule)."""
    out = []
    for piece in re.split(r"([&;])", part):
        if piece in ("&", ";") or "=" not in piece:
            out.append(REDACTED if bare and piece not in ("", "&", ";") else piece)
            continue
        name, _, value = piece.partition("=")
        out.append(f"{name}={REDACTED}" if is_secret_name(name) and value != REDACTED
                   else piece)
    return "".join(out)


def redact_url(url: str) -> str:
    """`url` without its user-info and with the values of secret parameters replaced by
    REDACTED. Any other string (not a URL, half a URL) comes back with the same treatment of what
    looks like its query; never raises."""
    if not isinstance(url, str) or not url:
        return url
    rest, fragment = url, None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    query = None
    if "?" in rest:
        rest, query = rest.split("?", 1)
    scheme = _SCHEME.match(rest)
    head = scheme.group(0) if scheme else ""
    body = rest[len(head):]
    if body.startswith("//"):
        authority, slash, path = _split_authority(body[2:])
        if "@" in authority:
            authority = authority.rsplit("@", 1)[1]
        elif _MALFORMED_USERINFO.match(authority) and "@" in url[len(head) + 2:]:
            # "https://bob:p#ss@host/": a password with a raw "#", "?" or "/" ends the authority
            # early for every parser (the fetch fails on port "p"), yet it is a password
            return head + "//" + redact_url(url[len(head) + 2:].split("@", 1)[1])
        body = f"//{authority}{slash}{path}"
    out = head + body
    if query is not None:
        out += "?" + _redact_params(query)
    if fragment is not None:
        out += "#" + _redact_params(fragment, bare=True)
    return out


def _split_authority(after_slashes: str) -> tuple[str, str, str]:
    """(authority, "/" or "", path) of what follows `scheme://` (the query is already off)."""
    if "/" in after_slashes:
        authority, path = after_slashes.split("/", 1)
        return authority, "/", path
    return after_slashes, "", ""


def secrets_of(url: str) -> set[str]:
    """The secret values a URL carries (user name, password, secret parameters' values), as
    written and percent-decoded."""
    found: set[str] = set()
    if not isinstance(url, str):
        return found
    rest = url
    fragment = ""
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    query = ""
    if "?" in rest:
        rest, query = rest.split("?", 1)
    scheme = _SCHEME.match(rest)
    body = rest[len(scheme.group(0)):] if scheme else rest
    if body.startswith("//"):
        authority = _split_authority(body[2:])[0]
        if "@" not in authority and _MALFORMED_USERINFO.match(authority):
            after = url[len(scheme.group(0)) + 2:] if scheme else url[2:]
            # see redact_url: the password holds a raw "#", "?" or "/"
            authority = after.split("@", 1)[0] + "@" if "@" in after else authority
        if "@" in authority:
            userinfo = authority.rsplit("@", 1)[0]
            found.add(userinfo)  # "user:password", or a bare token as the user name
            if ":" in userinfo:  # the password; a user name alone is no secret to hunt for
                found.add(userinfo.split(":", 1)[1])
    for in_fragment, part in ((False, query), (True, fragment)):
        for piece in re.split(r"[&;]", part):
            name, eq, value = piece.partition("=")
            if eq and is_secret_name(name) and value != REDACTED:
                found.add(value)
            elif not eq and in_fragment and piece != REDACTED:
                found.add(piece)  # a bare fragment piece is a secret as a whole
    found |= {unquote(v) for v in found} | {unquote_plus(v) for v in found}
    return {v for v in found if v and v != REDACTED}


def origin_of(url: str | None) -> str:
    """`scheme://host[:port]` of a URL, nothing else: how a URL that is a credential as a whole
    (a webhook's path is its secret: `/services/XXX/YYY/ZZZ`) is named in a message. Never raises."""
    if not isinstance(url, str) or not url:
        return "(none)"
    url = redact_url(url)  # its user-info off first, however malformed ("bob:p#ss@host")
    scheme = _SCHEME.match(url)
    head = scheme.group(0) if scheme else ""
    rest = url[len(head):]
    if not rest.startswith("//"):
        return f"a {head[:-1]} URL without a host" if head else "(not a URL)"
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    return f"{head}//{authority.rsplit('@', 1)[-1]}"


def redact_text(text: str | None, *urls: str | None) -> str | None:
    """A message with every URL in it redacted, and the secret values of `urls` (the URLs the
    message is about, e.g. the source) replaced wherever else they appear, e.g. decoded, or a
    host's `user:password@` without its scheme. Values shorter than MIN_LITERAL characters are
    replaced only inside URLs."""
    if not isinstance(text, str) or not text:
        return text
    out = text
    for url in urls:
        if isinstance(url, str) and url and url in out:
            out = out.replace(url, redact_url(url))
    out = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), out)
    literals = set()
    for url in urls:
        literals |= secrets_of(url) if url else set()
    for value in sorted(literals, key=len, reverse=True):  # "user:pw" before "pw"
        if len(value) < MIN_LITERAL:
            continue
        out = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", REDACTED, out)
    return out


def redact_db_url(url: str) -> str:
    """A database URL without its user and password, read as SQLAlchemy (which connects with it)
    reads it: a password holding an unescaped "/", "?" or "#" ("kfor:2024/Spring@db") is found
    too, where a generic URL reading takes "2024" for a port. Never repeats what does not parse."""
    from sqlalchemy.engine import URL, make_url

    try:
        parsed = make_url(url)
        shown = URL.create(parsed.drivername, host=parsed.host, port=parsed.port,
                           database=parsed.database, query=parsed.query)
        return redact_url(shown.render_as_string(hide_password=False))  # secret parameters
    except Exception:  # noqa: BLE001 - whatever it is, it is not shown
        return "(a database URL that does not parse)"


def redact_db_text(text: str, url: str | None) -> str:
    """A message about the database at `url` with its user and password (as SQLAlchemy reads
    them) replaced wherever they appear, and every URL in it redacted."""
    from sqlalchemy.engine import make_url

    if not url:
        return redact_text(text)
    out = redact_text(text.replace(url, redact_db_url(url)), url)
    try:
        parsed = make_url(url)
        secrets = [s for s in (parsed.password, parsed.username) if s]
    except Exception:  # noqa: BLE001 - unparseable: only the generic redaction applies
        secrets = []
    for value in sorted(secrets, key=len, reverse=True):
        out = out.replace(str(value), REDACTED)
    return out
