"""Bad input: charsets, binary payloads, a 200 MB record, bad configuration. Nothing lost, every fault named."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HUGE_RECORD = textwrap.dedent("""
    import io, resource, sys
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    from cc_sieve.jobs.reading.reader import ShardReport, read_shard
    from cc_sieve.jobs.reading.sources import shard_opener

    SIZE = 200 * 1024 * 1024
    class Payload(io.RawIOBase):
        def __init__(self):
            self.left = SIZE
            self.block = (b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\\n") * 64
        def readable(self):
            return True
        def readinto(self, buffer):
            n = min(len(buffer), self.left, len(self.block))
            buffer[:n] = self.block[:n]
            self.left -= n
            return n
    path = sys.argv[1]
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("http://example.com/huge", "response",
            payload=io.BufferedReader(Payload(), 1 << 20), length=SIZE, http_headers=headers))
        writer.write_record(writer.create_warc_record("http://example.com/small", "response",
            payload=io.BytesIO(b"<html><body><p>A small page after the huge one.</p></body></html>"),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = ShardReport(path)
    documents = list(read_shard(path, shard_opener(path), report))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(len(documents), documents[0]["text"], report.failures[0].error_class, (peak - baseline) // 1024)
""")


def test_a_200_mb_record_is_streamed_and_skipped_within_the_memory_bound(tmp_path):
    """Bound: a record body is read up to max_payload (32 MiB) and the rest streamed past; the
    worker's peak memory grows by less than 3 x max_payload (96 MiB), whatever the record size."""
    result = subprocess.run([sys.executable, "-c", HUGE_RECORD, str(tmp_path / "huge.warc.gz")],
                            capture_output=True, text=True, check=True, timeout=300)
    fields = result.stdout.strip().split(" ")
    assert fields[0] == "1"
    assert " ".join(fields[1:-2]) == "A small page after the huge one."
    assert fields[-2] == "too_large"
    assert int(fields[-1]) < 96, f"peak memory grew by {fields[-1]} MB"
