"""`cc-sieve make-shards`: Common Crawl-like WARC and WET shards of any size, with planted truth.

Documents are re-combined from the real Common Crawl texts bundled with the project (the 697
Dolma documents of CC-MAIN-2019-30): each document is a title line plus paragraphs drawn at random,
without repeats, from the de-duplicated paragraphs of one language (only languages with at least
MIN_POOL_PARAGRAPHS distinct paragraphs: English, Spanish, Italian), to a length drawn from the real
documents' lengths. Two documents share a paragraph only by chance, so they are not near-duplicates
unless planted. Then, at the configured rates (a share of each shard's documents, rounded):

- near-duplicates: a copy of a clean document edited (words replaced or deleted, then trimmed from
  the end) until the Jaccard of the word 5-gram sets reaches a chosen level; the exact value is
  recorded (cc_sieve.filters.planting defines the words and shingles);
- exact duplicates: the same text under another URL;
- PII: a labeled sentence of presidio-research's generated set as its own line, with the
  character offsets and entity type of every span recorded (never the values);
- toxic: a hate (class 0) or offensive (class 1) tweet of the Davidson set, or a toxic Jigsaw comment;
- blocklisted: the URL moved to a domain of a UT1 category (adult by default, the list FineWeb used).

Layout, as Common Crawl publishes it:
    OUT/warc.paths.gz, OUT/wet.paths.gz      manifests (entries relative to OUT)
    OUT/crawl-data/CC-MAIN-YYYY-WW/segments/<segment>/warc/CC-MAIN-<start>-<end>-<nnnnn>.warc.gz
    OUT/crawl-data/CC-MAIN-YYYY-WW/segments/<segment>/wet/CC-MAIN-<start>-<end>-<nnnnn>.warc.wet.gz
    OUT/truth.jsonl                           one row per planted document and format
    OUT/make-shards.json                      the options, and per shard: documents, bytes, sha256

A WARC shard holds a warcinfo record (isPartOf: the crawl id) and, per document, request,
response (HTTP headers and an HTML page: a per-host skin of head, styles, script, navigation and
footer around an <h1> title and one <p> per text line) and metadata records; a WET shard holds a
warcinfo record and one conversion record per document whose body is the document text, with its
declared language (ISO 639-3). Every record is its own gzip member (mtime 0), every id, date and
choice comes from a generator seeded with (seed, shard): the same options give the same bytes, and
shards are made in parallel processes. Truth `doc_id`s are what the ingest reads (the WARC-Record-ID
of the response or of the conversion record, without <>); duplicates point at a document of the
same shard and format, so any subset of shards carries complete truth. Offsets index the document
text (the WET body exactly; in the WARC the same lines come out of the HTML).

    cc-sieve make-shards --output build/shards --docs 20000 --shards 4
    cc-sieve benchmark --input build/shards/warc.paths.gz ...   (manifest_base: build/shards)
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import html
import io
import json
import os
import random
import re
import sys
import tarfile
import time
import unicodedata
import uuid
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cc_sieve.filters.language import Py3LangIdentifier
from cc_sieve.filters.lexicons import ISO_639_3_TO_1
from cc_sieve.filters.planting import TRUTH_FILE, insert_paragraph, near_duplicate, shingle_words
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import UT1_CATEGORIES, ut1_adult_archive
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.loading import validate_flags
from cc_sieve.jobs.errors import run_command

DOLMA_SAMPLE = "commoncrawl/CC-MAIN-2019-30/dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
PII_SET = "eval/pii/presidio-generated_large.json"
DAVIDSON_SET = "eval/toxicity/davidson-labeled_data.split-shared80.csv"
JIGSAW_SET = "eval/toxicity/jigsaw-detoxify-dummy-train.csv"
SUMMARY_FILE = "make-shards.json"
MIN_POOL_PARAGRAPHS = 1500  # fewer distinct lines (or source documents) and random texts start to overlap
MIN_DOCUMENT_WORDS = 80
MIN_DOCUMENT_LINES = 4
MIN_DOCUMENT_CHARS = 1000
MAX_LINE_CHARS = 300  # longer real lines are cut at sentence ends: one shared line never dominates two texts
MAX_DOCUMENT_CHARS = 30_000
MIN_NEAR_DUP_SOURCE_WORDS = 150  # enough shingles for the Jaccard to land within ~0.01 of a level
ADULT_DOMAIN_STRIDE = 997  # every 997th of the 4.6 M UT1 adult domains: ~4,600 spread over the list
SHARD_HOURS = 3  # the capture window of one shard, as in CC file names
ISO_639_1_TO_3 = {one: three for three, one in sorted(ISO_639_3_TO_1.items(), reverse=True)}
CRAWL_ID = re.compile(r"CC-MAIN-(\d{4})-(\d{2})")
_HOSTNAME = re.compile(r"(?=.{4,80}$)[a-z0-9-]+(\.[a-z0-9-]+)+")


class ShardOptions(BaseModel):
    """What to make; validated before any work starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output: str
    docs: int = Field(default=1000, ge=1)
    shards: int = Field(default=1, ge=1)
    format: Literal["warc", "wet", "both"] = "both"
    seed: int = 0
    crawl_id: str = "CC-MAIN-2024-22"
    near_dup_rate: float = Field(default=0.05, ge=0, le=0.5)
    jaccard_levels: tuple[float, ...] = (0.5, 0.7, 0.8, 0.9, 0.95)
    exact_dup_rate: float = Field(default=0.02, ge=0, le=0.5)
    pii_rate: float = Field(default=0.05, ge=0, le=1)
    toxic_rate: float = Field(default=0.03, ge=0, le=1)
    blocklist_rate: float = Field(default=0.02, ge=0, le=1)
    blocklist_categories: tuple[str, ...] = ("adult",)
    workers: int = Field(default=max(1, os.cpu_count() or 1), ge=1)

    @field_validator("crawl_id")
    @classmethod
    def _crawl_id(cls, value: str) -> str:
        match = CRAWL_ID.fullmatch(value)
        if not match or not 1 <= int(match.group(2)) <= 52:
            raise ValueError("expected CC-MAIN-YYYY-WW (e.g. CC-MAIN-2024-22)")
        return value

    @field_validator("jaccard_levels")
    @classmethod
    def _levels(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or not all(0 < level < 1 for level in value):
            raise ValueError("give one or more Jaccard levels between 0 and 1 (exclusive)")
        return value

    @field_validator("blocklist_categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in UT1_CATEGORIES]
        if unknown or not value:
            known = ", ".join(UT1_CATEGORIES)
            raise ValueError(f"unknown UT1 category {', '.join(unknown) or '(none)'}; known: {known}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ShardOptions:
        if self.docs < self.shards:
            raise ValueError(f"--docs {self.docs} is fewer than --shards {self.shards}")
        if self.near_dup_rate + self.exact_dup_rate > 0.5:
            raise ValueError("--near-dup-rate plus --exact-dup-rate must stay at or below 0.5 (copies need originals)")
        originals = 1 - self.near_dup_rate - self.exact_dup_rate
        for name in ("pii_rate", "toxic_rate", "blocklist_rate"):
            if getattr(self, name) > originals:
                raise ValueError(f"--{name.replace('_', '-')} is above the share of original documents ({originals:g})")
        return self

    @property
    def formats(self) -> tuple[str, ...]:
        return ("warc", "wet") if self.format == "both" else (self.format,)


# ---------------------------------------------------------------------------------------------
# Sources: real texts, labeled sentences, blocklisted domains (read once per process)

@dataclass
class LanguagePool:
    language: str  # ISO 639-1
    documents: int  # real documents in this language (its weight)
    paragraphs: list[str]
    titles: list[str]
    lengths: list[int]  # characters of the real documents, to draw sizes from
    vocabulary: list[str]  # words for near-duplicate edits


@dataclass(frozen=True)
class SiteRoot:
    scheme: str
    host: str
    section: str  # first path folder of a real URL on the host, "/" when none


@dataclass(frozen=True)
class LabeledSentence:
    source: str  # "<set file>#<row>"
    label: str  # PII: the entity types; toxic: hate | offensive | toxic
    text: str
    spans: tuple[tuple[str, int, int], ...] = ()  # (entity type, start, end) within text


@dataclass
class Sources:
    pools: list[LanguagePool]
    sites: list[SiteRoot]
    pii: list[LabeledSentence]
    toxic: list[LabeledSentence]
    blocked: dict[str, list[str]] = field(default_factory=dict)  # category -> domains


def real_documents() -> list[dict]:
    with gzip.open(data_path(DOLMA_SAMPLE), "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def language_pools(documents: list[dict]) -> list[LanguagePool]:
    """Distinct lines per language (py3langid on each real document), languages with enough of them."""
    identifier = Py3LangIdentifier.shared()
    grouped: dict[str, list[dict]] = {}
    for document in documents:
        language, _ = identifier.classify(document["text"])
        if language:
            grouped.setdefault(language, []).append(document)
    pools = []
    for language, members in sorted(grouped.items()):
        lines = list(dict.fromkeys(piece for d in members for line in d["text"].split("\n")
                                   for piece in cut_line(" ".join(line.split()))))
        if len(lines) < MIN_POOL_PARAGRAPHS:
            continue
        titles = [line for line in lines if 2 <= len(line.split()) <= 12 and len(line) <= 100]
        words = dict.fromkeys(w for line in lines for w in line.split() if 3 <= len(w) <= 15 and w.isalpha())
        pools.append(LanguagePool(language, len(members), lines, titles,
                                  sorted(len(d["text"]) for d in members), list(words)))
    return pools


_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


def cut_line(line: str, limit: int = MAX_LINE_CHARS) -> list[str]:
    """A line as pieces of at most about `limit` characters, cut after sentence ends (or, for one
    sentence longer than that, between words)."""
    if len(line) <= limit:
        return [line] if line else []
    pieces, current = [], ""
    for sentence in _SENTENCE_END.split(line):
        words = sentence.split(" ") if len(sentence) > limit else [sentence]
        for word in words:
            joiner = " " if current else ""
            if current and len(current) + len(joiner) + len(word) > limit:
                pieces.append(current)
                current, joiner = "", ""
            current += joiner + word
    if current:
        pieces.append(current)
    return pieces


def site_roots(documents: list[dict]) -> list[SiteRoot]:
    roots = {}
    for document in documents:
        url = document.get("metadata", {}).get("warc_url")
        parts = urlsplit(url) if url else None
        if not parts or not parts.hostname or not _HOSTNAME.fullmatch(parts.hostname):
            continue
        folder = parts.path.split("/")[1] if parts.path.count("/") >= 2 else ""
        section = f"/{folder}/" if folder and folder.isascii() and len(folder) <= 30 else "/"
        roots.setdefault((parts.scheme, parts.hostname, section), None)
    return [SiteRoot(*key) for key in roots]


def pii_sentences() -> list[LabeledSentence]:
    """presidio-research's generated sentences that carry at least one labeled span."""
    path = data_path(PII_SET)
    rows = json.loads(path.read_text(encoding="utf-8"))
    sentences = []
    for index, row in enumerate(rows):
        spans = tuple(sorted((s["entity_type"], s["start_position"], s["end_position"]) for s in row["spans"]))
        if spans and row["full_text"].strip() == row["full_text"]:
            types = ",".join(sorted({s[0] for s in spans}))
            sentences.append(LabeledSentence(f"{path.name}#{index}", types, row["full_text"], spans))
    return sentences


def toxic_sentences() -> list[LabeledSentence]:
    """Davidson tweets labeled hate (class 0) or offensive (class 1), and Jigsaw comments labeled toxic."""
    sentences = []
    davidson = data_path(DAVIDSON_SET)
    with open(davidson, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["class"] in {"0", "1"}:
                text = " ".join(html.unescape(row["tweet"]).split())
                if text:
                    sentences.append(LabeledSentence(f"{davidson.name}#{row['']}",
                                                     "hate" if row["class"] == "0" else "offensive", text))
    jigsaw = data_path(JIGSAW_SET)
    with open(jigsaw, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["toxic"] == "1":
                text = " ".join(row["comment_text"].split())
                if text:
                    sentences.append(LabeledSentence(f"{jigsaw.name}#{row['id']}", "toxic", text))
    return sentences


def blocked_domains(category: str) -> list[str]:
    """Host names listed in a UT1 category (the adult list: a spread sample of its 4.6 M domains)."""
    if category == "adult":
        with tarfile.open(ut1_adult_archive(), "r:gz") as archive:
            lines = archive.extractfile("domains").read().split()[::ADULT_DOMAIN_STRIDE]
    else:
        lines = (data_path(f"blocklists/ut1/{category}") / "domains").read_bytes().split()
    return [name for name in (line.decode("utf-8", "replace").lower() for line in lines)
            if _HOSTNAME.fullmatch(name) and not name.replace(".", "").isdigit()]


@cache
def load_sources(categories: tuple[str, ...]) -> Sources:
    documents = real_documents()
    return Sources(language_pools(documents), site_roots(documents), pii_sentences(), toxic_sentences(),
                   {category: blocked_domains(category) for category in categories})


# ---------------------------------------------------------------------------------------------
# Documents of one shard

@dataclass
class PlannedDocument:
    text: str
    language: str
    url: str
    truth: dict  # labels planted in it (without ids)
    copy_of: PlannedDocument | None = None  # the original it copies
    copy_kind: str | None = None  # "near_dup_of" | "exact_dup_of"
    record_ids: dict[str, str] = field(default_factory=dict)  # format -> doc id
    fetched: datetime | None = None


def compose_text(pool: LanguagePool, rng: random.Random) -> str:
    """A title line and random distinct paragraphs up to a real document's length."""
    target = min(max(rng.choice(pool.lengths), MIN_DOCUMENT_CHARS), MAX_DOCUMENT_CHARS)
    lines = [rng.choice(pool.titles)]
    used = {lines[0]}
    size, words = len(lines[0]), len(lines[0].split())
    while size < target or len(lines) < MIN_DOCUMENT_LINES or words < MIN_DOCUMENT_WORDS:
        line = rng.choice(pool.paragraphs)
        if line in used:
            continue
        used.add(line)
        lines.append(line)
        size += len(line) + 1
        words += len(line.split())
    return "\n".join(lines)


def slug(text: str, words: int = 6) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:words]) or "page"


def page_url(site: SiteRoot, title: str, serial: int) -> str:
    return f"{site.scheme}://{site.host}{site.section}{slug(title)}-{serial}"


def plant_line(document: PlannedDocument, sentence: LabeledSentence, rng: random.Random) -> int:
    inserted = insert_paragraph(document.text, sentence.text, rng)
    document.text = inserted.text
    return inserted.start


def shift_truth_offsets(document: PlannedDocument, at: int, by: int) -> None:
    """Offsets recorded earlier move when a later line is inserted before them."""
    for span in document.truth.get("pii_spans", []):
        if span["start"] >= at:
            span["start"] += by
            span["end"] += by
    toxic = document.truth.get("toxic_span")
    if toxic and toxic[0] >= at:
        document.truth["toxic_span"] = [toxic[0] + by, toxic[1] + by]


def plan_shard(options: ShardOptions, sources: Sources, count: int, first_serial: int,
               rng: random.Random) -> list[PlannedDocument]:
    """`count` documents in file order: originals, some planted with PII, toxic lines or blocklisted URLs,
    and copies of clean originals (near-duplicates at the Jaccard levels in turn, exact duplicates)."""
    near_count = round(count * options.near_dup_rate)
    exact_count = round(count * options.exact_dup_rate)
    original_count = count - near_count - exact_count
    weights = [pool.documents for pool in sources.pools]
    originals = []
    for index in range(original_count):
        pool = rng.choices(sources.pools, weights)[0]
        text = compose_text(pool, rng)
        site = rng.choice(sources.sites)
        originals.append(PlannedDocument(text, pool.language, page_url(site, text.split("\n", 1)[0],
                                                                       first_serial + index), {}))
    for index in sorted(rng.sample(range(original_count), round(count * options.pii_rate))):
        document, sentence = originals[index], rng.choice(sources.pii)
        start = plant_line(document, sentence, rng)
        document.truth.update(pii=True, pii_source=sentence.source, pii_entities=sentence.label,
                              pii_spans=[{"entity_type": kind, "start": start + begin, "end": start + end}
                                         for kind, begin, end in sentence.spans])
    for index in sorted(rng.sample(range(original_count), round(count * options.toxic_rate))):
        document, sentence = originals[index], rng.choice(sources.toxic)
        start = plant_line(document, sentence, rng)
        shift_truth_offsets(document, start, len(sentence.text) + 1)
        document.truth.update(toxic=True, toxic_source=sentence.source, toxic_label=sentence.label,
                              toxic_span=[start, start + len(sentence.text)])
    for index in sorted(rng.sample(range(original_count), round(count * options.blocklist_rate))):
        document = originals[index]
        category = rng.choice(options.blocklist_categories)
        domain = rng.choice(sources.blocked[category])
        host = ("www." if rng.random() < 0.5 else "") + domain
        title = document.text.split("\n", 1)[0]
        document.url = f"https://{host}/{slug(title)}-{first_serial + index}"
        document.truth.update(blocklisted=True, blocklist_category=category, blocklist_domain=domain)
    clean = [i for i, d in enumerate(originals) if not d.truth]
    long_enough = [i for i in clean if len(shingle_words(originals[i].text)) >= MIN_NEAR_DUP_SOURCE_WORDS] or clean
    copies = []
    serial = first_serial + original_count
    for index in range(near_count + exact_count):
        near = index < near_count
        source_index = rng.choice(long_enough if near else clean)
        source = originals[source_index]
        site = rng.choice(sources.sites)
        copy = PlannedDocument(source.text, source.language, page_url(site, source.text.split("\n", 1)[0], serial),
                               {}, source, "near_dup_of" if near else "exact_dup_of")
        serial += 1
        if near:
            level = options.jaccard_levels[index % len(options.jaccard_levels)]
            pool = next(p for p in sources.pools if p.language == source.language)
            edited = near_duplicate(source.text, level, rng, pool.vocabulary)
            copy.text = edited.text
            copy.truth.update(jaccard_target=level, jaccard=round(edited.jaccard, 6))
        copies.append(copy)
    documents = originals + copies
    order = list(range(len(documents)))
    rng.shuffle(order)
    return [documents[i] for i in order]


# ---------------------------------------------------------------------------------------------
# Records

@dataclass(frozen=True)
class ShardNames:
    crawl_id: str
    segment: str
    start: datetime
    index: int

    @property
    def stem(self) -> str:
        end = self.start + timedelta(hours=SHARD_HOURS)
        return f"CC-MAIN-{self.start:%Y%m%d%H%M%S}-{end:%Y%m%d%H%M%S}-{self.index:05d}"

    def path(self, format_name: str) -> str:
        suffix = ".warc.gz" if format_name == "warc" else ".warc.wet.gz"
        return f"crawl-data/{self.crawl_id}/segments/{self.segment}/{format_name}/{self.stem}{suffix}"


def shard_names(crawl_id: str, index: int, rng: random.Random) -> ShardNames:
    year, week = (int(x) for x in CRAWL_ID.fullmatch(crawl_id).groups())
    crawl_start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(), UTC)
    start = crawl_start + timedelta(hours=SHARD_HOURS * index, seconds=rng.randrange(3600))
    segment = f"{int(start.timestamp() * 1000) + rng.randrange(1000)}.{rng.randrange(100):02d}"
    return ShardNames(crawl_id, segment, start, index)


def new_record_id(rng: random.Random) -> str:
    return f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def warc_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class HostSkin:
    """The markup every page of one host shares: head, styles, script, navigation, footer."""

    site_name: str
    head: str
    header: str
    footer: str
    server: str
    ip: str


SERVERS = ("nginx", "Apache", "cloudflare", "Microsoft-IIS/10.0", "LiteSpeed", "openresty")
CSS_PROPERTIES = ("margin", "padding", "color", "background-color", "font-size", "line-height", "border",
                  "width", "max-width", "display", "position", "z-index", "letter-spacing", "border-radius")
JS_CALLS = ("document.querySelectorAll", "document.getElementById", "window.addEventListener",
            "localStorage.getItem", "console.debug", "fetch")


@dataclass(frozen=True)
class MarkupLibrary:
    """Style rules and script lines made once per seed; each host's skin samples its own set."""

    rules: list[str]
    script_lines: list[str]


def markup_library(seed: int, vocabulary: Sequence[str]) -> MarkupLibrary:
    rng = random.Random(f"{seed}:markup")
    classes = list(dict.fromkeys(slug(word, 1) for word in rng.sample(vocabulary, min(600, len(vocabulary)))))

    def css_value() -> str:
        return rng.choice([f"{rng.randint(0, 64)}px", f"#{rng.randrange(16**6):06x}",
                           f"{rng.randint(1, 30) / 10}rem", "auto", "none", "inherit", "flex", "relative"])

    rules = []
    for _ in range(3000):
        selector = " ".join(f".{rng.choice(classes)}" for _ in range(rng.randint(1, 3)))
        declarations = "; ".join(f"{rng.choice(CSS_PROPERTIES)}: {css_value()}" for _ in range(rng.randint(2, 6)))
        rules.append(f"{selector} {{ {declarations} }}")
    lines = [f"var {rng.choice(classes)}_{i} = {rng.choice(JS_CALLS)}('.{rng.choice(classes)}');"
             for i in range(1500)]
    return MarkupLibrary(rules, lines)


def host_skin(host: str, vocabulary: Sequence[str], library: MarkupLibrary, seed: int) -> HostSkin:
    """Deterministic per (seed, host): 25-60 kB of styles and script, 20-60 navigation links, a footer."""
    rng = random.Random(f"{seed}:skin:{host}")
    site_name = host.removeprefix("www.").split(".")[0].replace("-", " ").title()
    rules = [library.rules[i] for i in sorted(rng.sample(range(len(library.rules)), rng.randint(250, 550)))]
    script = [library.script_lines[i] for i in sorted(rng.sample(range(len(library.script_lines)),
                                                                 rng.randint(60, 200)))]
    tracker = f"UA-{rng.randrange(10**7, 10**8)}-{rng.randint(1, 9)}"
    head = ('<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="stylesheet" href="/assets/{rng.randrange(16**10):010x}.css">\n'
            f'<link rel="icon" href="/favicon.ico">\n<style>\n' + "\n".join(rules) + "\n</style>\n"
            f'<script async src="https://www.googletagmanager.com/gtag/js?id={tracker}"></script>\n'
            "<script>\nwindow.dataLayer = window.dataLayer || [];\n"
            f"function gtag(){{dataLayer.push(arguments);}}\ngtag('js', new Date());\ngtag('config', '{tracker}');\n"
            + "\n".join(script) + "\n</script>\n")

    def links(count: int) -> str:
        return "".join(f'<li><a href="/{slug(word, 2)}/">{html.escape(word.title())}</a></li>'
                       for word in (rng.choice(vocabulary) for _ in range(count)))

    header = (f'<header class="site-header"><a class="logo" href="/">{html.escape(site_name)}</a>\n'
              f'<nav><ul class="menu">{links(rng.randint(20, 60))}</ul></nav></header>\n')
    footer = (f'<footer class="site-footer"><ul>{links(rng.randint(10, 25))}</ul>\n'
              f"<p>&copy; {html.escape(site_name)}</p></footer>\n")
    ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return HostSkin(site_name, head, header, footer, rng.choice(SERVERS), ip)


def render_html(document: PlannedDocument, skin: HostSkin) -> bytes:
    title, *body = document.text.split("\n")
    description = html.escape(" ".join(" ".join(body).split()[:25]), quote=True)
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in body)
    page = (f'<!DOCTYPE html>\n<html lang="{document.language}">\n<head>\n'
            f"<title>{html.escape(title)} | {html.escape(skin.site_name)}</title>\n"
            f'<meta name="description" content="{description}">\n'
            f'<link rel="canonical" href="{html.escape(document.url, quote=True)}">\n{skin.head}</head>\n'
            f"<body>\n{skin.header}<main><article>\n<h1>{html.escape(title)}</h1>\n{paragraphs}\n"
            f"</article></main>\n{skin.footer}</body>\n</html>\n")
    return page.encode("utf-8")


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


class GzipMembers:
    """Each record its own gzip member (as Common Crawl writes them); mtime 0, so bytes are reproducible.
    Level 3: a third less CPU than zlib's default 6 for 9% more bytes (shards are made for the bench)."""

    def __init__(self, stream, level: int = 3):
        self.stream = stream
        self.level = level
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=False)

    def write(self, record) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.write_record(record)
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self.stream.write(compressor.compress(self.buffer.getvalue()) + compressor.flush())


def warcinfo_record(writer: WARCWriter, filename: str, fields: dict[str, str],
                    record_id: str, moment: datetime):
    payload = "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode("utf-8")
    return writer.create_warc_record("", "warcinfo", payload=io.BytesIO(payload), length=len(payload),
                                     warc_content_type="application/warc-fields",
                                     warc_headers_dict={"WARC-Date": warc_date(moment),
                                                        "WARC-Record-ID": f"<{record_id}>",
                                                        "WARC-Filename": filename})


def crawl_description(crawl_id: str) -> dict[str, str]:
    year, week = (int(x) for x in CRAWL_ID.fullmatch(crawl_id).groups())
    month = date.fromisocalendar(year, week, 1).strftime("%B %Y")
    return {"isPartOf": crawl_id, "publisher": "Common Crawl", "description": f"Wide crawl of the web for {month}",
            "operator": "Common Crawl Admin (info@commoncrawl.org)"}


def write_warc(path: Path, names: ShardNames, documents: list[PlannedDocument], skins: dict[str, HostSkin],
               rng: random.Random) -> None:
    with open(path, "wb") as stream:
        out = GzipMembers(stream)
        info_id = new_record_id(rng)
        fields = {**crawl_description(names.crawl_id), "hostname": f"ip-10-{rng.randint(0, 255)}-"
                  f"{rng.randint(0, 255)}-{rng.randint(0, 255)}.ec2.internal",
                  "software": "Apache Nutch 1.19 (modified, https://github.com/commoncrawl/nutch/)",
                  "robots": "checked via crawler-commons 1.5 (https://github.com/crawler-commons/crawler-commons)",
                  "format": "WARC File Format 1.1",
                  "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"}
        out.write(warcinfo_record(out.writer, path.name, fields, info_id, names.start))
        for document in documents:
            skin = skins[urlsplit(document.url).hostname]
            parts = urlsplit(document.url)
            moment = warc_date(document.fetched)
            request_id, response_id = new_record_id(rng), document.record_ids["warc"]
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            request_headers = StatusAndHeaders(f"GET {target} HTTP/1.1", [
                ("User-Agent", "CCBot/2.0 (https://commoncrawl.org/faq/)"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", "en-US,en;q=0.5"), ("Accept-Encoding", "br,gzip"),
                ("Host", parts.hostname), ("Connection", "Keep-Alive")], is_http_request=True)
            common = {"WARC-Date": moment, "WARC-Warcinfo-ID": f"<{info_id}>", "WARC-IP-Address": skin.ip}
            out.write(out.writer.create_warc_record(document.url, "request", http_headers=request_headers,
                                                    warc_headers_dict={**common, "WARC-Record-ID": f"<{request_id}>"}))
            body = render_html(document, skin)
            response_headers = StatusAndHeaders("200 OK", [
                ("Date", http_date(document.fetched)), ("Server", skin.server),
                ("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", str(len(body))),
                ("Connection", "close")], protocol="HTTP/1.1")
            out.write(out.writer.create_warc_record(
                document.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=response_headers,
                warc_headers_dict={**common, "WARC-Record-ID": f"<{response_id}>",
                                   "WARC-Concurrent-To": f"<{request_id}>",
                                   "WARC-Identified-Payload-Type": "text/html"}))
            language = ISO_639_1_TO_3.get(document.language, document.language)
            metadata = (f"fetchTimeMs: {rng.randint(40, 2500)}\r\ncharset-detected: UTF-8\r\n"
                        f'languages-cld2: {{"reliable":true,"text-bytes":{len(document.text.encode())},'
                        f'"languages":[{{"code":"{document.language}","code-iso-639-3":"{language}",'
                        f'"text-covered":0.99}}]}}\r\n').encode()
            out.write(out.writer.create_warc_record(
                document.url, "metadata", payload=io.BytesIO(metadata), length=len(metadata),
                warc_content_type="application/warc-fields",
                warc_headers_dict={"WARC-Date": moment, "WARC-Record-ID": f"<{new_record_id(rng)}>",
                                   "WARC-Warcinfo-ID": f"<{info_id}>", "WARC-Concurrent-To": f"<{response_id}>"}))


def write_wet(path: Path, names: ShardNames, documents: list[PlannedDocument], rng: random.Random) -> None:
    with open(path, "wb") as stream:
        out = GzipMembers(stream)
        fields = {"Software-Info": "ia-web-commons.1.1.10", "Extracted-Date": http_date(names.start + timedelta(
            days=10)), **crawl_description(names.crawl_id)}
        out.write(warcinfo_record(out.writer, path.name, fields, new_record_id(rng),
                                  names.start + timedelta(days=10)))
        for document in documents:
            body = document.text.encode("utf-8")
            out.write(out.writer.create_warc_record(
                document.url, "conversion", payload=io.BytesIO(body), length=len(body), warc_content_type="text/plain",
                warc_headers_dict={"WARC-Date": warc_date(document.fetched),
                                   "WARC-Record-ID": f"<{document.record_ids['wet']}>",
                                   "WARC-Refers-To": f"<{document.record_ids['warc']}>",
                                   "WARC-Identified-Content-Language":
                                       ISO_639_1_TO_3.get(document.language, document.language)}))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def make_shard(options: ShardOptions, index: int, count: int, first_serial: int) -> dict:
    """Plan, write and describe shard `index`; returns its summary and truth rows."""
    sources = load_sources(options.blocklist_categories)
    rng = random.Random(f"{options.seed}:shard:{index}")
    names = shard_names(options.crawl_id, index, rng)
    documents = plan_shard(options, sources, count, first_serial, rng)
    offsets = sorted(rng.randrange(SHARD_HOURS * 3600) for _ in documents)
    vocabulary = {pool.language: pool.vocabulary for pool in sources.pools}
    library = markup_library(options.seed, sources.pools[0].vocabulary)
    skins: dict[str, HostSkin] = {}
    for document, offset in zip(documents, offsets, strict=True):
        document.fetched = names.start + timedelta(seconds=offset)
        document.record_ids = {"warc": new_record_id(rng), "wet": new_record_id(rng)}
        host = urlsplit(document.url).hostname
        if host not in skins:
            skins[host] = host_skin(host, vocabulary[document.language], library, options.seed)
    out = Path(options.output)
    files = {}
    for format_name in options.formats:
        path = out / names.path(format_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        format_rng = random.Random(f"{options.seed}:shard:{index}:{format_name}")
        if format_name == "warc":
            write_warc(path, names, documents, skins, format_rng)
        else:
            write_wet(path, names, documents, format_rng)
        files[format_name] = {"path": names.path(format_name), "bytes": path.stat().st_size,
                              "sha256": sha256_of(path)}
    truth = []
    for format_name in options.formats:
        for document in documents:
            if not document.truth and document.copy_kind is None:
                continue
            row = {"doc_id": document.record_ids[format_name], "format": format_name,
                   "shard": names.path(format_name), "url": document.url, "language": document.language}
            if document.copy_kind:
                row[document.copy_kind] = document.copy_of.record_ids[format_name]
            row.update(document.truth)
            truth.append(row)
    return {"index": index, "documents": len(documents), "files": files, "truth": truth}


def shard_sizes(docs: int, shards: int) -> list[int]:
    return [docs // shards + (1 if i < docs % shards else 0) for i in range(shards)]


def write_manifest(path: Path, entries: list[str]) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write("".join(f"{entry}\n" for entry in entries).encode("utf-8"))


def make_shards(options: ShardOptions) -> dict:
    """Write every shard, the manifests, truth.jsonl and make-shards.json; return the summary."""
    started = time.perf_counter()
    load_sources(options.blocklist_categories)  # once here; worker processes inherit it
    out = Path(options.output)
    out.mkdir(parents=True, exist_ok=True)
    sizes = shard_sizes(options.docs, options.shards)
    firsts = [sum(sizes[:i]) for i in range(len(sizes))]
    if options.workers > 1 and options.shards > 1:
        with ProcessPoolExecutor(max_workers=min(options.workers, options.shards)) as pool:
            results = list(pool.map(make_shard, [options] * options.shards, range(options.shards), sizes, firsts))
    else:
        results = [make_shard(options, i, size, first) for i, (size, first) in enumerate(zip(sizes, firsts,
                                                                                          strict=True))]
    for format_name in options.formats:
        write_manifest(out / f"{format_name}.paths.gz", [r["files"][format_name]["path"] for r in results])
    truth_rows = [row for result in results for row in result["truth"]]
    with open(out / TRUTH_FILE, "w", encoding="utf-8") as handle:
        for row in truth_rows:
            handle.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
    first_format = options.formats[0]
    planted = [row for row in truth_rows if row["format"] == first_format]
    summary = {
        "options": options.model_dump(exclude={"output", "workers"}),
        "shards": [{"index": r["index"], "documents": r["documents"], "files": r["files"]} for r in results],
        "planted": {kind: sum(1 for row in planted if row.get(key)) for kind, key in (
            ("near_duplicates", "near_dup_of"), ("exact_duplicates", "exact_dup_of"), ("pii", "pii"),
            ("toxic", "toxic"), ("blocklisted", "blocklisted"))},
        "bytes": {f: sum(r["files"][f]["bytes"] for r in results) for f in options.formats},
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    summary["seconds"] = time.perf_counter() - started
    return summary


def parse_levels(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers") from error


def parse_args(argv: list[str] | None) -> ShardOptions:
    defaults = {name: field.default for name, field in ShardOptions.model_fields.items()}
    parser = command_parser("cc-sieve make-shards", __doc__)
    parser.add_argument("--output", required=True, help="folder for the shards, manifests and truth.jsonl")
    parser.add_argument("--docs", type=int, default=defaults["docs"], help="documents in all (split evenly)")
    parser.add_argument("--shards", type=int, default=defaults["shards"], help="shards per format")
    parser.add_argument("--format", choices=["warc", "wet", "both"], default=defaults["format"],
                        help="the same documents as WARC, as WET, or both")
    parser.add_argument("--seed", type=int, default=defaults["seed"], help="the same seed writes the same bytes")
    parser.add_argument("--crawl-id", default=defaults["crawl_id"], help="CC-MAIN-YYYY-WW")
    parser.add_argument("--near-dup-rate", type=float, default=defaults["near_dup_rate"],
                        help="share of documents that are near-duplicates of another")
    parser.add_argument("--jaccard-levels", type=parse_levels, default=defaults["jaccard_levels"],
                        help="word 5-gram Jaccard levels of the near-duplicates, e.g. 0.5,0.7,0.9")
    parser.add_argument("--exact-dup-rate", type=float, default=defaults["exact_dup_rate"],
                        help="share of documents that are exact copies of another")
    parser.add_argument("--pii-rate", type=float, default=defaults["pii_rate"],
                        help="share of documents given a labeled PII sentence")
    parser.add_argument("--toxic-rate", type=float, default=defaults["toxic_rate"],
                        help="share of documents given a hateful or toxic passage")
    parser.add_argument("--blocklist-rate", type=float, default=defaults["blocklist_rate"],
                        help="share of documents given a URL on a UT1 list")
    parser.add_argument("--blocklist-categories", default=",".join(defaults["blocklist_categories"]),
                        help="UT1 categories the blocklisted URLs come from (comma-separated)")
    parser.add_argument("--workers", type=int, default=defaults["workers"], help="processes (shards are independent)")
    args = vars(parser.parse_args(argv))
    args["blocklist_categories"] = tuple(c.strip() for c in args["blocklist_categories"].split(",") if c.strip())
    return validate_flags(ShardOptions, args)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    summary = make_shards(options)
    planted = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in summary["planted"].items())
    sizes = ", ".join(f"{fmt.upper()} {size / 1e6:,.1f} MB" for fmt, size in summary["bytes"].items())
    print(f"{options.docs:,} documents in {options.shards} shard(s) ({sizes}) in {summary['seconds']:.1f} s; "
          f"planted: {planted}")
    print(f"manifests: {', '.join(str(Path(options.output) / f'{f}.paths.gz') for f in options.formats)}; "
          f"truth: {Path(options.output) / TRUTH_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve make-shards"))
