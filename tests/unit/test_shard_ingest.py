"""One shard into its documents file and report, in the task (no Spark): whatever goes wrong, writing
included, ends in the shard's own report, never in an exception that would end the job."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq

from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.reading.shard_ingest import completed_reports, ingest_one_shard, shard_key
from tests.support.samples import WARC_2020_34


def test_a_shard_whose_file_name_is_not_utf8_is_ingested(tmp_path):
    """shard_key crashed the driver on such a name; Arrow refuses it as a string."""
    path = os.path.join(tmp_path, os.fsdecode(b"shard-\xff\xfe.warc.gz"))
    with open(path, "wb") as out:
        out.write(WARC_2020_34.read_bytes())
    summary = ingest_one_shard(path, str(tmp_path / "out"), ReadOptions())
    assert (summary["documents"], summary["failed"]) == (16, False)
    assert summary["source_shard"].endswith("shard-\\xff\\xfe.warc.gz")
    table = pq.read_table(tmp_path / "out" / "documents" / f"{shard_key(path)}.parquet")
    assert set(table.column("source_shard").to_pylist()) == {summary["source_shard"]}


def test_a_table_that_cannot_be_written_fails_only_its_shard(tmp_path):
    (tmp_path / "documents" / f"{shard_key(str(WARC_2020_34))}.parquet").mkdir(parents=True)  # in the way
    summary = ingest_one_shard(str(WARC_2020_34), str(tmp_path), ReadOptions())
    [failure] = summary["failures"]
    assert (failure["error_class"], failure["fatal"], summary["failed"]) == ("write_error", True, True)
    assert json.loads((tmp_path / "_shards" / f"{shard_key(str(WARC_2020_34))}.json").read_text())["failed"]


def test_a_shard_that_failed_is_not_done_and_is_read_again(tmp_path):
    """A missing shard stayed "resumed" after the file appeared."""
    shard = tmp_path / "late.warc.gz"
    first = ingest_one_shard(str(shard), str(tmp_path / "out"), ReadOptions())
    assert first["failed"] and completed_reports(tmp_path / "out", [str(shard)]) == {}
    shard.write_bytes(WARC_2020_34.read_bytes())
    second = ingest_one_shard(str(shard), str(tmp_path / "out"), ReadOptions())
    assert (second["failed"], second["documents"]) == (False, 16)
    assert completed_reports(tmp_path / "out", [str(shard)]) == {str(shard): second}
