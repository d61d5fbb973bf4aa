"""A stage's record: its tables are reused only as they were written, for the same fingerprint."""

from __future__ import annotations

import os

from cc_sieve.jobs.spark.reuse import StageRecord, code_fingerprint, fingerprint


def table(folder, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_a_finished_stage_is_reused_for_the_same_fingerprint_and_files(tmp_path):
    table(tmp_path / "annotations", {"part-0.parquet": b"0" * 100, "part-1.parquet": b"1" * 50, "_SUCCESS": b""})
    record = StageRecord(tmp_path, "annotate", ("annotations",))
    same = fingerprint("annotate", {"documents": [["a.parquet", 10, 1]], "settings": {"num_perm": 112}})
    assert record.reusable(same) is None  # nothing recorded yet
    record.start({"settings": {"num_perm": 112}})
    assert record.reusable(same) is None and record.details() == {"settings": {"num_perm": 112}}
    record.finish(same, 12.5, {"annotator_seconds": {"PiiAnnotator": 9.0}})
    reuse = record.reusable(same)
    assert (reuse.seconds, reuse.details) == (12.5, {"annotator_seconds": {"PiiAnnotator": 9.0}})
    assert reuse.line("annotate", "the annotations").startswith(
        f"[annotate] reused the annotations of {reuse.finished} (computed in 12.5 s")
    other = fingerprint("annotate", {"documents": [["a.parquet", 10, 1]], "settings": {"num_perm": 128}})
    assert record.reusable(other) is None


def test_a_changed_missing_or_added_file_is_never_reused(tmp_path):
    folder = tmp_path / "dedup"
    table(folder, {"part-0.parquet": b"0" * 100, "_SUCCESS": b""})
    record = StageRecord(tmp_path, "dedup", ("dedup",))
    key = fingerprint("dedup", {})
    record.finish(key, 1.0)
    assert record.reusable(key)
    with open(folder / "part-0.parquet", "r+b") as handle:  # truncated
        handle.truncate(40)
    assert record.reusable(key) is None
    record.finish(key, 1.0)
    stat = os.stat(folder / "part-0.parquet")
    (folder / "part-0.parquet").write_bytes(b"x" * 40)  # same size, rewritten
    os.utime(folder / "part-0.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert record.reusable(key) is None
    record.finish(key, 1.0)
    (folder / "part-1.parquet").write_bytes(b"1")
    assert record.reusable(key) is None
    record.finish(key, 1.0)
    (folder / "_SUCCESS").unlink()
    assert record.reusable(key) is None
    record.path.write_text("{not json")
    assert record.reusable(key) is None and record.details() == {}


def test_the_code_is_part_of_every_fingerprint():
    assert len(code_fingerprint()) == 64 and code_fingerprint() == code_fingerprint()
    assert fingerprint("ingest", {"a": 1}) != fingerprint("annotate", {"a": 1})
    assert fingerprint("ingest", {"a": 1, "b": [1, 2]}) == fingerprint("ingest", {"b": (1, 2), "a": 1})
