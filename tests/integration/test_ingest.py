"""The ingest job on Spark: documents and failures tables, resume, exit codes."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from cc_sieve.jobs.commands.ingest import main as ingest_main
from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.shard_ingest import shard_key
from cc_sieve.jobs.spark.ingest import run_ingest
from tests.support.samples import CC_SAMPLES, WARC_2020_34


def test_every_real_sample_lands_in_the_documents_table(spark, tmp_path):
    uris = resolve_inputs(InputConfig(specs=[str(CC_SAMPLES)]))
    summary = run_ingest(spark, uris, str(tmp_path), ReadOptions())
    assert (summary.shards, summary.shards_failed, summary.documents, summary.failures) == (6, 0, 716, 0)
    assert summary.crawl_ids == ["CC-MAIN-2019-30", "CC-MAIN-2019-51", "CC-MAIN-2020-34", "CC-MAIN-2024-22"]
    documents = spark.read.parquet(str(tmp_path / "documents"))
    by_crawl = {r["crawl_id"]: r["count"] for r in documents.groupBy("crawl_id").count().collect()}
    assert by_crawl == {"CC-MAIN-2019-30": 697, "CC-MAIN-2019-51": 1, "CC-MAIN-2020-34": 16, "CC-MAIN-2024-22": 2}
    assert documents.select("doc_id").distinct().count() == 716
    shards = {r["source_shard"].rsplit("/", 1)[-1]: r for r in pq.read_table(tmp_path / "shards.parquet").to_pylist()}
    assert dict(shards["resiliparse-warcfile.warc.gz"]["records_by_type"]) == {
        "warcinfo": 1, "request": 17, "response": 16, "metadata": 16}


def test_corrupt_and_missing_shards_are_recorded_and_the_rest_finishes(spark, tmp_path):
    corrupt = tmp_path / "in" / "corrupt.warc.gz"
    corrupt.parent.mkdir()
    corrupt.write_bytes(WARC_2020_34.read_bytes()[:70000])
    not_warc = tmp_path / "in" / "notes.warc.gz"
    not_warc.write_text("these are not the records you are looking for\n" * 20)
    uris = [str(WARC_2020_34), str(corrupt), str(tmp_path / "in" / "missing.warc.gz"), str(not_warc)]
    summary = run_ingest(spark, uris, str(tmp_path / "out"), ReadOptions())
    assert (summary.shards, summary.shards_failed, summary.documents) == (4, 3, 16 + 7)
    failures = {f["source_shard"]: f for f in pq.read_table(tmp_path / "out" / "failures.parquet").to_pylist()}
    assert {uri: failures[uri]["error_class"] for uri in uris[1:]} == {
        str(corrupt): "truncated", uris[2]: "missing", str(not_warc): "not_a_shard"}
    assert failures[str(corrupt)]["record_offset"] == 69787


def test_rerun_with_the_same_output_skips_finished_shards(spark, tmp_path):
    uris = [str(WARC_2020_34), str(CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.wet.gz")]
    first = run_ingest(spark, uris[:1], str(tmp_path), ReadOptions())
    written = (tmp_path / "documents" / f"{shard_key(uris[0])}.parquet").stat().st_mtime_ns
    second = run_ingest(spark, uris, str(tmp_path), ReadOptions())
    assert (first.shards_resumed, second.shards_resumed, second.documents) == (0, 1, 17)
    assert (tmp_path / "documents" / f"{shard_key(uris[0])}.parquet").stat().st_mtime_ns == written
    report = json.loads((tmp_path / "_shards" / f"{shard_key(uris[1])}.json").read_text())
    assert report["records_by_type"] == {"warcinfo": 1, "conversion": 1}


def test_cli_exits_non_zero_only_when_every_shard_failed_or_strict(tmp_path, capsys, spark):
    missing = str(tmp_path / "gone.warc.gz")
    assert ingest_main(["--input", missing, "--output", str(tmp_path / "a"), "--master", "local[2]"]) == 1
    mixed = ["--input", str(WARC_2020_34), "--input", missing]
    assert ingest_main(mixed + ["--output", str(tmp_path / "b")]) == 0
    assert ingest_main(mixed + ["--output", str(tmp_path / "c"), "--strict"]) == 1
    out = capsys.readouterr().out
    assert "shards 2 (1 failed, 0 resumed)" in out
    assert f"shard failed: {missing}: missing: no such file" in out
