"""JSONL lines as they come (issue 15): any bad line is skipped with its offset or its field counted, the
rest of the shard is read, and every document can be written to Arrow."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pytest

from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA
from tests.support.warcs import read


def line(**fields) -> bytes:
    return json.dumps({"url": "http://example.com/", "text": "A document.", **fields}).encode() + b"\n"


def arrow(documents: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(documents, schema=DOCUMENT_SCHEMA)


def test_a_lone_surrogate_becomes_a_replacement_character_not_a_crash():
    data = b'{"url": "http://example.com/\\ud800", "text": "broken \\udc00 pair \\ud83d"}\n' + line(text="next")
    documents, report = read(data, name="s.jsonl")
    assert [d["text"] for d in documents] == ["broken \ufffd pair \ufffd", "next"]
    assert documents[0]["url"] == "http://example.com/\ufffd"
    assert arrow(documents).num_rows == 2 and not report.failures


def test_values_of_the_wrong_type_are_coerced_or_stored_as_null_and_counted_per_field():
    data = b"".join([line(language=7), line(language=["en"]), line(language={"code": "en"}), line(url=12345),
                     line(date=20240101), line(date="2024-13-45"), line(crawl_id=None, language="en")])
    documents, report = read(data, name="s.jsonl")
    assert [d["language"] for d in documents] == ["7", None, None, None, None, None, "en"]
    assert documents[3]["url"] == "12345" and [d["fetch_date"] for d in documents] == [None] * 7
    assert arrow(documents).num_rows == 7 and report.records_skipped == 0
    rows = {f.message.split("'")[1]: f for f in report.failures}
    assert set(rows) == {"language", "fetch_date"} and all(f.error_class == "bad_field" for f in rows.values())
    assert "in 2 record(s)" in rows["language"].message and "in 2 record(s)" in rows["fetch_date"].message
    assert rows["language"].record_offset == len(line(language=7))


def test_a_first_line_that_is_not_json_and_a_byte_order_mark_do_not_end_the_shard():
    broken_first = b"this line is damaged\n" + line(text="one") + line(text="two")
    documents, report = read(broken_first, name="s.jsonl")
    assert [d["text"] for d in documents] == ["one", "two"]
    assert [(f.error_class, f.record_offset, f.fatal) for f in report.failures] == [("bad_json", 0, False)]
    with_bom, report = read(b"\xef\xbb\xbf" + line(text="one") + line(text="two"), name="s.jsonl")
    assert [d["text"] for d in with_bom] == ["one", "two"] and not report.failures
    assert with_bom[1]["record_offset"] == 3 + len(line(text="one"))


def test_json_nested_a_million_deep_is_one_skipped_line():
    data = line(text="before") + b"[" * 1_000_000 + b"]" * 1_000_000 + b"\n" + line(text="after")
    documents, report = read(gzip.compress(data, mtime=0), name="s.jsonl.gz")
    assert [d["text"] for d in documents] == ["before", "after"]
    [failure] = report.failures
    assert (failure.error_class, failure.fatal) == ("bad_json", False) and "nested too deep" in failure.message


def test_a_line_over_the_record_cap_is_skipped_like_a_large_record():
    """A 50 MB line became one document."""
    data = line(text="before") + line(text="x" * 3_000_000) + line(text="after")
    documents, report = read(data, name="s.jsonl", max_payload=1_000_000)
    assert [d["text"] for d in documents] == ["before", "after"]
    [failure] = report.failures
    assert (failure.error_class, failure.record_offset, failure.fatal) == ("too_large", len(line(text="before")), False)
    assert documents[1]["record_offset"] == len(line(text="before")) + len(line(text="x" * 3_000_000))


@pytest.mark.parametrize("text", ["", "not json at all\n" * 3])
def test_a_text_file_is_still_not_a_shard(text):
    _, report = read(text.encode(), name="notes.jsonl")
    assert report.failures[0].error_class == ("empty" if not text else "not_a_shard")
