"""Open a shard (local path, s3:// or https://) as a binary stream that survives broken connections.

A body that breaks mid-file is continued with a Range request from the last byte delivered,
never restarted, so a 1 GB WARC read over a flaky link is read once. What is logged or raised names
the shard as `redact_uri` gives it (a presigned URL's signature stays out of the executor logs).
"""

from __future__ import annotations

import io
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException, IncompleteRead
from typing import BinaryIO

from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from cc_sieve.jobs.reading.s3 import S3Options, s3_client, split_s3_uri
from cc_sieve.jobs.redact import redact_uri

log = logging.getLogger(__name__)

STREAM_ERRORS = (
    ConnectionError,
    TimeoutError,
    IncompleteRead,
    HTTPException,
    ProtocolError,
    Urllib3ReadTimeout,
    ResponseStreamingError,
    IncompleteReadError,
    ReadTimeoutError,
    ConnectionClosedError,
    EndpointConnectionError,
    urllib.error.URLError,
)


class ResumableStream(io.RawIOBase):
    """A read-only stream over `open_at(offset)`; when a read fails it reopens at the current offset.

    `open_at` returns an object with `read(n)` (and optionally `close()`) that starts at byte
    `offset`. It gives up after `max_resumes` breaks in a row without a byte of progress, with
    a growing pause between tries. `resumes` counts every continuation, for tests and metrics.
    """

    def __init__(self, name: str, open_at: Callable[[int], object], start: int = 0, max_resumes: int = 10,
                 backoff: float = 0.5):
        super().__init__()
        self.name = redact_uri(name)
        self._open_at = open_at
        self._max_resumes = max_resumes
        self._backoff = backoff
        self._body = open_at(start)
        self.position = start
        self.resumes = 0
        self._breaks_in_a_row = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            try:
                chunk = self._body.read(len(buffer))
                break
            except STREAM_ERRORS as error:
                self._resume(error)
        n = len(chunk)
        buffer[:n] = chunk
        self.position += n
        if n:
            self._breaks_in_a_row = 0
        return n

    def _resume(self, error: BaseException) -> None:
        self._breaks_in_a_row += 1
        if self._breaks_in_a_row > self._max_resumes:
            raise OSError(f"{self.name}: stream broke {self._breaks_in_a_row} times without progress, "
                          f"giving up at byte {self.position}: {type(error).__name__}") from error
        self.resumes += 1
        log.warning("%s: stream broke at byte %d (%s); continuing with a Range request",
                    self.name, self.position, type(error).__name__)
        self._close_body()
        time.sleep(self._backoff * self._breaks_in_a_row)
        while True:
            try:
                self._body = self._open_at(self.position)
                return
            except STREAM_ERRORS as reopen_error:
                self._breaks_in_a_row += 1
                if self._breaks_in_a_row > self._max_resumes:
                    raise OSError(f"{self.name}: could not reopen at byte {self.position} after "
                                  f"{self._breaks_in_a_row} tries: {type(reopen_error).__name__}") from reopen_error
                time.sleep(self._backoff * self._breaks_in_a_row)

    def _close_body(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # the body is already broken; closing is best effort
                pass

    def close(self) -> None:
        if not self.closed:
            self._close_body()
        super().close()


def open_s3(uri: str, options: S3Options, start: int = 0) -> ResumableStream:
    bucket, key = split_s3_uri(uri)
    client = s3_client(options)
    etag: dict[str, str] = {}

    def open_at(offset: int):
        kwargs = {"Bucket": bucket, "Key": key}
        if offset:
            kwargs["Range"] = f"bytes={offset}-"
        if "etag" in etag:  # a continuation must read the same object version
            kwargs["IfMatch"] = etag["etag"]
        response = client.get_object(**kwargs)
        etag.setdefault("etag", response["ETag"])
        return response["Body"]

    return ResumableStream(uri, open_at, start)


class CheckedBody:
    """An HTTP response body whose early end is a break: urllib returns b"" when the connection closes
    before Content-Length bytes arrived, which would otherwise pass for the end of the shard."""

    def __init__(self, response):
        self._response = response

    def read(self, n: int) -> bytes:
        data = self._response.read(n)
        if not data and n and self._response.length:
            raise IncompleteRead(b"", self._response.length)
        return data

    def close(self) -> None:
        self._response.close()


def open_https(uri: str, start: int = 0, timeout: float = 60.0) -> ResumableStream:
    def open_at(offset: int):
        request = urllib.request.Request(uri, headers={"User-Agent": "cc-sieve"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        response = urllib.request.urlopen(request, timeout=timeout)
        if offset and response.status != 206:
            response.close()
            raise OSError(f"{redact_uri(uri)}: server ignored the Range request (status {response.status})")
        return CheckedBody(response)

    return ResumableStream(uri, open_at, start)


def open_shard(uri: str, s3: S3Options | None = None, start: int = 0) -> BinaryIO:
    """A raw (still compressed) binary stream over the shard's bytes, from byte `start`."""
    if uri.startswith("s3://"):
        return open_s3(uri, s3 or S3Options.from_env(), start)
    if uri.startswith(("https://", "http://")):
        return open_https(uri, start)
    path = uri[7:] if uri.startswith("file://") else uri
    handle = open(path, "rb")
    if start:
        handle.seek(start)
    return handle


def shard_opener(uri: str, s3: S3Options | None = None) -> Callable[[int], BinaryIO]:
    """`open_at(offset)` for the reader, which reopens a shard to check its last gzip member."""
    return lambda start: open_shard(uri, s3, start)
