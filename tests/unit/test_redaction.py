"""A URI is printed, logged and stored only as redact_uri gives it: no user-info, no query string (a
presigned URL's signature lives there), no raw control bytes. Checked on what the reading layer writes."""

from __future__ import annotations

import logging

import pytest

from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.sources import shard_opener
from cc_sieve.jobs.redact import redact_uri, redact_uris_in
from tests.support.httpserver import FileServer
from tests.support.samples import WARC_2020_34

SIGNED = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=0123456789abcdef"


@pytest.mark.parametrize(("uri", "shown"), [
    ("https://user:secret@data.example.org/a/b.warc.gz" + SIGNED + "#frag", "https://data.example.org/a/b.warc.gz"),
    ("s3://bucket/key.warc.gz?versionId=3", "s3://bucket/key.warc.gz"),
    ("http://[::1]:8080/x?token=abc", "http://[::1]:8080/x"),
    ("/data/odd\x1b[31mname\udcff.warc.gz", "/data/odd\\x1b[31mname\\xff.warc.gz"),
    ("http://user:pw@[broken/x?sig=1", "http://[broken/x"),
])
def test_redact_uri(uri, shown):
    assert redact_uri(uri) == shown


def test_uris_inside_a_message_are_redacted():
    message = 'Could not connect to the endpoint URL: "https://u:p@host/k?X-Amz-Signature=abc"'
    assert redact_uris_in(message) == 'Could not connect to the endpoint URL: "https://host/k"'


def test_a_presigned_url_never_reaches_a_failures_row_or_a_log_line(caplog):
    data = WARC_2020_34.read_bytes()
    with FileServer({"/shard.warc.gz": data}) as server, caplog.at_level(logging.WARNING):
        server.cut_after["/shard.warc.gz"] = 50_000  # the first response breaks: the read resumes by Range
        good = f"{server.url}/shard.warc.gz{SIGNED}"
        missing = f"{server.url}/missing.warc.gz{SIGNED}"
        documents, good_report = read(good)
        _, missing_report = read(missing)
        assert server.requests[1] == (f"/shard.warc.gz{SIGNED}", "bytes=50000-")  # the signature is still sent
    assert len(documents) == 16 and not good_report.failures
    assert "stream broke at byte 50000" in caplog.text
    [failure] = missing_report.failures
    assert (failure.error_class, failure.message) == ("missing", "HTTP 404")
    stored = [d["source_shard"] for d in documents] + [good_report.source_shard, failure.source_shard]
    assert all("Signature" not in text and "AKIA" not in text for text in stored + [caplog.text])
    assert failure.source_shard == f"{server.url}/missing.warc.gz"


def read(uri: str):
    report = ShardReport(uri)
    return list(read_shard(uri, shard_opener(uri), report)), report
