"""HTML bytes -> plain text for one WARC response (resiliparse), honouring the declared charset."""

from __future__ import annotations

import codecs

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


def known_charset(name: str | None) -> str | None:
    """The declared charset if Python knows it, else None (so detection takes over)."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_html(payload: bytes, declared_charset: str | None = None) -> str:
    """Decode with the HTTP charset when it is valid for these bytes, else meta tag / uchardet."""
    charset = known_charset(declared_charset)
    if charset:
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            pass  # a wrong declaration: fall through to detection
    return bytes_to_str(payload, detect_encoding(payload, from_html_meta=True), errors="replace")


class BinaryPayload(ValueError):
    """The payload is labelled as HTML but holds binary data (an image, a PDF, an archive)."""


def looks_binary(payload: bytes) -> bool:
    """A payload labelled text/html that is really an image, PDF or archive."""
    head = payload[:1024]
    return b"\x00" in head


def html_to_text(payload: bytes, declared_charset: str | None = None, main_content: bool = True) -> str:
    if not payload:
        return ""
    if looks_binary(payload):
        raise BinaryPayload(f"payload labelled HTML is binary (starts with {payload[:8]!r})")
    tree = HTMLTree.parse(decode_html(payload, declared_charset))
    return extract_plain_text(tree, preserve_formatting=True, main_content=main_content,
                              list_bullets=False, alt_texts=False, links=False).strip()
