"""The ingest job on Spark: documents and failures tables, resume, exit codes."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import psutil
import pyarrow.parquet as pq

from cc_sieve.jobs.commands.ingest import main as ingest_main
from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.shard_ingest import shard_key
from cc_sieve.jobs.spark.ingest import run_ingest
from tests.support.httpserver import FileServer
from tests.support.samples import CC_SAMPLES, WARC_2020_34, WARC_CONFORMANCE, repeated_warc
from tests.support.samples import WARCIO_REFERENCE as REFERENCE
from tests.support.warcs import gzip_members, http_response, page, warc_record


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


def test_the_conformance_files_ingest_in_one_run_with_exit_0(tmp_path, capsys, spark):
    """Every file of warc-conformance, warcio's and jwarc's test files for their own edge cases."""
    files = sorted(p for p in WARC_CONFORMANCE.iterdir() if p.name in REFERENCE)
    argv = [arg for path in files for arg in ("--input", str(path))] + ["--output", str(tmp_path)]
    assert ingest_main(argv) == 0
    shards = {Path(r["source_shard"]).name: r for r in pq.read_table(tmp_path / "shards.parquet").to_pylist()}
    assert len(shards) == len(files) and not any(r["failed"] for r in shards.values())
    for name, reference in REFERENCE.items():
        assert dict(shards[name]["responses_by_class"]).get("html 2xx", 0) >= reference["html_resp_2xx"]
    documents = pq.read_table(tmp_path / "documents").to_pylist()
    assert len(documents) == 12 and {d["host"] for d in documents} == {"example.com", "www.iana.org",
                                                                        "commoncrawl.org"}
    assert "Traceback" not in capsys.readouterr().err


def test_records_that_used_to_crash_the_job_leave_every_table_written(tmp_path, spark):
    """A record without WARC-Record-ID, a lone surrogate, a `language` list: 170-220 lines of traceback,
    no shards.parquet, no failures.parquet, the shards in flight cancelled."""
    (tmp_path / "in").mkdir()
    no_id = tmp_path / "in" / "no-id.warc.gz"
    no_id.write_bytes(gzip_members([warc_record(http_response(page("No id")), record_id=None)]))
    jsonl = tmp_path / "in" / "odd.jsonl"
    jsonl.write_bytes(b'{"url": "http://a.example/", "text": "lone \\ud800 surrogate", "language": ["en"]}\n'
                      b'{"url": "http://b.example/", "text": "fine", "language": 7}\n')
    summary = run_ingest(spark, [str(no_id), str(jsonl), str(WARC_2020_34)], str(tmp_path / "out"), ReadOptions())
    assert (summary.shards, summary.shards_failed, summary.documents) == (3, 0, 1 + 2 + 16)
    failures = pq.read_table(tmp_path / "out" / "failures.parquet").to_pylist()
    assert [(f["error_class"], f["fatal"]) for f in failures] == [("bad_field", False)]
    texts = {d["url"]: d["text"] for d in pq.read_table(tmp_path / "out" / "documents").to_pylist()}
    assert texts["http://a.example/"] == "lone \ufffd surrogate"


def test_a_rerun_reads_again_the_shards_that_failed(tmp_path, spark):
    """A `missing` shard stayed "resumed" after the file appeared."""
    late = tmp_path / "late.warc.gz"
    uris = [str(WARC_2020_34), str(late)]
    first = run_ingest(spark, uris, str(tmp_path / "out"), ReadOptions())
    late.write_bytes(WARC_2020_34.read_bytes())
    second = run_ingest(spark, uris, str(tmp_path / "out"), ReadOptions())
    assert (first.shards_failed, first.documents) == (1, 16)
    assert (second.shards_resumed, second.shards_failed, second.documents, second.failures) == (1, 0, 32, 0)


def test_a_worker_killed_mid_shard_fails_only_its_shard(tmp_path, spark):
    """As the OOM killer or a crash in a C extension would: Spark aborts the job, the other shards and the
    summary tables are kept, and the shard whose worker dies every time is recorded as failed."""
    with FileServer({"/stuck.warc.gz": WARC_2020_34.read_bytes()}) as server:
        server.stalled.add("/stuck.warc.gz")
        killer = WorkerKiller(server.port)
        killer.start()
        try:
            uris = [f"{server.url}/stuck.warc.gz", *(str(repeated_warc(tmp_path / f"{n}.warc.gz", 0.2))
                                                     for n in range(3))]
            summary = run_ingest(spark, uris, str(tmp_path / "out"), ReadOptions())
        finally:
            killer.stop.set()
    assert killer.killed >= 1
    assert (summary.shards, summary.shards_failed, summary.documents) == (4, 1, 3 * 16 * 2)
    [failure] = pq.read_table(tmp_path / "out" / "failures.parquet").to_pylist()
    assert (failure["source_shard"], failure["error_class"], failure["fatal"]) == (uris[0], "task_failed", True)


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) the Spark Python worker that is connected to the test server, each time one is."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.killed = 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            for process in psutil.Process().children(recursive=True):
                try:
                    if any(c.raddr and c.raddr.port == self.port for c in process.net_connections("tcp")):
                        process.send_signal(signal.SIGKILL)
                        self.killed += 1
                except psutil.Error:
                    continue


def test_the_cli_prints_no_signature_of_a_presigned_url(tmp_path, capsys, spark):
    with FileServer({}) as server:
        signed = f"{server.url}/gone.warc.gz?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=0123456789abcdef"
        assert ingest_main(["--input", signed, "--input", str(WARC_2020_34), "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"shard failed: {server.url}/gone.warc.gz: missing: HTTP 404" in out
    assert "Signature" not in out and "AKIA" not in out
