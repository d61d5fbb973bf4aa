"""One document row, every value checked and coerced before it reaches Arrow.

Crawled input is hostile: a record id may be missing, a date may overflow, a JSONL `language` may be a
list and any string may hold a lone surrogate (`"\\ud800"` is valid JSON). None of that may crash a job, so
`make_document` coerces each value to its column's type (numbers to strings, lone surrogates to U+FFFD);
what cannot be coerced is stored as NULL and counted per shard and field (`FieldProblems`), which the
failures table then reports with the offset of the first record it happened in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

SURROGATES = re.compile("[\ud800-\udfff]")
URI_SPACES = re.compile(r"\s")


def clean_string(value: str) -> str:
    """`value` with lone surrogates (which UTF-8 and Arrow refuse) replaced by U+FFFD."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return SURROGATES.sub("\ufffd", value)


def clean_text(value: str) -> str:
    """Document text: surrounding whitespace and a leading byte-order mark removed."""
    return clean_string(value).strip().lstrip("\ufeff").lstrip()


def normalize_target_uri(uri: str) -> str:
    """A target URI as a browser would request it: wget and old Heritrix write `<http://...>`, some
    writers leave spaces in it (warcio percent-encodes them too)."""
    uri = uri.strip()
    if uri.startswith("<") and uri.endswith(">"):
        uri = uri[1:-1].strip()
    return URI_SPACES.sub(lambda space: "%20" if space.group() == " " else "", uri)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def parse_date(value: str) -> datetime | None:
    """An ISO-8601 date (WARC-Date, Dolma's dates) in UTC; a date without a zone is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def positional_doc_id(source_shard: str, offset: int) -> str:
    """An id from the shard's file name and the record's offset, for records that carry none (JSONL lines,
    ARC records, a WARC record without WARC-Record-ID): unique even for identical lines, and the same
    wherever the shard is read from (local, S3, https)."""
    name = source_shard.rstrip("/").rsplit("/", 1)[-1]
    return "sha1:" + hashlib.sha1(f"{name}\x00{offset}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class FieldProblems:
    """Values that could not be coerced, per field: how many records and the first one's offset."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[int | None, str]] = field(default_factory=dict)

    def add(self, name: str, offset: int | None, problem: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1
        self.first.setdefault(name, (offset, problem))

    def rows(self) -> list[tuple[int | None, str]]:
        """(offset of the first record, message) per field, for the failures table."""
        return [(offset, f"field {name!r}: {problem} in {self.counts[name]:,} record(s) (first at this offset); "
                         "stored as NULL, the documents kept")
                for name, (offset, problem) in self.first.items()]


def describe(value: object) -> str:
    return f"a {type(value).__name__}, not a string"


def string_field(value: object, name: str, offset: int | None, problems: FieldProblems) -> str | None:
    """A string column's value: strings cleaned, numbers written out, anything else NULL and counted."""
    if value is None or isinstance(value, str):
        return clean_string(value) if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    problems.add(name, offset, describe(value))
    return None


def date_field(value: object, name: str, offset: int | None, problems: FieldProblems) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        problem = "not an ISO-8601 date in years 1-9999" if isinstance(value, str) else describe(value)
        problems.add(name, offset, problem)
    return parsed


def make_document(*, doc_id: str, url: object, crawl_id: object, fetch_date: object, shard: str, offset: int,
                  record_type: str, content_type: object, language: object, text: str, content_bytes: int,
                  problems: FieldProblems) -> dict:
    """A documents-table row; `text` and `doc_id` are already strings, every other value is coerced here."""
    url = string_field(url, "url", offset, problems)
    url = normalize_target_uri(url) if url else None
    content_type = string_field(content_type, "content_type", offset, problems)
    return {
        "doc_id": clean_string(doc_id),
        "url": url,
        "host": host_of(url),
        "crawl_id": string_field(crawl_id, "crawl_id", offset, problems),
        "fetch_date": date_field(fetch_date, "fetch_date", offset, problems),
        "source_shard": shard,
        "record_offset": offset,
        "record_type": record_type,
        "content_type": content_type.split(";", 1)[0].strip().lower() or None if content_type else None,
        "language": string_field(language, "language", offset, problems),
        "text": text,
        "content_bytes": content_bytes,
        "text_chars": len(text),
    }
