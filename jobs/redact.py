"""What may be printed, logged or stored of a URI: never its user-info or query string."""

from __future__ import annotations

import urllib.parse


def redact_uri(uri: str) -> str:
    """A URI safe to print or log: no user:password part, no query string (signed URLs carry keys)."""
    try:
        parsed = urllib.parse.urlsplit(uri)
        port = parsed.port
    except ValueError:
        return "(unparsable URI)"
    if not parsed.scheme or len(parsed.scheme) == 1:  # a local path (or a Windows drive letter)
        return uri
    host = parsed.hostname or ""
    if port:
        host = f"{host}:{port}"
    return urllib.parse.urlunsplit((parsed.scheme, host, parsed.path, "", ""))


def printable(text: str) -> str:
    """Text safe to print on a terminal: C0 and C1 control characters (escape sequences) shown escaped."""
    return "".join(char if char.isprintable() or char == " " else ascii(char)[1:-1] for char in text)
