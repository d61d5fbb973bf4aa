"""A broken body is continued with a Range read from the last byte, never restarted."""

from __future__ import annotations

import io
from http.client import IncompleteRead

import pytest

from cc_sieve.jobs.reading.sources import ResumableStream
from tests.support.samples import WARC_2020_34


class BreakingBody:
    """Serves bytes from `start`, then raises after `fail_after` bytes (like a reset connection)."""

    def __init__(self, data: bytes, start: int, fail_after: int | None):
        self.data, self.position, self.remaining = data, start, fail_after

    def read(self, n: int) -> bytes:
        if self.remaining is not None and self.remaining <= 0:
            raise IncompleteRead(b"")
        n = n if self.remaining is None else min(n, self.remaining)
        chunk = self.data[self.position:self.position + n]
        self.position += len(chunk)
        if self.remaining is not None:
            self.remaining -= len(chunk)
        return chunk


def test_stream_resumes_at_the_last_byte_and_yields_identical_bytes():
    data = WARC_2020_34.read_bytes()
    opened_at = []

    def open_at(offset):
        opened_at.append(offset)
        return BreakingBody(data, offset, fail_after=40_000 if len(opened_at) < 3 else None)

    stream = ResumableStream("s3://bucket/key", open_at, backoff=0)
    assert io.BufferedReader(stream).read() == data
    assert stream.resumes == 2
    assert opened_at[0] == 0 and opened_at[1] > 0 and opened_at[2] > opened_at[1]


def test_stream_keeps_going_while_each_break_makes_progress():
    data = bytes(range(256)) * 40

    def open_at(offset):
        return BreakingBody(data, offset, fail_after=100)

    stream = ResumableStream("s3://bucket/flaky", open_at, max_resumes=3, backoff=0)
    assert io.BufferedReader(stream).read() == data
    assert stream.resumes == len(data) // 100


def test_stream_gives_up_after_max_breaks_without_progress_naming_the_shard():
    def open_at(offset):
        return BreakingBody(b"x" * 1000, offset, fail_after=0 if offset else 10)

    stream = ResumableStream("s3://bucket/dead", open_at, max_resumes=3, backoff=0)
    assert stream.read(1000) == b"x" * 10
    with pytest.raises(OSError, match="s3://bucket/dead: stream broke 4 times without progress"):
        stream.read(1000)
