"""The shard reader on the real Common Crawl samples: counts, engine agreement, every fault recorded."""

from __future__ import annotations

import gzip
import io

import pytest

from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from tests.support.samples import DOLMA_JSONL, JWARC_2019_51, WARC_2020_34, WHIRLWIND_WARC, WHIRLWIND_WAT, WHIRLWIND_WET


def file_opener(path):
    def open_at(offset):
        handle = open(path, "rb")
        handle.seek(offset)
        return handle

    return open_at


def bytes_opener(data: bytes):
    return lambda offset: io.BytesIO(data[offset:])


def read(path, engine="fastwarc"):
    report = ShardReport(str(path))
    documents = list(read_shard(str(path), file_opener(path), report, engine=engine))
    return documents, report


def read_bytes(data: bytes, name="shard", engine="fastwarc"):
    report = ShardReport(name)
    documents = list(read_shard(name, bytes_opener(data), report, engine=engine))
    return documents, report


def test_cc_main_2020_34_has_16_html_responses():
    documents, report = read(WARC_2020_34)
    assert len(documents) == 16
    assert dict(report.records_by_type) == {"warcinfo": 1, "request": 17, "response": 16, "metadata": 16}
    assert report.crawl_id == "CC-MAIN-2020-34"
    assert {d["crawl_id"] for d in documents} == {"CC-MAIN-2020-34"}
    assert all(d["record_type"] == "response" and d["content_type"] == "text/html" for d in documents)
    assert documents[0]["url"] == "http://003338.cn/l41/481397.html"
    assert documents[0]["doc_id"] == "urn:uuid:c4c112a5-3503-4483-abf8-51a0dd86dd53"
    assert documents[0]["host"] == "003338.cn"
    assert documents[0]["record_offset"] == 940
    assert documents[0]["fetch_date"].isoformat() == "2020-08-08T17:27:41+00:00"
    assert not report.failures


def test_whirlwind_triple_gives_one_wet_conversion_and_one_response():
    wet, wet_report = read(WHIRLWIND_WET)
    assert len(wet) == 1 and wet[0]["record_type"] == "conversion"
    assert wet[0]["language"] == "spa"
    assert wet[0]["url"] == "https://an.wikipedia.org/wiki/Escopete"
    assert wet[0]["text"].startswith("Escopete - Biquipedia")
    assert wet_report.crawl_id == "CC-MAIN-2024-22"
    warc, _ = read(WHIRLWIND_WARC)
    assert len(warc) == 1 and warc[0]["url"] == wet[0]["url"]
    assert "Escopete" in warc[0]["text"]
    wat, wat_report = read(WHIRLWIND_WAT)
    assert wat == [] and dict(wat_report.records_by_type) == {"warcinfo": 1, "metadata": 1}
    assert not wat_report.failures


def test_jwarc_response_without_warcinfo_takes_crawl_id_from_path():
    documents, report = read(JWARC_2019_51)
    assert len(documents) == 1
    assert documents[0]["url"] == "http://commoncrawl.org/"
    assert documents[0]["crawl_id"] == "CC-MAIN-2019-51"


def test_dolma_jsonl_has_697_documents_with_one_id_per_line():
    documents, report = read(DOLMA_JSONL)
    assert len(documents) == 697
    assert report.crawl_id == "CC-MAIN-2019-30"
    first = documents[0]
    assert first["url"] == "http://16thfleet.wikidot.com/chatter:anewhome"
    assert first["doc_id"].startswith("sha1:") and len(first["doc_id"]) == 45
    assert first["text"].startswith("A New Home?")
    assert len({d["doc_id"] for d in documents}) == 697
    assert sum(d["text_chars"] for d in documents) == sum(len(d["text"]) for d in documents)


def test_uncompressed_jsonl_reads_as_the_gzipped_one(tmp_path):
    plain = tmp_path / "dolma.jsonl"
    plain.write_bytes(gzip.decompress(DOLMA_JSONL.read_bytes()))
    documents, report = read(plain)
    gzipped, _ = read(DOLMA_JSONL)
    assert len(documents) == 697 and not report.failures
    assert [(d["text"], d["record_offset"]) for d in documents] == [(d["text"], d["record_offset"]) for d in gzipped]


def test_identical_jsonl_lines_get_their_own_ids_which_do_not_depend_on_where_the_shard_is_read():
    line = b'{"url": "http://example.com/a", "text": "The same page, crawled twice."}\n'
    here, _ = read_bytes(line * 2, name="/data/crawl/part-00001.jsonl")
    there, _ = read_bytes(line * 2, name="s3://bucket/crawl/part-00001.jsonl")
    other, _ = read_bytes(line * 2, name="/data/crawl/part-00002.jsonl")
    assert len({d["doc_id"] for d in here}) == 2
    assert [d["doc_id"] for d in here] == [d["doc_id"] for d in there]
    assert not {d["doc_id"] for d in here} & {d["doc_id"] for d in other}


@pytest.mark.parametrize("path", [WARC_2020_34, WHIRLWIND_WARC, WHIRLWIND_WET, JWARC_2019_51, DOLMA_JSONL])
def test_fastwarc_and_warcio_yield_the_same_documents(path):
    fast, fast_report = read(path, "fastwarc")
    reference, reference_report = read(path, "warcio")
    assert fast == reference
    assert fast_report.records_by_type == reference_report.records_by_type


def test_format_is_detected_from_content_not_name(tmp_path):
    disguised = tmp_path / "shard.jsonl"
    disguised.write_bytes(WARC_2020_34.read_bytes())
    documents, _ = read(disguised)
    assert len(documents) == 16
    plain = tmp_path / "no-extension"
    plain.write_bytes(gzip.decompress(WARC_2020_34.read_bytes()))
    documents, report = read(plain)
    assert len(documents) == 16 and not report.failures


def test_truncated_gzip_keeps_documents_before_the_cut_and_records_the_offset():
    data = WARC_2020_34.read_bytes()
    documents, report = read_bytes(data[:70000])
    assert len(documents) == 7
    [failure] = report.failures
    assert (failure.error_class, failure.record_offset, failure.fatal) == ("truncated", 69787, True)


def test_cut_inside_a_response_body_is_a_truncation_not_a_short_document():
    data = WARC_2020_34.read_bytes()
    documents, report = read_bytes(data[:61500])
    assert len(documents) == 6
    assert report.failures[0].error_class == "truncated"
    assert report.failures[0].record_offset == 61090


def test_last_three_bytes_missing_is_detected_by_the_gzip_tail_check():
    data = WARC_2020_34.read_bytes()
    documents, report = read_bytes(data[:-3])
    assert len(documents) == 16
    assert [f.error_class for f in report.failures] == ["truncated"]


@pytest.mark.parametrize("engine", ["fastwarc", "warcio"])
def test_a_corrupt_gzip_member_is_skipped_with_its_offset_and_the_records_after_it_are_read(engine):
    data = WARC_2020_34.read_bytes()
    corrupt = data[:60000] + b"\0" * 50 + data[60050:]
    documents, report = read_bytes(corrupt, engine=engine)
    assert len(documents) == 15 and report.records_by_type["response"] == 15
    [failure] = report.failures
    assert (failure.error_class, failure.record_offset, failure.fatal) == ("corrupt_gzip", 48321, False)
    assert "reading resumed at byte 60227" in failure.message and report.records_skipped == 1


def test_not_warc_and_empty_files_are_named_faults():
    _, report = read_bytes(b"<html>not a crawl file</html>" * 10)
    assert report.failures[0].error_class == "not_a_shard"
    _, report = read_bytes(b"")
    assert report.failures[0].error_class == "empty"
    _, report = read_bytes(gzip.compress(b"", mtime=0))
    assert report.failures[0].error_class == "empty"


@pytest.mark.parametrize("engine", ["fastwarc", "warcio"])
def test_a_blank_line_inside_a_record_header_is_recorded_and_reading_goes_on(engine):
    plain = gzip.decompress(WARC_2020_34.read_bytes())
    broken = plain[:1000] + b"garbage line\r\n\r\n" + plain[1000:]  # inside the first request's header
    documents, report = read_bytes(broken, engine=engine)
    assert len(documents) == 16 and report.records_by_type["request"] == 17
    [failure] = report.failures
    assert (failure.error_class, failure.record_offset, failure.fatal) == ("bad_length", 764, False)


def test_missing_file_is_recorded_as_missing(tmp_path):
    _, report = read(tmp_path / "nope.warc.gz")
    assert [(f.error_class, f.fatal) for f in report.failures] == [("missing", True)]


def test_jsonl_line_that_is_not_json_is_skipped_and_counted():
    lines = DOLMA_JSONL.read_bytes()
    text = gzip.decompress(lines).splitlines(keepends=True)
    broken = b"".join(text[:3] + [b"{not json\n"] + text[3:6])
    documents, report = read_bytes(gzip.compress(broken, mtime=0))
    assert len(documents) == 6
    assert report.records_skipped == 1
    assert report.failures[0].error_class == "bad_json" and not report.failures[0].fatal
    assert report.failures[0].record_offset == sum(len(line) for line in text[:3])
