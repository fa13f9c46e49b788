"""Captures in a directory written by waybackpack (PyPI): `DIR/<14-digit UTC capture time>/<host>/
<path of the original URL>`.

How waybackpack names its files (waybackpack/pack.py, `Pack.download_to`): the host is the URL's
netloc (a port included), the rest its path; a path ending in "/" is saved as `index.html`; the
query string and the scheme are not kept (and on Windows and macOS characters the file system
refuses become "_", as do "." and ".." path parts). So the URL a capture reports is
`http://<host>/<path>` as the file names it: page identity is decided by parsing, not by the URL,
and captures of the same page under other paths (/cps/en/natolive/topics_48818.htm next to
/cps/en/natohq/...) are read alike.

Every file under a timestamp directory is a capture, read through fetch() as a file:// URL (the
refresh's size cap; only regular files). One saved without `--raw` carries the replay's markup,
which is taken off (wayback.py). Entries whose names start with "." are not captures and are
passed over (an editor's or the importer's own files); any other entry that does not fit the
layout is yielded as a Skipped naming it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..core.fetch import FetchError, FetchPolicy, fetch
from .model import Capture, CaptureSourceError, Item, Origin, Skipped, wayback_time
from .wayback import clean_playback, is_playback


def waybackpack_captures(directory: Path, policy: FetchPolicy | None = None) -> Iterator[Item]:
    """Yield a Capture (or a Skipped) for every file under `directory`, oldest capture first."""
    policy = policy or FetchPolicy()
    directory = Path(directory)
    if not directory.is_dir():
        raise CaptureSourceError(f"{directory} is not a directory of waybackpack captures")
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith("."):
            continue
        try:
            captured_at = wayback_time(entry.name)
        except ValueError as e:
            yield Skipped(Origin("waybackpack", path=str(entry)),
                          f"not a capture-time directory: {e}")
            continue
        if not entry.is_dir() or entry.is_symlink():
            yield Skipped(Origin("waybackpack", path=str(entry)),
                          "a capture time must be a directory of <host>/<path>")
            continue
        for path in _files(entry):
            yield _capture(path, entry, captured_at, policy)


def _files(root: Path) -> list[Path]:
    """Every file below `root`, in path order, not following symbolic links to directories, and
    passing over dot-entries."""
    out = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(here, f) for f in files if not f.startswith("."))
    return sorted(out)


def _capture(path: Path, time_dir: Path, captured_at, policy: FetchPolicy) -> Item:
    origin = Origin("waybackpack", path=str(path))
    parts = path.relative_to(time_dir).parts
    if len(parts) < 2:
        return Skipped(origin, "not under a <host> directory", captured_at=captured_at)
    url = "http://" + "/".join(parts)
    try:
        body = fetch(path.resolve().as_uri(), policy=policy).body or b""
    except FetchError as e:
        return Skipped(origin, e.cause, url, captured_at)
    cleaned = is_playback(body, time_dir.name)
    return Capture(url, captured_at, clean_playback(body) if cleaned else body, None, origin,
                   cleaned=cleaned)
