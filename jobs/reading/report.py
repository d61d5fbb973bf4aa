"""What reading one shard did: counts, bytes, time and every fault, each a row of the failures table.

A failures row is `fatal` when the shard stopped there; otherwise reading went on and the message says
what became of the record (skipped, or kept and how). Messages name the fault, never quote file bytes,
and carry no URI that `redact_uri` has not cleaned.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

from cc_sieve.jobs.reading.documents import FieldProblems
from cc_sieve.jobs.redact import redact_uri, redact_uris_in


class ShardFault(Exception):
    """A fault that ends the shard. `error_class` is a short machine name, the message says what."""

    def __init__(self, error_class: str, message: str, offset: int | None = None):
        super().__init__(message)
        self.error_class = error_class
        self.offset = offset


@dataclass
class Failure:
    source_shard: str
    record_offset: int | None
    error_class: str
    message: str
    fatal: bool  # True: the shard stopped here; False: reading went on (the message says with what)

    def as_row(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ShardReport:
    """Counts, bytes, time and faults of one shard (documents go elsewhere). `source_shard` is stored as
    `redact_uri` gives it: no query string or user-info, file-name bytes that are not UTF-8 escaped."""

    source_shard: str
    crawl_id: str | None = None
    records_by_type: Counter = field(default_factory=Counter)
    responses_by_class: Counter = field(default_factory=Counter)  # "html 2xx", "other 4xx", "no_http", ...
    documents: int = 0
    records_skipped: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    field_problems: FieldProblems = field(default_factory=FieldProblems)
    last_record_offset: int | None = None

    def __post_init__(self) -> None:
        self.source_shard = redact_uri(self.source_shard)

    @property
    def failed(self) -> bool:
        return any(f.fatal for f in self.failures)

    def fail(self, error_class: str, message: str, offset: int | None, fatal: bool, skipped: bool = True) -> None:
        """Record a fault; a non-fatal one counts as a skipped record unless `skipped` is False."""
        self.failures.append(Failure(self.source_shard, offset, error_class, message, fatal))
        if not fatal and skipped:
            self.records_skipped += 1

    def close(self) -> None:
        """Turn the per-field counts into failures rows (one per field, at its first record)."""
        for offset, message in self.field_problems.rows():
            self.fail("bad_field", message, offset, fatal=False, skipped=False)
        self.field_problems = FieldProblems()


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, URIs in it redacted."""
    return redact_uris_in(str(error).strip().splitlines()[0]) if str(error).strip() else ""


def classify_error(error: BaseException) -> tuple[str, str]:
    """(error_class, one-line message) for any exception raised while opening or reading a shard. Library
    messages that may quote the file's bytes (warcio's "first line: ...") are cut before the quote."""
    name = type(error).__name__
    if isinstance(error, FileNotFoundError):
        return "missing", f"no such file: {redact_uri(str(error.filename or ''))}"
    if isinstance(error, PermissionError):
        return "access_denied", f"permission denied: {redact_uri(str(error.filename or ''))}"
    if isinstance(error, IsADirectoryError):
        return "not_a_shard", "a directory, not a file"
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in {"NoSuchKey", "404", "NotFound"}:
            return "missing", "no such key on S3"
        if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return "access_denied", f"S3 refused access ({code}); check the credentials or --s3-unsigned"
        if code in {"SlowDown", "503", "ServiceUnavailable", "InternalError", "500"}:
            return "s3_unavailable", f"S3 kept answering {code} after retries"
        return "s3_error", f"S3 error {code or status}"
    if name == "HTTPError":
        code = getattr(error, "code", None)
        return ("missing" if code == 404 else "http_error"), f"HTTP {code}"
    message = first_line(error).split("first line", 1)[0].rstrip(" :,") or "no detail given"
    if "Gzip" in message or "gzip" in message or isinstance(error, zlib.error):
        return "corrupt_gzip", message
    if "WARC" in message or "ARC" in message or name in ("ArchiveLoadFailed", "FramingFault"):
        return "malformed_record", f"{name}: {message}"
    if isinstance(error, ConnectionError | TimeoutError) or "Connect" in name or "Timeout" in name:
        return "network", f"{name}: {message}"
    if isinstance(error, OSError):
        return "io_error", f"{name}: {message}"
    return "read_error", f"{name}: {message}"
