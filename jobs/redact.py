"""What may be printed, logged or stored of a URI: never its user-info or query string, never raw control bytes."""

from __future__ import annotations

import re
import urllib.parse

UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def escape_unprintable(text: str) -> str:
    """C0/C1 control characters (terminal escape sequences) and undecodable file-name bytes (surrogate
    escapes, as os.fsdecode gives them) written as \\xNN, so the text is safe to print and valid UTF-8."""

    def escaped(match: re.Match) -> str:
        code = ord(match.group())
        if 0xDC80 <= code <= 0xDCFF:  # the byte os.fsdecode could not decode
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return UNPRINTABLE.sub(escaped, text)


def redact_uri(uri: str) -> str:
    """A URI safe to print or log: no user:password part, no query string or fragment (signed URLs carry
    keys there), control characters and undecodable bytes escaped."""
    try:
        parsed = urllib.parse.urlsplit(uri)
        port = parsed.port
    except ValueError:  # not parsable as a URL: cut what could carry secrets by hand
        return escape_unprintable(USER_INFO.sub(r"\1", uri).split("?", 1)[0].split("#", 1)[0])
    if not parsed.scheme or len(parsed.scheme) == 1:  # a local path (or a Windows drive letter)
        return escape_unprintable(uri)
    host = parsed.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    return escape_unprintable(urllib.parse.urlunsplit((parsed.scheme, host, parsed.path, "", "")))


URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def redact_uris_in(text: str) -> str:
    """`text` (an exception's message, say) with every URI in it passed through `redact_uri`."""
    return escape_unprintable(URI_IN_TEXT.sub(lambda match: redact_uri(match.group()), text))
