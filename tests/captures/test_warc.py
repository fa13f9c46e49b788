"""WARC files written with warcio's own writer: responses (gzip per record or not, chunked or not,
gzip- or deflate-coded or not), revisits, and what yields no capture, each named."""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playback_fixture import as_playback
from support import pages
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from orchestration.captures import Capture, CaptureSourceError, Revisit, Skipped, warc_captures
from orchestration.core.fetch import FetchPolicy

URL = "https://www.nato.int/cps/en/natohq/topics_48818.htm"


def chunked(data: bytes, size: int) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                   for i in range(0, len(data), size))
    return out + b"0\r\n\r\n"


def encode(body: bytes, coding: str | None) -> bytes:
    if coding == "gzip":
        return gzip.compress(body)
    if coding == "deflate":
        return zlib.compress(body)
    return body


class Warc:
    """A WARC file being written: response, revisit and other records."""

    def __init__(self, path: Path, gz: bool):
        self.path, self.out = path, io.BytesIO()
        self.writer = WARCWriter(self.out, gzip=gz)

    def response(self, body: bytes, date: str, *, url: str = URL, status: str = "200 OK",
                 content_type: str | None = "text/html; charset=utf-8", coding: str | None = None,
                 chunk: int | None = None, raw: bytes | None = None, bad_chunks: bytes | None = None):
        headers = [("Content-Type", content_type)] if content_type else []
        payload = raw if raw is not None else encode(body, coding)
        if coding:
            headers.append(("Content-Encoding", coding))
        if chunk:
            headers.append(("Transfer-Encoding", "chunked"))
            payload = chunked(payload, chunk)
        if bad_chunks is not None:  # said chunked, and not
            headers.append(("Transfer-Encoding", "chunked"))
            payload = bad_chunks
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        record = self.writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                http_headers=http,
                                                warc_headers_dict={"WARC-Date": date})
        self.writer.write_record(record)
        return record

    def revisit(self, digest: str, date: str, refers_to_date: str):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        record = self.writer.create_revisit_record(URL, digest, URL, refers_to_date,
                                                   http_headers=http,
                                                   warc_headers_dict={"WARC-Date": date})
        self.writer.write_record(record)
        return record

    def other(self, kind: str):
        if kind == "warcinfo":
            record = self.writer.create_warcinfo_record("x.warc", {"software": "test"})
        else:
            record = self.writer.create_warc_record(URL, kind, payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"))
        self.writer.write_record(record)

    def save(self) -> Path:
        self.path.write_bytes(self.out.getvalue())
        return self.path


def record_at(path: Path, offset: int):
    with open(path, "rb") as f:
        f.seek(offset)
        record = next(iter(ArchiveIterator(f)))
        return record.rec_type, record.rec_headers.get_header("WARC-Date")


bodies = st.sampled_from([pages.v1(), pages.v2(), pages.v3(), b"<p>short</p>", b""])
responses = st.tuples(bodies, st.sampled_from([None, "gzip", "deflate"]),
                      st.one_of(st.none(), st.integers(1, 5000)), st.sampled_from(
                          [None, "warcinfo", "request", "metadata"]))


@settings(max_examples=25, deadline=None)
@given(gz=st.booleans(), records=st.lists(responses, min_size=1, max_size=4))
def test_every_response_comes_back_decoded_with_its_time_digest_and_offset(tmp_path_factory, gz,
                                                                           records):
    warc = Warc(tmp_path_factory.mktemp("warc") / "c.warc.gz", gz)
    written = []
    for n, (body, coding, chunk, before) in enumerate(records):
        if before:
            warc.other(before)
        record = warc.response(body, f"2019-10-0{n + 1}T12:30:00Z", coding=coding, chunk=chunk)
        written.append((body, record.rec_headers.get_header("WARC-Payload-Digest")))
    path = warc.save()
    items = list(warc_captures(path))
    assert [type(i) for i in items] == [Capture] * len(records)
    assert [(i.body, i.digest) for i in items] == written
    assert [i.captured_at for i in items] == [datetime(2019, 10, n + 1, 12, 30, tzinfo=UTC)
                                              for n in range(len(records))]
    assert {i.url for i in items} == {URL} and {i.content_type for i in items} == {
        "text/html; charset=utf-8"}
    for i in items:
        assert i.origin.path == str(path)
        assert record_at(path, i.origin.offset) == ("response", f"{i.captured_at:%Y-%m-%dT%H:%M:%SZ}")


@pytest.mark.parametrize("gz", [True, False], ids=["gzip-records", "plain"])
def test_revisits_and_what_is_no_page_are_reported_not_dropped(tmp_path, gz):
    warc = Warc(tmp_path / "c.warc", gz)
    first = warc.response(pages.v1(), "2019-10-01T00:00:00Z")
    digest = first.rec_headers.get_header("WARC-Payload-Digest")
    warc.revisit(digest, "2019-11-01T00:00:00.250000Z", "2019-10-01T00:00:00Z")
    warc.response(b"", "2019-11-02T00:00:00Z", status="301 Moved Permanently")
    warc.response(b"body{}", "2019-11-03T00:00:00Z", content_type="text/css")
    bomb = b"<p>" + b" " * 3_000_000
    warc.response(bomb, "2019-11-04T00:00:00Z", coding="gzip", chunk=1000)
    warc.response(b"", "2019-11-05T00:00:00Z", coding="gzip", raw=b"this is not gzip at all")
    coded = gzip.compress(pages.v1())
    warc.response(b"", "2019-11-05T00:00:01Z", coding="gzip", raw=coded[:len(coded) // 2])
    flipped = coded[:900] + bytes(b ^ 0xFF for b in coded[900:950]) + coded[950:]
    warc.response(b"", "2019-11-05T00:00:02Z", coding="gzip", raw=flipped)
    warc.response(b"", "2019-11-05T00:00:03Z", bad_chunks=b"zz\r\nnot chunks")
    warc.response(b"<p>x</p>", "2019-11-05T00:00:04Z", coding="compress")
    warc.response(pages.v2(), "2019-11-06T00:00:00Z", content_type=None)
    items = list(warc_captures(warc.save(), FetchPolicy(max_bytes=1_000_000)))

    assert [type(i) for i in items] == [Capture, Revisit] + [Skipped] * 8 + [Capture]
    revisit = items[1]
    assert revisit.digest == digest and revisit.refers_to_url == URL
    assert revisit.captured_at == datetime(2019, 11, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert revisit.refers_to_date == items[0].captured_at
    assert [i.reason for i in items[2:10]] == [
        "HTTP 301 response, not a page",
        "'text/css', not HTML",
        "body is over the 1000000-byte cap",  # counted decoded: 3 MB from a few kB of gzip
        "cannot decode the body: Error -3 while decompressing data: incorrect header check",
        "cannot decode the body: the gzip stream is cut short",
        "cannot decode the body: Error -3 while decompressing data: invalid distance too far back",
        "cannot decode the body: it is not valid chunked transfer coding",
        "cannot decode the body: content coding 'compress' is not supported",
    ]
    assert items[10].body == pages.v2() and items[10].content_type is None
    assert len({i.origin.offset for i in items}) == len(items)


@pytest.mark.parametrize("gz", [True, False], ids=["gzip-records", "plain"])
@pytest.mark.parametrize("keep", [0.5, 0.8, 0.99])
def test_a_torn_file_yields_what_came_before_then_says_so(tmp_path, gz, keep):
    warc = Warc(tmp_path / "c.warc", gz)
    for n, body in enumerate([pages.v1(), pages.v2(), pages.v3()]):
        warc.response(body, f"2019-10-0{n + 1}T00:00:00Z")
    path = warc.save()
    whole = path.read_bytes()
    path.write_bytes(whole[:int(len(whole) * keep)])
    items = list(warc_captures(path))
    captures = [i for i in items if isinstance(i, Capture)]
    assert [c.body for c in captures] == [pages.v1(), pages.v2(), pages.v3()][:len(captures)]
    assert len(captures) < 3
    last = items[-1]
    assert isinstance(last, Skipped), items
    assert ("the WARC file is damaged after offset" in last.reason
            or last.reason.startswith("the record is cut short: ")), last.reason


def test_a_replay_saved_in_a_warc_is_cleaned(tmp_path, snapshot):
    body, _ = as_playback(snapshot, "20191001000000", URL)
    warc = Warc(tmp_path / "c.warc", True)
    warc.response(body, "2019-10-01T00:00:00Z")
    [item] = warc_captures(warc.save())
    assert item.cleaned and b"WAYBACK" not in item.body


def test_a_missing_warc_file_is_named(tmp_path):
    with pytest.raises(CaptureSourceError, match=r"cannot read the WARC file .*/none.warc: No such file"):
        list(warc_captures(tmp_path / "none.warc"))


NOT_WARCS = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    "zip": b"PK\x03\x04" + bytes(40),
    "text": b"hello, this is no archive\n",
    "gzip-of-text": gzip.compress(b"hello, this is no archive\n"),
    "empty": b"",
}


@pytest.mark.parametrize("data", NOT_WARCS.values(), ids=NOT_WARCS.keys())
def test_a_file_that_is_no_warc_is_refused_as_one(tmp_path, data):
    """Issue 16: a file that is neither a WARC nor an HTML page names itself "not a WARC" (it was
    read as a damaged WARC and the import exited 0)."""
    path = tmp_path / "thing.bin"
    path.write_bytes(data)
    with pytest.raises(CaptureSourceError, match=r"thing.bin is not a WARC file"):
        list(warc_captures(path))


@pytest.mark.parametrize("gz", [True, False], ids=["gzip-records", "plain"])
def test_a_warc_torn_inside_its_first_record_is_still_a_warc(tmp_path, gz):
    warc = Warc(tmp_path / "c.warc", gz)
    warc.response(pages.v1(), "2019-10-01T00:00:00Z")
    path = warc.save()
    path.write_bytes(path.read_bytes()[:300])
    items = list(warc_captures(path))
    assert items and isinstance(items[-1], Skipped), items
