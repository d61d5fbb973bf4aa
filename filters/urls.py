"""URL rules: UT1 blocklists (domain, subdomain, URL) and FineWeb's banned URL words.

UT1 (Université Toulouse 1, squidGuard format) lists, per category, domains (a listed domain
blocks itself and every subdomain) and URLs written without scheme ("host/path", a listed URL
blocks itself and everything below it). The adult category FineWeb used (4,558,939 domains) ships
in the datatrove wheel; the small categories (agressif, dating, gambling, mixed_adult, phishing)
are bundled in data/blocklists/ut1/<category>/.

A Python set of 4.6 M domain strings costs ~400 MB per worker. `DomainSet` keeps one 64-bit hash
per domain in a sorted numpy array instead (37 MB) and looks hosts up with searchsorted; the
hashes are Python's own (per process, never stored), and a false match needs a 64-bit collision.

Where this differs from datatrove's URLFilter (FineWeb's code): datatrove checks only the host's
registered domain and the full host, and compares the whole URL, scheme included, with the URL
list, whose entries have no scheme, so its URL check never matches. Here every parent domain of
the host is checked and URLs are compared as squidGuard does (scheme, "www." and port removed,
path prefix). URL words are matched in the lower-cased URL (datatrove splits the URL without
lower-casing it, so "PORN" in a URL escapes its word list).
"""

from __future__ import annotations

import gzip
import importlib.resources
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal
from cc_sieve.filters.lexicons import trie_pattern
from cc_sieve.filters.resources import data_path

UT1_ADULT_ARCHIVE = "url_filterblacklistsv0_3_0.tar.gz"
UT1_BUNDLED_CATEGORIES = ("agressif", "dating", "gambling", "mixed_adult", "phishing")
UT1_CATEGORIES = ("adult", *UT1_BUNDLED_CATEGORIES)
# Sinfonietta's pornography hosts (MIT; another maintainer than UT1): an adult-site list no recipe filters with,
# so it can grade the recipes that filter with UT1.
SINFONIETTA = "sinfonietta"
SINFONIETTA_HOSTS = "blocklists/sinfonietta/pornography-hosts.gz"
_READ_BYTES = 8 << 20
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def ut1_adult_archive() -> Path:
    """The UT1 adult lists (domains, urls) as the datatrove wheel ships them."""
    return Path(str(importlib.resources.files("datatrove") / "assets" / UT1_ADULT_ARCHIVE))


def hash_lines(chunks: Iterable[bytes]) -> Iterator[np.ndarray]:
    """Hashes of the whitespace-separated entries of a byte stream read in chunks."""
    carry = b""
    for chunk in chunks:
        entries = (carry + chunk).split()
        carry = b"" if chunk[-1:].isspace() else entries.pop() if entries else b""
        yield np.fromiter(map(hash, entries), dtype=np.int64, count=len(entries))
    if carry:
        yield np.array([hash(carry)], dtype=np.int64)


_PROBE = b"cc-sieve hash probe"


class DomainSet:
    """A set of domain names as a sorted array of their hashes (8 bytes per domain).

    The hashes are this process's (Python salts them per process), so a DomainSet is only valid
    where it was built: `contains` refuses to answer in another process rather than miss silently.
    """

    def __init__(self, hashes: np.ndarray):
        hashes.sort()  # in place; np.unique would build a hash table as large again
        self.hashes = hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))] if len(hashes) else hashes
        self.probe = hash(_PROBE)

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes]) -> DomainSet:
        return cls(np.concatenate([np.empty(0, dtype=np.int64), *hash_lines(chunks)]))

    def __len__(self) -> int:
        return len(self.hashes)

    def contains(self, names: list[bytes]) -> np.ndarray:
        """Membership of each name (bytes, as the entries were read)."""
        if self.probe != hash(_PROBE):
            raise RuntimeError("this DomainSet was built in another process (its string hashes differ): "
                               "build the blocklist where it is used (Blocklist.load unpickles that way)")
        if not names or not len(self.hashes):
            return np.zeros(len(names), dtype=bool)
        keys = np.fromiter(map(hash, names), dtype=np.int64, count=len(names))
        positions = np.minimum(np.searchsorted(self.hashes, keys), len(self.hashes) - 1)
        return self.hashes[positions] == keys


def read_chunks(stream) -> Iterator[bytes]:
    while chunk := stream.read(_READ_BYTES):
        yield chunk


def normalise_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def host_and_path(url: str) -> tuple[str, str] | None:
    """(host without "www." and port, path with query) of an absolute or scheme-less URL."""
    if not url:
        return None
    parts = urlsplit(url if "://" in url else "//" + url)
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for "mailto:x" read as host "mailto", port "x"
    except ValueError:
        return None
    if not host:
        return None
    path = parts.path + ("?" + parts.query if parts.query else "")
    return normalise_host(host), path


def parent_domains(host: str) -> list[str]:
    """The host and each parent domain with at least two labels: a.b.c.com -> [a.b.c.com, b.c.com, c.com]."""
    if _IPV4.fullmatch(host) or ":" in host:
        return [host]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def url_prefixes(host: str, path: str) -> list[str]:
    """"host/a/b" and its path prefixes at "/" boundaries, each without a trailing "/"."""
    full = (host + path).rstrip("/")
    prefixes = [full]
    index = full.find("/")
    while index != -1:
        prefixes.append(full[:index])
        index = full.find("/", index + 1)
    return prefixes


@dataclass
class Blocklist:
    """One UT1 category: its domains (hashed) and its URLs."""

    category: str
    domains: DomainSet
    urls: frozenset[str]

    def __reduce__(self):
        """Pickled, a blocklist travels as its category and is read again where it lands (once per process)."""
        return Blocklist.shared, (self.category,)

    @classmethod
    def shared(cls, category: str) -> Blocklist:
        """This process's copy of a category, read on first use: the recipes' UrlBlocklist and the harm
        detectors (filters/harm.py) in one worker share one 37 MB adult list instead of reading it twice."""
        if category not in _SHARED_BLOCKLISTS:
            _SHARED_BLOCKLISTS[category] = cls.load(category)
        return _SHARED_BLOCKLISTS[category]

    @classmethod
    def load(cls, category: str) -> Blocklist:
        if category == SINFONIETTA:
            return cls.hosts_file(category, data_path(SINFONIETTA_HOSTS))
        if category == "adult":
            with tarfile.open(ut1_adult_archive(), "r:gz") as archive:
                domains = DomainSet.from_chunks(read_chunks(archive.extractfile("domains")))
                urls = archive.extractfile("urls").read().decode("utf-8").split()
            return cls(category, domains, frozenset(urls))
        if category not in UT1_BUNDLED_CATEGORIES:
            raise ValueError(f"unknown list {category!r}; known: {', '.join(UT1_CATEGORIES)}, {SINFONIETTA}")
        folder = data_path(f"blocklists/ut1/{category}")
        domains = DomainSet(np.empty(0, dtype=np.int64))
        if (folder / "domains").exists():
            with open(folder / "domains", "rb") as stream:
                domains = DomainSet.from_chunks(read_chunks(stream))
        urls = (folder / "urls").read_text(encoding="utf-8").split() if (folder / "urls").exists() else []
        return cls(category, domains, frozenset(urls))

    @classmethod
    def hosts_file(cls, category: str, path: Path) -> Blocklist:
        """A hosts file (`0.0.0.0 host` lines, gzipped) as a domain list without URLs."""
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            hosts = [parts[1] for line in handle if len(parts := line.split()) == 2 and parts[0] == "0.0.0.0"]
        names = "\n".join(normalise_host(host) for host in hosts).encode("utf-8")
        return cls(category, DomainSet.from_chunks([names]), frozenset())

    def match_batch(self, urls: list[str | None]) -> list[str | None]:
        """Per URL: "domain" (the host is listed), "subdomain" (a parent domain is listed), "url"
        (the URL or a path prefix is listed) or None; a missing or unparsable URL gives None."""
        parsed = [host_and_path(url) if url else None for url in urls]
        candidates: list[bytes] = []
        owners: list[tuple[int, bool]] = []
        for index, parts in enumerate(parsed):
            if parts is not None:
                for level, name in enumerate(parent_domains(parts[0])):
                    candidates.append(name.encode("utf-8"))
                    owners.append((index, level == 0))
        kinds: list[str | None] = [None] * len(urls)
        for (index, is_host), listed in zip(owners, self.domains.contains(candidates).tolist(), strict=True):
            if listed and kinds[index] != "domain":
                kinds[index] = "domain" if is_host else "subdomain"
        for index, parts in enumerate(parsed):
            if parts is not None and kinds[index] is None and self.urls:
                if any(prefix in self.urls for prefix in url_prefixes(*parts)):
                    kinds[index] = "url"
        return kinds


_SHARED_BLOCKLISTS: dict[str, Blocklist] = {}


class UrlBlocklist(DeclaredAnnotator):
    """UT1 matches per category c: url_ut1_c_match (bool) and url_ut1_c_kind (domain|subdomain|url).
    Lists load once per Python worker (the adult domains in about two seconds; see jobs/bench/quality.py)."""

    name = "url_blocklist"

    def __init__(self, categories: Iterable[str] = ("adult",)):
        super().__init__(categories=categories)
        self.categories = tuple(categories)
        self.blocklists = [Blocklist.shared(category) for category in self.categories]

    @classmethod
    def signals(cls, categories: Iterable[str] = ("adult",), **config) -> tuple[Signal, ...]:
        return tuple(signal for category in categories for signal in (
            Signal(f"url_ut1_{category}_match", "flag", f"the URL is on the UT1 {category} list"),
            Signal(f"url_ut1_{category}_kind", "label", "what matched: domain, subdomain or url")))

    def annotate(self, batch: Batch) -> dict[str, list]:
        out: dict[str, list] = {}
        for blocklist in self.blocklists:
            kinds = blocklist.match_batch(batch["url"])
            out[f"url_ut1_{blocklist.category}_match"] = [
                None if not url else kind is not None for url, kind in zip(batch["url"], kinds, strict=True)]
            out[f"url_ut1_{blocklist.category}_kind"] = kinds
        return out


# ---------------------------------------------------------------------------------------------
# FineWeb's URL word lists (datatrove assets, bundled as data/lexicons/fineweb-datatrove)

_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")
FINEWEB_WORD_LISTS = "lexicons/fineweb-datatrove"


def read_word_list(path: Path) -> set[str]:
    """datatrove's parse_list: skip lines starting with "#", drop non-alphanumerics, lower-case."""
    return {_NON_ALNUM.sub("", line).lower() for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")} - {""}


class UrlBannedWords(DeclaredAnnotator):
    """FineWeb's URL word rules: url_banned_word (a banned word is a word of the URL),
    url_soft_banned_words (how many distinct soft-banned words it holds; FineWeb removes at 2),
    url_banned_subword (a banned sub-word occurs in the URL with non-alphanumerics removed)."""

    name = "url_banned_words"

    def __init__(self, lists: str = FINEWEB_WORD_LISTS):
        super().__init__(lists=lists)
        folder = data_path(lists)
        self.banned = frozenset(read_word_list(folder / "banned_words.txt"))
        self.soft_banned = frozenset(read_word_list(folder / "soft_banned_words.txt"))
        self.subwords = re.compile(trie_pattern(read_word_list(folder / "banned_subwords.txt")))

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("url_banned_word", "flag"), Signal("url_soft_banned_words", "count"),
                Signal("url_banned_subword", "flag"))

    def annotate(self, batch: Batch) -> dict[str, list]:
        out: dict[str, list] = {f.name: [] for f in self.schema()}
        for url in batch["url"]:
            if not url:
                for column in out.values():
                    column.append(None)
                continue
            lowered = url.lower()
            words = set(_NON_ALNUM.split(lowered))
            out["url_banned_word"].append(not self.banned.isdisjoint(words))
            out["url_soft_banned_words"].append(len(self.soft_banned & words))
            out["url_banned_subword"].append(self.subwords.search(_NON_ALNUM.sub("", lowered)) is not None)
        return out
