"""Bad input: charsets, binary payloads, a 200 MB record, bad configuration. Nothing lost, every fault named."""

from __future__ import annotations

import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cc_sieve.jobs.config.presets import check_tracking_uri, load_benchmark_config
from cc_sieve.jobs.config.spark_conf import spark_settings
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from tests.support.samples import bytes_opener

RUSSIAN = "Пожарная безопасность — наша главная задача. Мы работаем с 1998 года."


def warc_with(pages: list[tuple[str, bytes, str]]) -> bytes:
    """A gzip WARC with one response per (url, payload, content-type)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for url, payload, content_type in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                      http_headers=http))
    return out.getvalue()


def html(body: str) -> str:
    return f"<html><head><title>t</title></head><body><p>{body}</p></body></html>"


def read(data: bytes):
    report = ShardReport("test.warc.gz")
    return list(read_shard("test.warc.gz", bytes_opener(data), report)), report


def test_wrong_missing_and_invalid_charsets_still_give_readable_text():
    data = warc_with([
        ("http://a.example/declared-wrong", html(RUSSIAN).encode("cp1251"), "text/html; charset=utf-8"),
        ("http://b.example/undeclared", html(RUSSIAN).encode("cp1251"), "text/html"),
        ("http://c.example/unknown-label", html("café crème").encode("utf-8"), "text/html; charset=no-such"),
        ("http://d.example/invalid-utf8", html("ok ").encode() + b"\xff\xfe broken \xc3", "text/html; charset=utf-8"),
    ])
    documents, report = read(data)
    texts = {d["url"]: d["text"] for d in documents}
    assert texts["http://a.example/declared-wrong"] == RUSSIAN
    assert texts["http://b.example/undeclared"] == RUSSIAN
    assert texts["http://c.example/unknown-label"] == "café crème"
    assert texts["http://d.example/invalid-utf8"].startswith("ok")
    assert not report.failures


def test_binary_payload_labelled_html_is_skipped_and_recorded_between_good_pages():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    data = warc_with([("http://a.example/", html("before").encode(), "text/html"),
                      ("http://b.example/logo", png, "text/html"),
                      ("http://c.example/", html("after").encode(), "text/html")])
    documents, report = read(data)
    assert [d["text"] for d in documents] == ["before", "after"]
    [failure] = report.failures
    assert (failure.error_class, failure.fatal) == ("binary_payload", False)
    assert report.records_skipped == 1 and failure.record_offset > 0


def test_benchmark_config_errors_name_the_file_and_key(tmp_path):
    bad_type = tmp_path / "bad-type.yaml"
    bad_type.write_text("input: {specs: [data/commoncrawl]}\nrecipes: [raw]\ndedup: {bands: many}\n")
    with pytest.raises(ConfigError, match=r"bad-type.yaml: dedup.bands: Input should be a valid integer"):
        load_benchmark_config(bad_type)
    unknown_key = tmp_path / "unknown.yaml"
    unknown_key.write_text("input: {specs: [x]}\nrecipes: [raw]\npii: {mode: regex, colour: blue}\n")
    with pytest.raises(ConfigError, match=r"unknown.yaml: pii.colour: unknown key; allowed: enabled, mode, entities, "
                                          r"score_threshold, sample"):
        load_benchmark_config(unknown_key)
    bad_mode = tmp_path / "mode.yaml"
    bad_mode.write_text("input: {specs: [x]}\nrecipes: [raw]\npii: {mode: psychic}\n")
    with pytest.raises(ConfigError, match=r"mode.yaml: pii.mode: Input should be 'regex' or 'full'"):
        load_benchmark_config(bad_mode)
    bad_master = tmp_path / "master.yaml"
    bad_master.write_text("input: {specs: [x]}\nrecipes: [raw]\nspark: {master: 'mesa://nowhere'}\n")
    with pytest.raises(ConfigError, match=r"master.yaml: spark.master: .*unknown Spark master"):
        load_benchmark_config(bad_master)
    with pytest.raises(ConfigError, match=r"--config nope.yaml: no such file"):
        load_benchmark_config("nope.yaml")


def test_unreachable_tracking_uri_and_unknown_master_fail_before_spark():
    with pytest.raises(ConfigError, match=r"tracking.uri http://127.0.0.1:9/: MLflow server unreachable"):
        check_tracking_uri("http://user:secret@127.0.0.1:9/")
    with pytest.raises(ConfigError, match="--master yarnn: unknown Spark master"):
        spark_settings(master="yarnn")


def test_default_preset_is_valid():
    config = load_benchmark_config()
    assert config.recipes == ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords", "pii-dolma"]
    assert (config.dedup.bands, config.dedup.rows) == (14, 8)
