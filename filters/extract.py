"""HTML bytes -> plain text for one WARC response (resiliparse), decoded as a browser would, cost bounded.

Charset, in a browser's order: a byte-order mark, the HTTP charset, the `<meta>` charset, then detection.
A declared charset is kept when the bytes are mostly valid for it (one bad byte is replaced, not a reason
to switch codecs and turn the whole page into mojibake); when most non-ASCII bytes are invalid the
declaration is wrong and detection decides.

resiliparse is a C extension, so nothing can interrupt it mid-call: its cost is bounded from the input
before it runs (measured on one core; docs/reading.md has the figures):
- main-content extraction grows with elements x nesting depth (100,000 elements 1,000 deep: 1.6 s), so it
  runs only when that product stays under MAIN_CONTENT_BUDGET; a deeper page is extracted without
  boilerplate removal, which is linear;
- that plain extraction is quadratic in list nesting, and browsers stop nesting at 512 (Blink's parser
  limit), so such a page nested deeper than MAX_DEPTH is refused (`TooSlow`); a page of up to
  UNCHECKED_TAGS tags cannot exceed the budget, so it needs no depth check at all (most pages);
- the parser is quadratic in the distinct attributes of one element (100,000: 27 s), so on a page large
  enough for that to matter an element with more than MAX_ATTRIBUTES is parsed without its attributes
  (no text lives there);
- the tree costs ~450 bytes per element, so a page with more than MAX_TAGS tags is refused (`TooLarge`).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_TAGS = 1 << 18
MAX_ATTRIBUTES = 512  # below this the parser costs ~1 us per attribute; above, it grows with their number
MAX_DEPTH = 512
MAIN_CONTENT_BUDGET = 1 << 24  # elements x depth; 100,000 x 1,000 took 1.6 s, so this is ~0.3 s
UNCHECKED_TAGS = 1 << 12  # up to here elements x depth cannot exceed the budget: no depth check is needed
INVALID_RATIO = 20  # a declared charset stays with one invalid sequence per this many valid non-ASCII characters

META_CHARSET = re.compile(rb"<meta[^<>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.I)
FLOOD_CHECK_BYTES = 128 * 1024  # below this even one element holding every attribute parses in ~1.5 s at worst
# A start tag and its attributes as the HTML tokenizer reads them (quoted values may hold `>`, names `<`),
# possessive throughout so that scanning is linear: group 1 is a tag's attribute beyond MAX_ATTRIBUTES.
ATTRIBUTE = rb"""[\s/]*+[^\s/>=]++(?>\s*+=\s*+(?>"[^"]*+"|'[^']*+'|[^\s>]*+))?"""
ATTRIBUTE_FLOOD = re.compile(rb"<[A-Za-z][^\s/>]*+(?:(?>" + ATTRIBUTE + rb"){1,%d}+)?+((?>" % (MAX_ATTRIBUTES - 1)
                             + ATTRIBUTE + rb"))?")
START_TAG = re.compile(rb"<([A-Za-z][^\s/>]*+)((?>" + ATTRIBUTE + rb")*+)")
MANY_ATTRIBUTES = re.compile(rb"(?>" + ATTRIBUTE + rb"){%d}" % MAX_ATTRIBUTES)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def is_html(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";", 1)[0].strip().lower() in HTML_TYPES


def known_charset(name: str | None) -> str | None:
    """A charset label as browsers read it (WHATWG: latin-1 means windows-1252), if Python has the codec."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    try:
        codecs.lookup(label)
        return codecs.lookup(map_encoding_to_html5(label)).name
    except LookupError:
        return None


def meta_charset(payload: bytes) -> str | None:
    match = META_CHARSET.search(payload, 0, 2048)
    return match.group(1).decode("ascii") if match else None


def decode_mostly(payload: bytes, charset: str) -> str | None:
    """The payload in `charset`, invalid bytes replaced, unless so many are invalid that it is not that charset:
    one bad sequence is always forgiven, more only among twenty times as many valid non-ASCII characters."""
    try:
        return payload.decode(charset)
    except UnicodeDecodeError:
        pass
    text = payload.decode(charset, "replace")
    invalid = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", "ignore")) - invalid
    return text if invalid <= max(1, valid // INVALID_RATIO) else None


def decode_html(payload: bytes, declared_charset: str | None = None) -> str:
    """Decode with the byte-order mark, the HTTP charset, the meta charset or, failing those, detection."""
    for bom, charset in BOMS:
        if payload.startswith(bom):
            return payload[len(bom):].decode(charset, "replace")
    declared = known_charset(declared_charset)
    text = decode_mostly(payload, declared) if declared else None
    if text is None:
        meta = known_charset(meta_charset(payload))
        text = decode_mostly(payload, meta) if meta and meta != declared else None
    if text is not None:
        return text
    detected = known_charset(detect_encoding(payload)) or "utf-8"
    return payload.decode(detected, "replace")


class BinaryPayload(ValueError):
    """The payload is labelled as HTML but holds binary data (an image, a PDF, an archive)."""


class TooLarge(ValueError):
    """More elements than the extractor's memory bound allows."""


class TooSlow(ValueError):
    """Nested deeper than any extraction can handle in bounded time."""


def looks_binary(payload: bytes) -> bool:
    """A payload labelled text/html that is really an image, PDF or archive (UTF-16 pages start with a BOM)."""
    return b"\x00" in payload[:1024] and not payload.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def without_attribute_floods(html: bytes) -> bytes:
    """Elements with more than MAX_ATTRIBUTES attributes lose them (the parser is quadratic in their number).
    On the bytes, so ASCII-compatible charsets only: a UTF-16 page is checked once re-encoded."""
    if len(html) <= FLOOD_CHECK_BYTES or not any(ATTRIBUTE_FLOOD.findall(html)):
        return html

    def bare(tag: re.Match) -> bytes:
        return b"<" + tag.group(1) if MANY_ATTRIBUTES.match(tag.group(2)) else tag.group(0)

    return START_TAG.sub(bare, html)


def nested_deeper_than(tree: HTMLTree, depth: int) -> bool:
    """Whether an element has `depth` ancestors (a C-side selector walk: elements x min(depth, their depth))."""
    return tree.document.query_selector(" > ".join(["*"] * depth)) is not None


@dataclass
class Extraction:
    text: str
    main_content: bool  # False: boilerplate kept, the page was too deep for main-content extraction in budget


def extract_text(payload: bytes, declared_charset: str | None = None, main_content: bool = True) -> Extraction:
    if not payload:
        return Extraction("", main_content)
    if looks_binary(payload):
        raise BinaryPayload("payload labelled HTML is binary (it holds NUL bytes)")
    tags = payload.count(b"<")
    if tags > MAX_TAGS:
        raise TooLarge(f"page has {tags:,} tags; the extractor's memory is bounded for up to {MAX_TAGS:,}")
    if payload.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        html = without_attribute_floods(decode_html(payload).encode("utf-8")).decode("utf-8")
    else:
        html = decode_html(without_attribute_floods(payload), declared_charset)
    tree = HTMLTree.parse(html)
    if tags > UNCHECKED_TAGS:
        if main_content and nested_deeper_than(tree, MAIN_CONTENT_BUDGET // tags):
            main_content = False
        if not main_content and nested_deeper_than(tree, MAX_DEPTH):
            raise TooSlow(f"elements nested over {MAX_DEPTH} deep: extraction time would not be bounded")
    text = extract_plain_text(tree, preserve_formatting=True, main_content=main_content,
                              list_bullets=False, alt_texts=False, links=False)
    return Extraction(text.strip().lstrip("\ufeff").lstrip(), main_content)


def html_to_text(payload: bytes, declared_charset: str | None = None, main_content: bool = True) -> str:
    return extract_text(payload, declared_charset, main_content).text
