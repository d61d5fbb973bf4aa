"""WARC files as they are in the wild (issue 15): each damaged or unusual file is made by the test, and both
engines must read it the same way, with every document there and every fault a failures row."""

from __future__ import annotations

import gzip
import io
import zlib

import brotli
import pyarrow as pa
import pytest
from fastwarc.stream_io import ZstdWriter

from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA
from tests.support.warcs import gzip_members, http_response, page, read, response, warc_record

ENGINES = ["fastwarc", "warcio"]
PAGE_TEXT = "Page {n}\n\nSome words of the page.\n\nA second paragraph, so that the page has a main content worth " \
            "extracting."


def texts(documents: list[dict]) -> list[str]:
    return [d["text"] for d in documents]


def arrow(documents: list[dict]) -> pa.Table:
    """What the ingest writes: a record that reaches this point can no longer crash the job."""
    return pa.Table.from_pylist(documents, schema=DOCUMENT_SCHEMA)


@pytest.mark.parametrize("engine", ENGINES)
def test_records_without_a_record_id_get_one_from_the_file_name_and_offset(engine):
    data = gzip_members([warc_record(http_response(page("No id")), record_id=None),
                         warc_record(b"Converted text without an id.", record_type="conversion", record_id=None)])
    documents, report = read(data, name="s3://bucket/crawl/part-1.warc.gz", engine=engine)
    assert [d["record_type"] for d in documents] == ["response", "conversion"]
    assert all(d["doc_id"].startswith("sha1:") for d in documents) and documents[0]["doc_id"] != documents[1]["doc_id"]
    again, _ = read(data, name="/local/copy/part-1.warc.gz", engine=engine)
    assert [d["doc_id"] for d in again] == [d["doc_id"] for d in documents]
    assert arrow(documents).num_rows == 2 and not report.failures


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_http_heads_ending_lines_with_lf_alone_are_read(engine, line_end):
    """ClueWeb-style files: every page was dropped, silently, with exit 0."""
    records = [warc_record(http_response(page(f"Page {n}"), line_end=b"\n"), uri=f"http://example.com/{n}",
                           record_id=f"<urn:uuid:{n}>", line_end=line_end) for n in range(3)]
    documents, report = read(b"".join(records), engine=engine)
    assert [d["text"].split("\n")[0] for d in documents] == ["Page 0", "Page 1", "Page 2"]
    assert report.responses_by_class == {"html 2xx": 3} and not report.failures


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("status_line", ["HTTPX/1.1 200", "HTTP/1.1 200", "HTTP/2 200", "HTTP/1.0 200 Okay then"])
def test_lenient_status_lines_are_read(engine, status_line):
    documents, report = read(gzip_members([response(1, status_line=status_line)]), engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=1)] and report.responses_by_class == {"html 2xx": 1}


@pytest.mark.parametrize("engine", ENGINES)
def test_every_response_is_counted_by_content_and_status_class(engine):
    """Non-2xx HTML answers used to be skipped with no count anywhere."""
    data = gzip_members([
        response(1),
        response(2, status_line="HTTP/1.1 404 Not Found"),
        response(3, status_line="HTTP/1.1 301 Moved Permanently"),
        response(4, body=b"\x89PNG\r\n\x1a\n", headers=[("Content-Type", "image/png")]),
        warc_record(b"no HTTP here, just bytes", uri="dns:example.com"),
        warc_record(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", record_type="request"),
    ])
    documents, report = read(data, engine=engine)
    assert len(documents) == 1
    assert report.responses_by_class == {"html 2xx": 1, "html 4xx": 1, "html 3xx": 1, "other 2xx": 1, "no_http": 1}
    assert sum(report.responses_by_class.values()) == report.records_by_type["response"] == 5


def chunked(body: bytes, size: int = 40) -> bytes:
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def zstd(body: bytes) -> bytes:
    out = io.BytesIO()
    writer = ZstdWriter(out)
    writer.write(body)
    writer.close()
    return out.getvalue()


CODINGS = {
    "gzip": lambda body: gzip.compress(body, mtime=0),
    "deflate": zlib.compress,
    "raw-deflate": lambda body: zlib.compress(body, wbits=-15),
    "br": brotli.compress,
    "zstd": zstd,
}



@pytest.mark.parametrize("engine", ENGINES)
def test_chunked_transfer_coding_is_undone(engine):
    """Ten real pages began with hex chunk sizes ("inte 7ff7 rviewees")."""
    body = page("Chunked", "interviewees " * 30)
    data = gzip_members([response(1, body=chunked(body), headers=[("Content-Type", "text/html"),
                                                                  ("Transfer-Encoding", "chunked")])])
    [document], report = read(data, engine=engine)
    assert document["text"].startswith("Chunked\n\ninterviewees interviewees")
    assert "\n28\n" not in document["text"] and "interviewees interviewees" in document["text"].split("\n")[2]
    assert document["content_bytes"] == len(body) and not report.failures


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("coding", sorted(CODINGS))
def test_content_codings_are_decoded(engine, coding):
    """gzip/deflate/brotli pages were dropped as binary_payload."""
    body = page("Encoded", "Der Inhalt ist komprimiert übertragen worden.")
    header = "deflate" if coding == "raw-deflate" else coding
    data = gzip_members([response(1, body=CODINGS[coding](body), headers=[
        ("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", header)])])
    [document], report = read(data, engine=engine)
    assert document["text"].startswith("Encoded\n\nDer Inhalt ist komprimiert übertragen worden.")
    assert document["content_bytes"] == len(body) and not report.failures


@pytest.mark.parametrize("engine", ENGINES)
def test_chunked_and_gzip_together_are_both_undone(engine):
    body = page("Both", "chunked then gzip")
    data = gzip_members([response(1, body=chunked(gzip.compress(body, mtime=0)), headers=[
        ("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")])])
    [document], _ = read(data, engine=engine)
    assert document["text"].startswith("Both\n\nchunked then gzip")


@pytest.mark.parametrize("engine", ENGINES)
def test_common_crawls_renamed_headers_mean_the_payload_is_already_decoded(engine):
    body = page("Already decoded", "Common Crawl stores payloads decoded")
    data = gzip_members([response(1, body=body, headers=[
        ("Content-Type", "text/html"), ("X-Crawler-Content-Encoding", "gzip"),
        ("X-Crawler-Transfer-Encoding", "chunked")])])
    [document], report = read(data, engine=engine)
    assert document["text"].startswith("Already decoded") and not report.failures


@pytest.mark.parametrize("engine", ENGINES)
def test_a_decompression_bomb_stops_at_the_record_cap(engine):
    bomb = gzip.compress(b"<p>" + b"a" * 50_000_000, mtime=0)  # 48 KB that inflate to 50 MB
    data = gzip_members([response(1, body=bomb, headers=[("Content-Type", "text/html"),
                                                         ("Content-Encoding", "gzip")]), response(2)])
    documents, report = read(data, engine=engine, max_payload=1_000_000)
    assert texts(documents) == [PAGE_TEXT.format(n=2)]
    [failure] = report.failures
    assert failure.error_class == "too_large" and not failure.fatal


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unsupported_or_corrupt_content_coding_is_a_failures_row(engine):
    data = gzip_members([
        response(1, body=b"\x1f\x8b\x08\x00garbage", headers=[("Content-Type", "text/html"),
                                                              ("Content-Encoding", "gzip")]),
        response(2, body=b"...", headers=[("Content-Type", "text/html"), ("Content-Encoding", "compress")]),
        response(3)])
    documents, report = read(data, engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=3)]
    assert [(f.error_class, f.fatal) for f in report.failures] == [("undecodable", False)] * 2
    assert "compress" in report.failures[1].message


@pytest.mark.parametrize("engine", ENGINES)
def test_one_invalid_byte_in_a_utf8_page_is_replaced_not_a_reason_to_switch_codecs(engine):
    """The page became mojibake: 日本語 -> æ—¥æœ¬èªž."""
    body = page("Tokyo", "The word 日本語 means Japanese. " + "A page about travel in Japan. " * 20)
    [document], _ = read(gzip_members([response(1, body=body.replace(b"travel", b"trav\xffel", 1))]), engine=engine)
    assert document["text"].startswith("Tokyo\n\nThe word 日本語 means Japanese. A page about trav\ufffdel")
    japanese = page("日本語のページ", "これは日本語で書かれた文章です。" * 5).replace("文章".encode(), b"\xff", 1)
    [document], _ = read(gzip_members([response(1, body=japanese)]), engine=engine)
    assert document["text"].startswith("日本語のページ") and document["text"].count("\ufffd") == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_a_byte_order_mark_is_not_text(engine):
    data = gzip_members([response(1, body=b"\xef\xbb\xbf" + page("With a BOM")),
                         warc_record("\ufeffConverted text with a BOM".encode(), record_type="conversion")])
    documents, _ = read(data, engine=engine)
    assert [d["text"][:12] for d in documents] == ["With a BOM\n\n", "Converted te"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("delta", [300, -300, 1, -1])
def test_a_wrong_content_length_costs_no_other_record(engine, gzipped, delta):
    """Reading used to end at the bad record (warcio reads on); now its true extent wins and both engines
    read every record, the bad one included, without a byte of the next record in its text."""
    records = [response(n) for n in range(5)]
    true_length = len(http_response(page("Page 1")))
    records[1] = warc_record(http_response(page("Page 1")), uri="http://example.com/1",
                             record_id="<urn:uuid:1>", length=true_length + delta)
    data = gzip_members(records) if gzipped else b"".join(records)
    documents, report = read(data, engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=n) for n in range(5)]
    assert all(f.error_class == "bad_length" and not f.fatal for f in report.failures)
    assert report.records_skipped == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_http_heads_over_32_kb_are_read_and_over_256_kb_skipped_without_ending_the_shard(engine):
    big_head = [("Content-Type", "text/html")] + [(f"X-Filler-{i}", "x" * 100) for i in range(400)]  # ~42 KB
    huge_head = [("Content-Type", "text/html")] + [(f"X-Filler-{i}", "x" * 100) for i in range(3000)]  # ~320 KB
    data = gzip_members([response(1, headers=big_head), response(2, headers=huge_head), response(3)])
    documents, report = read(data, engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=1), PAGE_TEXT.format(n=3)]
    [failure] = report.failures
    assert (failure.error_class, failure.fatal) == ("http_head_too_large", False)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_warc_date_that_overflows_is_null_and_counted(engine):
    data = gzip_members([warc_record(http_response(page("Overflow")), date="9999-12-31T23:59:59-01:00"),
                         response(2)])
    documents, report = read(data, engine=engine)
    assert [d["fetch_date"] for d in documents][0] is None and len(documents) == 2
    assert report.documents == 2 and arrow(documents).num_rows == 2
    [failure] = report.failures
    assert failure.error_class == "bad_field" and "fetch_date" in failure.message and not failure.fatal


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("uri", ["<http://Example.com/a page>", " http://Example.com/a page "])
def test_target_uris_in_angle_brackets_or_with_spaces_are_normalised_before_the_host(engine, uri):
    [document], _ = read(gzip_members([warc_record(http_response(page()), uri=uri)]), engine=engine)
    assert (document["url"], document["host"]) == ("http://Example.com/a%20page", "example.com")


def test_not_a_shard_names_the_fault_without_quoting_the_file():
    _, report = read(b"root:x:0:0:secret-line:/root:/bin/bash\n" * 10, name="/etc/passwd")
    [failure] = report.failures
    assert failure.error_class == "not_a_shard" and "root" not in failure.message and "secret" not in failure.message


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_bytes_before_the_first_record_are_skipped(engine):
    data = b"\x00\x01 a damaged start of file\r\n" + b"".join(response(n) for n in range(3))
    documents, report = read(data, engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=n) for n in range(3)]
    [failure] = report.failures
    assert (failure.record_offset, failure.fatal) == (0, False) and "reading resumed at byte 28" in failure.message


@pytest.mark.parametrize("engine", ENGINES)
def test_junk_between_gzip_members_is_skipped_and_named(engine):
    members = [gzip.compress(response(n), mtime=0) for n in range(4)]
    documents, report = read(members[0] + members[1] + b"JUNK" * 10 + members[2] + members[3], engine=engine)
    assert texts(documents) == [PAGE_TEXT.format(n=n) for n in range(4)]
    [failure] = report.failures
    assert (failure.error_class, failure.record_offset, failure.fatal) == ("corrupt_gzip", len(members[0]), False)
    assert failure.message.startswith("40 bytes after the record are no gzip member") and report.records_skipped == 0


def test_a_body_cut_into_millions_of_chunks_is_refused_in_bounded_time():
    body = b"1\r\nx\r\n" * 2_000_000 + b"0\r\n\r\n"
    data = gzip_members([response(1, body=body, headers=[("Content-Type", "text/html"),
                                                         ("Transfer-Encoding", "chunked")]), response(2)])
    documents, report = read(data)
    assert texts(documents) == [PAGE_TEXT.format(n=2)]
    assert [(f.error_class, f.fatal) for f in report.failures] == [("undecodable", False)]


@pytest.mark.parametrize("engine", ENGINES)
def test_blank_lines_before_the_status_line_are_no_reason_to_reframe(engine):
    records = [warc_record(b"\r\n" + http_response(page(f"Page {n}")), uri=f"http://example.com/{n}",
                           record_id=f"<urn:uuid:{n}>") for n in range(2)]
    documents, report = read(gzip_members(records), engine=engine)
    assert [d["text"].split("\n")[0] for d in documents] == ["Page 0", "Page 1"] and not report.failures
