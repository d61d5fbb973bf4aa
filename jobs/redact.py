"""What may leave the program of a URI or of crawled text: the escaping every output path uses.

- `redact_uri(uri)`: no user-info (`user:password@`), no query string, no fragment (signed URLs and tokens
  live there), for anything printed, logged, stored or put in MLflow; `redact_uris_in(text)` does it to
  every URI inside a message (an exception's, a library's log line); `redact_setting(key, value)` masks the
  value of a setting whose key names a secret (`spark.authenticate.secret`, `...access.key`);
- `printable(text)`: C0/C1 control characters (terminal escape sequences, carriage returns that rewrite a
  line), bidirectional overrides and undecodable file-name bytes escaped, for anything printed or logged;
- `csv_cell(value)`: a CSV cell a spreadsheet shows as text, never runs as a formula;
- `markdown_text(text)`: one line of Markdown that renders as the literal text, no markup, link, image or
  HTML, for the cells and excerpts of the data cards.

Each is one linear pass over its input: safe on any value a document or a manifest holds.
"""

from __future__ import annotations

import numbers
import re

# C0 controls, DEL and C1 controls; the Arabic letter mark, the left-to-right and right-to-left marks, the
# line and paragraph separators and the bidirectional embeddings, overrides and isolates (text that reads
# differently from what it is: "Trojan Source"); lone surrogates, as os.fsdecode gives undecodable bytes.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
UNDECODABLE_BYTES = range(0xDC80, 0xDD00)  # os.fsdecode's surrogate escapes of the bytes 0x80-0xff

# Characters a spreadsheet takes as the start of a formula (and their full-width forms, which some take too).
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

# ASCII punctuation that means something to Markdown (CommonMark, GitHub tables and strikethrough), escaped
# with a backslash; HTML's own characters become entities, which every renderer shows as the character.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=:$^])")
# MLflow's UI renders descriptions with showdown, which unescapes only these (a `\:` would show its backslash).
SHOWDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!])")
HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
HTML_SPECIAL = re.compile("[&<>\"']")
LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x85\u2028\u2029]")

# A URI's scheme: two characters at least, so that `C:\data` stays a Windows path.
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
SECRET_SETTING = re.compile(r"(?i)secret|password|token|access[._-]?key|credential")  # Spark's rule, and more
# The scheme's length is bounded: unbounded, every letter of a long run without `://` would start a scan to
# its end (a megabyte of letters: hours).
URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s\"'<>]+")
QUERY_OR_FRAGMENT = re.compile("[?#]")


def escaped_character(match: re.Match) -> str:
    code = ord(match.group())
    if code in UNDECODABLE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` with every control, bidirectional-override and undecodable character written as `\\xNN` or
    `\\uNNNN`: one line that cannot move the cursor, recolour or retitle a terminal, or forge a log line."""
    return UNPRINTABLE.sub(escaped_character, str(text))


def redact_uri(uri: str) -> str:
    """A URI safe to print or log: scheme, host, port and path only, control characters escaped. Dropped: a
    `user:password@` (also written without `//`), the query string and the fragment. An `@` after a `?` or
    `#` before the path leaves no way to tell a password from a query, so the host is shown as (redacted).
    A local path (no scheme, or a drive letter) is kept as it is, escaped."""
    text = str(uri)
    scheme = SCHEME.match(text)
    if scheme is None and not text.startswith("//"):
        return printable(text)
    head = scheme.group() if scheme else ""
    rest = text[len(head):]
    slashes = "//" if rest.startswith("//") else ""
    authority, slash, path = rest[len(slashes):].partition("/")
    before_query = QUERY_OR_FRAGMENT.split(authority, maxsplit=1)[0]
    if "@" not in authority:
        host = before_query
    elif "@" in before_query and "@" not in authority[len(before_query):]:
        host = before_query.rpartition("@")[2]
    else:
        host = "(redacted)"
    if "@" in authority and not slashes:
        head = ""  # `user:password@host` written without `//`: what looked like a scheme was the user name
    if len(before_query) < len(authority):  # the query or fragment began before any path
        slash, path = "", ""
    return printable(head + slashes + host + slash + QUERY_OR_FRAGMENT.split(path, maxsplit=1)[0])


def redact_uris_in(text: str) -> str:
    """`text` (an exception's message, say) with every `scheme://...` in it passed through `redact_uri`, and
    the rest escaped as `printable` does."""
    return printable(URI_IN_TEXT.sub(lambda match: redact_uri(match.group()), str(text)))


def redact_setting(key: str, value: object) -> str:
    """A setting's value as it may be shown or logged: masked when its key names a secret, a password, a
    token, an access key or a credential; otherwise with every URI in it redacted (the rest kept, escaped)."""
    return "*********(redacted)" if SECRET_SETTING.search(key) else redact_uris_in(str(value))


def csv_cell(value: object) -> object:
    """`value` for a CSV cell: a text starting (after any spaces) with = + - @, a tab or a carriage return
    gets a leading `'`, so a spreadsheet shows it instead of evaluating it (`=HYPERLINK(...)`). Numbers
    (numpy's too), booleans and None are returned unchanged: a metric stays a number."""
    if value is None or isinstance(value, numbers.Number):
        return value
    text = str(value)
    if text.lstrip(" ")[:1] in FORMULA_START:
        return "'" + text
    return text


def markdown_text(text: object, punctuation: re.Pattern = MARKDOWN_SPECIAL) -> str:
    """`text` as one line of Markdown that renders as exactly that text: HTML characters as entities,
    Markdown punctuation backslash-escaped (no emphasis, link, image, heading, list, code or table pipe),
    line breaks as spaces, other control characters as `printable` writes them."""
    line = printable(LINE_BREAK.sub(" ", str(text)))
    escaped = punctuation.sub(r"\\\1", line)
    return HTML_SPECIAL.sub(lambda match: HTML_ENTITIES[match.group()], escaped)


def mlflow_markdown_text(text: object) -> str:
    """`markdown_text` for MLflow's run descriptions: only the punctuation its renderer unescapes is escaped
    (HTML is always an entity there, so nothing can become a tag, an image or a link target)."""
    return markdown_text(text, SHOWDOWN_SPECIAL)
