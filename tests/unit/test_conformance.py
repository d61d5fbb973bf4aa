"""Every file of warc-conformance (warcio's and jwarc's own test files) against warcio's view of it
(warcio-reference.jsonl): no fault escapes, every HTML 2xx response warcio sees is a document or a
failures row, no text holds a chunk size or a compressed byte stream, the ARC files give their pages, and
both engines yield the same documents except where listed below with the reason."""

from __future__ import annotations

import re

import pytest

from cc_sieve.jobs.reading.reader import ShardReport, local_opener, read_shard
from tests.support.samples import WARC_CONFORMANCE
from tests.support.samples import WARCIO_REFERENCE as REFERENCE

FILES = sorted(REFERENCE)
# The whole file is one gzip member (not one per record, as WARC requires for offsets): records inside it
# have no compressed offset of their own. fastwarc reports the end of the member, warcio a position that
# mixes compressed and inflated bytes; every other field of every document agrees.
OFFSET_DIFFERS = {"warcio__test_data_example-bad-non-chunked.warc.gz", "warcio__test_data_example-bad.warc.gz.bad"}
# Where cc-sieve reads more than warcio, and why (warcio stops with an error on these files).
READS_MORE = {
    "warcio__test_data_example-bad-non-chunked.warc.gz": "one gzip member for the whole file: read record by record",
    "warcio__test_data_example-bad.warc.gz.bad": "the same, and its second response is a 301 (counted, no document)",
}
CHUNK_SIZE_LINE = re.compile(r"^(?=[0-9a-f]*[a-f]|0)[0-9a-f]{3,8}$", re.M)
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def read(name: str, engine: str) -> tuple[list[dict], ShardReport]:
    path = WARC_CONFORMANCE / name
    report = ShardReport(str(path))
    return list(read_shard(str(path), local_opener(path), report, engine=engine)), report


@pytest.mark.parametrize("name", FILES)
def test_every_html_2xx_response_warcio_sees_is_a_document_or_a_failures_row(name):
    reference = REFERENCE[name]
    for engine in ("fastwarc", "warcio"):
        documents, report = read(name, engine)
        html_2xx = report.responses_by_class.get("html 2xx", 0)
        skipped = sum(1 for f in report.failures if not f.fatal and f.error_class not in ("bad_length", "bad_field"))
        assert html_2xx >= reference["html_resp_2xx"], engine
        assert len(documents) + skipped == html_2xx, engine
        if name not in READS_MORE:
            assert html_2xx == reference["html_resp_2xx"], engine
        assert all(f.message.strip() and not f.message.endswith(": ") for f in report.failures)
        assert not any(f.fatal for f in report.failures), (engine, report.failures)
        for document in documents:
            assert not CHUNK_SIZE_LINE.search(document["text"]), document["text"][:200]
            assert not NOT_TEXT.search(document["text"]), document["text"][:200]


@pytest.mark.parametrize("name", FILES)
def test_both_engines_yield_the_same_documents(name):
    fast, fast_report = read(name, "fastwarc")
    reference, reference_report = read(name, "warcio")
    if name in OFFSET_DIFFERS:
        fast = [{**d, "record_offset": None} for d in fast]
        reference = [{**d, "record_offset": None} for d in reference]
    assert fast == reference
    assert fast_report.records_by_type == reference_report.records_by_type
    assert fast_report.responses_by_class == reference_report.responses_by_class
    assert [f.as_row() for f in fast_report.failures] == [f.as_row() for f in reference_report.failures]


@pytest.mark.parametrize("name", ["warcio__test_data_example.arc", "warcio__test_data_example.arc.gz",
                                  "warcio__test_data_example-space-in-url.arc"])
def test_arc_files_yield_their_pages(name):
    [document], report = read(name, "fastwarc")  # ARC goes to warcio whichever engine is asked for
    assert document["url"].startswith("http://example.com/") and document["host"] == "example.com"
    assert document["text"].startswith("Example Domain\n\nThis domain is established to be used for illustrative")
    assert document["fetch_date"].isoformat() == "2014-02-16T05:02:21+00:00"
    assert document["doc_id"].startswith("sha1:")  # ARC records carry no id: one from the file name and offset
    assert dict(report.records_by_type) == {"warcinfo": 1, "response": 1}


def test_the_chunked_page_is_dechunked():
    [document], _ = read("warcio__test_data_example-iana.org-chunked.warc", "fastwarc")
    assert document["text"].startswith("Internet Assigned Numbers Authority\n\nThe global coordination")
    assert "001c37" not in document["text"]


def test_gzip_encoded_pages_are_decoded():
    for name in ("warcio__test_data_example.warc.gz", "warcio__test_data_example.warc"):
        [document], report = read(name, "fastwarc")
        assert document["text"].startswith("Example Domain") and not report.failures
