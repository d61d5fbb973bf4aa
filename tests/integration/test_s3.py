"""Reading Common Crawl shards from a real S3 server (SeaweedFS on 127.0.0.1) through a manifest."""

from __future__ import annotations

import gzip

import pyarrow.parquet as pq
import pytest

from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.s3 import S3Options, s3_client
from cc_sieve.jobs.reading.shard_ingest import shard_key
from cc_sieve.jobs.reading.sources import shard_opener
from cc_sieve.jobs.spark.ingest import run_ingest
from tests.support.faultproxy import FaultProxy, FaultRule
from tests.support.s3server import BUCKET
from tests.support.samples import DOLMA_JSONL, WARC_2020_34, WHIRLWIND_WARC, WHIRLWIND_WET

LAYOUT = {
    WARC_2020_34: "crawl-data/CC-MAIN-2020-34/segments/1596439737645.2/warc/"
                  "CC-MAIN-20200808165417-20200808195417-00395.warc.gz",
    WHIRLWIND_WARC: "crawl-data/CC-MAIN-2024-22/segments/1715971057216.39/warc/"
                    "CC-MAIN-20240517233122-20240518023122-00000.warc.gz",
    WHIRLWIND_WET: "crawl-data/CC-MAIN-2024-22/segments/1715971057216.39/wet/"
                   "CC-MAIN-20240517233122-20240518023122-00000.warc.wet.gz",
}


WARC_MANIFEST = "crawl-data/CC-MAIN-TEST/warc.paths.gz"


@pytest.fixture(scope="module")
def bucket(s3_server):
    client = s3_server.client()
    for path, key in LAYOUT.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
    warc_keys = [key for key in LAYOUT.values() if "/warc/" in key]
    client.put_object(Bucket=BUCKET, Key=WARC_MANIFEST,
                      Body=gzip.compress(("\n".join(warc_keys) + "\n").encode(), mtime=0))
    client.put_object(Bucket=BUCKET, Key="broken/corrupt.warc.gz",
                      Body=WARC_2020_34.read_bytes()[:60000] + b"\0" * 64 + WARC_2020_34.read_bytes()[60064:])
    client.put_object(Bucket=BUCKET, Key="jsonl/dolma.jsonl.gz", Body=DOLMA_JSONL.read_bytes())
    return S3Options(endpoint_url=s3_server.endpoint, region="us-east-1", max_attempts=3)


def read_all(uri, s3):
    report = ShardReport(uri)
    documents = list(read_shard(uri, shard_opener(uri, s3), report))
    return documents, report


def without_source(documents):
    return [{k: v for k, v in d.items() if k != "source_shard"} for d in documents]


def summary_partial(tmp_path) -> int:
    """Documents the corrupt shard yielded around its fault (the count is in its own report)."""
    table = pq.read_table(tmp_path / "out" / "documents" / f"{shard_key(f's3://{BUCKET}/broken/corrupt.warc.gz')}.parquet")
    assert table.num_rows == 15
    return table.num_rows


def test_manifest_on_s3_resolves_against_the_bucket(bucket):
    manifest = InputConfig(specs=[f"s3://{BUCKET}/{WARC_MANIFEST}"], manifest_base=f"s3://{BUCKET}/")
    uris = resolve_inputs(manifest, bucket)
    assert uris == [f"s3://{BUCKET}/{LAYOUT[WARC_2020_34]}", f"s3://{BUCKET}/{LAYOUT[WHIRLWIND_WARC]}"]


def test_prefix_lists_every_object_under_it(bucket):
    uris = resolve_inputs(InputConfig(specs=[f"s3://{BUCKET}/crawl-data/CC-MAIN-2024-22/"]), s3=bucket)
    assert uris == [f"s3://{BUCKET}/{LAYOUT[WHIRLWIND_WARC]}", f"s3://{BUCKET}/{LAYOUT[WHIRLWIND_WET]}"]


@pytest.mark.parametrize("path", [WARC_2020_34, WHIRLWIND_WARC, WHIRLWIND_WET])
def test_s3_read_gives_exactly_the_documents_of_the_local_read(bucket, path):
    remote, report = read_all(f"s3://{BUCKET}/{LAYOUT[path]}", bucket)
    local, _ = read_all(str(path), bucket)
    assert without_source(remote) == without_source(local)
    assert not report.failures


def test_body_cut_mid_stream_is_resumed_by_range_with_identical_output(bucket, s3_server):
    key = LAYOUT[WARC_2020_34]
    with FaultProxy(s3_server.port) as proxy:
        proxy.rules.append(FaultRule(path_part=key, action="cut", after_bytes=50_000, times=2))
        via_proxy = S3Options(endpoint_url=proxy.endpoint, region="us-east-1", max_attempts=3)
        documents, report = read_all(f"s3://{BUCKET}/{key}", via_proxy)
        ranges = [r for method, path, r in proxy.requests if method == "GET" and key in path]
    local, _ = read_all(str(WARC_2020_34), bucket)
    assert without_source(documents) == without_source(local)
    assert not report.failures
    assert ranges[0] is None and ranges[1] == "bytes=50000-", ranges
    assert ranges[2].startswith("bytes=") and int(ranges[2][6:-1]) > 50_000


def test_missing_key_and_corrupt_shard_are_recorded_while_the_rest_finishes(bucket, spark, tmp_path):
    uris = [f"s3://{BUCKET}/{LAYOUT[WARC_2020_34]}", f"s3://{BUCKET}/no/such/key.warc.gz",
            f"s3://{BUCKET}/broken/corrupt.warc.gz", f"s3://{BUCKET}/jsonl/dolma.jsonl.gz"]
    summary = run_ingest(spark, uris, str(tmp_path / "out"), ReadOptions(s3=bucket))
    assert (summary.shards, summary.shards_failed, summary.documents) == (4, 1, 16 + 697 + summary_partial(tmp_path))
    failures = {f["source_shard"]: f for f in pq.read_table(tmp_path / "out" / "failures.parquet").to_pylist()}
    assert failures[uris[1]]["error_class"] == "missing" and failures[uris[1]]["fatal"]
    # the corrupt gzip member is skipped and the records after it read (through a Range GET on S3)
    assert failures[uris[2]]["error_class"] == "corrupt_gzip" and not failures[uris[2]]["fatal"]
    documents = pq.read_table(tmp_path / "out" / "documents").to_pylist()
    assert len(documents) == summary.documents
    assert sum(d["source_shard"] == uris[0] for d in documents) == 16


def test_wrong_credentials_are_access_denied_and_never_printed(bucket, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wrong-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value-xyz")
    s3_client.cache_clear()
    try:
        _, report = read_all(f"s3://{BUCKET}/{LAYOUT[WARC_2020_34]}", bucket)
    finally:
        s3_client.cache_clear()
    assert [f.error_class for f in report.failures] == ["access_denied"]
    assert "wrong-secret-value-xyz" not in report.failures[0].message
    captured = capsys.readouterr()
    assert "wrong-secret-value-xyz" not in captured.out + captured.err


def test_slowdown_is_retried_with_backoff_then_the_shard_reads_in_full(bucket, s3_server):
    key = LAYOUT[WHIRLWIND_WARC]
    with FaultProxy(s3_server.port) as proxy:
        proxy.rules.append(FaultRule(path_part=key, action="slowdown", times=2))
        via_proxy = S3Options(endpoint_url=proxy.endpoint, region="us-east-1", max_attempts=4)
        documents, report = read_all(f"s3://{BUCKET}/{key}", via_proxy)
        gets = [r for r in proxy.requests if r[0] == "GET" and key in r[1]]
    assert len(documents) == 1 and not report.failures
    assert len(gets) >= 3  # two 503 answers, then the read (and the tail check)


def test_slowdown_that_never_stops_is_recorded_after_the_retry_limit(bucket, s3_server):
    key = LAYOUT[WHIRLWIND_WET]
    with FaultProxy(s3_server.port) as proxy:
        proxy.rules.append(FaultRule(path_part=key, action="slowdown", times=100))
        via_proxy = S3Options(endpoint_url=proxy.endpoint, region="us-east-1", max_attempts=3)
        documents, report = read_all(f"s3://{BUCKET}/{key}", via_proxy)
        gets = [r for r in proxy.requests if r[0] == "GET" and key in r[1]]
    assert documents == []
    assert [(f.error_class, f.fatal) for f in report.failures] == [("s3_unavailable", True)]
    assert len(gets) == 3


def test_connection_reset_is_retried(bucket, s3_server):
    key = LAYOUT[WHIRLWIND_WET]
    with FaultProxy(s3_server.port) as proxy:
        proxy.rules.append(FaultRule(path_part=key, action="reset", times=1))
        via_proxy = S3Options(endpoint_url=proxy.endpoint, region="us-east-1", max_attempts=3)
        documents, report = read_all(f"s3://{BUCKET}/{key}", via_proxy)
    assert len(documents) == 1 and not report.failures
