"""A benchmark fails loudly and early: missing inputs before Spark starts, a run where every shard failed before
anything is logged, and a failure after logging started on the runs themselves."""

from __future__ import annotations

import mlflow
import pyarrow as pa
import pytest
from mlflow.tracking import MlflowClient

from cc_sieve.jobs.commands.args import check_local_inputs
from cc_sieve.jobs.commands.benchmark import check_failures
from cc_sieve.jobs.errors import InputError, RunFailure
from cc_sieve.jobs.reading.tables import FAILURE_SCHEMA, write_parquet_atomically
from cc_sieve.jobs.spark.ingest import IngestSummary
from cc_sieve.jobs.tracking.benchmark_log import TAG_FAILURE, failure_recorded, mark_failed
from tests.support.samples import WARC_2020_34


def test_every_input_missing_is_an_error_before_spark(tmp_path, capsys):
    missing = [str(tmp_path / f"gone-{i}.warc.gz") for i in range(5)]
    with pytest.raises(InputError, match=r"--input: no such file: .*gone-0.warc.gz, .*gone-2.warc.gz and 2 more"):
        check_local_inputs(missing)
    check_local_inputs([str(WARC_2020_34), missing[0], "s3://bucket/not-checked.warc.gz"])
    assert "1 of 3 local shards do not exist" in capsys.readouterr().err


def summary(tmp_path, shards: int, failed: int) -> IngestSummary:
    rows = [{"source_shard": f"https://bucket.example/shard-{i}.warc.gz?X-Amz-Signature=secret", "record_offset": 0,
             "error_class": "not_a_shard", "message": "content is neither WARC, WET nor JSONL", "fatal": True}
            for i in range(failed)]
    write_parquet_atomically(pa.Table.from_pylist(rows, schema=FAILURE_SCHEMA), tmp_path / "failures.parquet")
    return IngestSummary(str(tmp_path), shards, 0, failed, 0, 0, 0, failed, 0, 1.0, [])


def test_every_shard_failed_stops_the_run_with_the_reason(tmp_path):
    with pytest.raises(RunFailure) as raised:
        check_failures(summary(tmp_path, 2, 2), 1.0)
    message = str(raised.value)
    assert message.startswith("2 of 2 shards failed (first: https://bucket.example/shard-0.warc.gz: not_a_shard: "
                              "content is neither")
    assert "secret" not in message and "nothing was logged" in message
    check_failures(summary(tmp_path, 4, 1), 1.0)  # some shards read: the run goes on
    with pytest.raises(RunFailure, match="1 of 4 shards failed"):
        check_failures(summary(tmp_path, 4, 1), 0.2)


def test_a_failure_after_logging_started_marks_the_runs_failed_with_the_reason(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("failures")
    with pytest.raises(ValueError), mlflow.start_run() as run, failure_recorded():
        raise ValueError("the report could not be written\nsecond line")
    client = MlflowClient(tracking_uri=uri)
    failed = client.get_run(run.info.run_id)
    assert failed.info.status == "FAILED"
    assert failed.data.tags[TAG_FAILURE] == "ValueError: the report could not be written"
    with mlflow.start_run() as finished:
        pass
    mark_failed(client, [finished.info.run_id], OSError("disk full"))
    later = client.get_run(finished.info.run_id)
    assert later.info.status == "FAILED" and later.data.tags[TAG_FAILURE] == "OSError: disk full"
