"""Captures in a directory written by waybackpack (PyPI): `DIR/<14-digit UTC capture time>/<host>/
<path of the original URL>`.

How waybackpack names its files (waybackpack/pack.py, `Pack.download_to`): the host is the URL's
netloc (a port included), the rest its path; a path ending in "/" is saved as `index.html`; the
query string and the scheme are not kept (and on Windows and macOS characters the file system
refuses become "_", as do "." and ".." path parts). So the URL a capture reports is
`http://<host>/<path>` as the file names it: page identity is decided by parsing, not by the URL,
and captures of the same page under other paths (/cps/en/natolive/topics_48818.htm next to
/cps/en/natohq/...) are read alike.

A directory without any capture-time entry is not one: an empty folder, or the wrong level of a
waybackpack tree (a capture time, a host folder, or the folder above), raises CaptureSourceError
saying what was expected and, where it can tell, which folder to give instead.

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
    _require_capture_times(directory)
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


EXPECTED = "expected a waybackpack directory: DIR/<14-digit capture time>/<host>/<path>"


def _is_time(name: str) -> bool:
    try:
        wayback_time(name)
    except ValueError:
        return False
    return True


def _entries(directory: Path) -> list[Path]:
    try:
        return sorted(e for e in directory.iterdir() if not e.name.startswith("."))
    except OSError as e:
        raise CaptureSourceError(f"cannot read {directory}: {e.strerror or e}") from None


def _require_capture_times(directory: Path) -> None:
    """Raise CaptureSourceError, saying what was expected, when no entry of `directory` is named
    like a capture time (an empty folder, or a folder at the wrong level of the tree)."""
    entries = _entries(directory)
    if any(_is_time(e.name) for e in entries):
        return
    if not entries:
        raise CaptureSourceError(f"{directory} is empty: {EXPECTED}")
    here = directory.resolve()
    for level in (here, *here.parents):
        if _is_time(level.name):
            what = ("one capture time" if level == here
                    else f"inside the capture time {level.name}")
            raise CaptureSourceError(f"{directory} is {what} of a waybackpack directory: give "
                                     f"{level.parent} ({EXPECTED})")
    below = [e for e in entries if e.is_dir() and not e.is_symlink()
             and any(_is_time(x.name) for x in _entries(e))]
    if below:
        raise CaptureSourceError(f"{directory} holds waybackpack directories one level down: "
                                 f"give {below[0]} ({EXPECTED})")
    raise CaptureSourceError(f"no capture-time folder in {directory}: {EXPECTED}")


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
