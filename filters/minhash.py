"""MinHash signatures, LSH band keys and exact-duplicate hashes for near-duplicate detection.

Normalisation (as filters/planting.py's `shingle_words`, which planted truth is measured with):
lower-case, drop Unicode punctuation (category P*: "don't" -> "dont"), split on whitespace, join the
words with one space. Lower-casing is per character (the simple mapping), so the rare characters
whose lower case depends on context or lengthens ('Σ' at a word's end, 'İ') differ from str.lower.
Shingles are word n-grams of that text (5 by default) or character n-grams of it; a text shorter
than one n-gram is a single shingle, an empty one has none (no signature, so it is never a
candidate; datasketch would give it the all-max signature, which collides with every other empty
text).

Signatures use datasketch's "affine32" permutation scheme (datasketch >= 2.0 default) with its seed:
each shingle hash h is mixed by MurmurHash3's 32-bit finalizer, then permutation k maps it to
a_k * h + b_k mod 2^32 with (a, b) drawn exactly as `datasketch.MinHash(num_perm, seed)` draws them.
A signature therefore loads into `datasketch.MinHash(hashvalues=..., scheme="affine32")` and
`MinHashLSH`. The shingle hash is, by default, `shingle_hash`: a 64-bit polynomial hash of the
shingle's code points, finalised by MurmurHash3's 64-bit mixer, top 32 bits. It is computed for a
whole batch with prefix sums in numpy (no Python loop per shingle), and it is also a plain function,
so datasketch given `hashfunc=shingle_hash` produces identical signatures. `hashfunc="sha1"` uses
datasketch's default hash instead (`sha1_hash32` of the UTF-8 shingle) at the cost of a Python
call per shingle; then signatures equal those of `MinHash(num_perm, seed)` with its defaults.

The permutation step runs as a (num_perm x shingles) matrix in cache-sized blocks. Band keys are a
64-bit hash of each band's `rows` values (equal values, equal key); the Spark job groups by (band
index, key). `exact_hash` is a 64-bit hash of the whole normalised text, for exact duplicates.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pyarrow as pa

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal

Unit = Literal["word", "char"]
HashFunction = Literal["poly64", "sha1"]

DATASKETCH_SEED = 1  # datasketch.MinHash's default seed
MAX_HASH = np.uint32(0xFFFFFFFF)
SPACE = np.uint32(ord(" "))
DELETED = np.uint32(0xFFFFFFFF)  # not a code point: marks punctuation, which normalisation drops
TABLE_CHANGES_BELOW = 0x20000

_MASK64 = (1 << 64) - 1
_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2^64
_BASE_INVERSE = pow(_BASE, -1, 1 << 64)
# Code points normalised and hashed together: small enough for the arrays to stay in cache (~10 MB).
CODEPOINTS_PER_BLOCK = 1 << 18
# Shingles per permutation block: num_perm x 8192 uint32 stays within a few MB of cache.
SHINGLES_PER_BLOCK = 8192


def normalize_char(char: str) -> str:
    """'' for punctuation (Unicode category P*), ' ' for whitespace, else the character's simple lower case
    (the character itself where lower-casing would lengthen it, as for 'İ')."""
    if char.isspace():
        return " "
    if unicodedata.category(char).startswith("P"):
        return ""
    lower = char.lower()
    return lower if len(lower) == 1 else char


def normalize(text: str | None) -> str:
    """The text's words joined by single spaces: what shingles are taken from and exact_hash hashes."""
    return " ".join(text.translate(_translation()).split()) if text else ""


def shingles(text: str | None, ngram: int = 5, unit: Unit = "word") -> list[str]:
    """The shingles of a text, in order, repeats kept (the reference the vectorised path must match)."""
    normalized = normalize(text)
    if not normalized:
        return []
    if unit == "char":
        if len(normalized) <= ngram:
            return [normalized]
        return [normalized[i:i + ngram] for i in range(len(normalized) - ngram + 1)]
    words = normalized.split(" ")
    if len(words) <= ngram:
        return [normalized]
    return [" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)]


def _fmix64_int(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK64
    return value ^ (value >> 33)


def polynomial_hash(text: str) -> int:
    """sum(ord(c_j) * BASE^j) mod 2^64 over the code points of `text`."""
    total, power = 0, 1
    for char in text:
        total = (total + ord(char) * power) & _MASK64
        power = (power * _BASE) & _MASK64
    return total


def shingle_hash(shingle: str) -> int:
    """The default 32-bit shingle hash, as a datasketch `hashfunc` (pass the shingle as str)."""
    return _fmix64_int(polynomial_hash(shingle)) >> 32


def text_hash(text: str | None) -> int | None:
    """The 64-bit hash of a normalised text as `exact_hash` stores it (signed), None when empty."""
    normalized = normalize(text)
    if not normalized:
        return None
    value = _fmix64_int(polynomial_hash(normalized))
    return value - (1 << 64) if value >= 1 << 63 else value


def sha1_shingle_hash(shingle: str) -> int:
    """datasketch's default hash (`sha1_hash32`) of a shingle's UTF-8 bytes (lone surrogates passed through)."""
    return int.from_bytes(hashlib.sha1(shingle.encode("utf-8", "surrogatepass")).digest()[:4], "little")


def permutations(num_perm: int, seed: int = DATASKETCH_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch's affine32 scheme: a odd, both uint32, drawn as MinHash(num_perm, seed) draws them."""
    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def lsh_parameters(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH would choose for `threshold` (equal weights)."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def nominal_threshold(bands: int, rows: int) -> float:
    """(1/bands)^(1/rows): the Jaccard where the LSH candidate curve is steepest."""
    return (1 / bands) ** (1 / rows)


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two documents of this Jaccard share at least one band."""
    return 1 - (1 - jaccard ** rows) ** bands


def datasketch_minhash(signature, seed: int = DATASKETCH_SEED):
    """A `datasketch.MinHash` holding a signature of this module (for MinHashLSH, jaccard, merge)."""
    from datasketch import MinHash

    return MinHash(hashvalues=np.asarray(signature, dtype=np.uint32), seed=seed, scheme="affine32")


# ---------------------------------------------------------------------------------------------
# Vectorised parts (numpy arrays wrap around on overflow, which is the modulo 2^w arithmetic meant)

def fmix32(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def fmix64(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> np.uint64(33))


@cache
def normalization_table() -> np.ndarray:
    """`normalize_char` of every code point as a uint32 code point, DELETED for ''; built once per process.

    From U+20000 on, Unicode has no punctuation, whitespace or cased letter: those map to themselves.
    """
    table = np.arange(0x110000, dtype=np.uint32)
    table[:TABLE_CHANGES_BELOW] = np.fromiter(
        (ord(c) if (c := normalize_char(chr(code))) else DELETED for code in range(TABLE_CHANGES_BELOW)),
        dtype=np.uint32, count=TABLE_CHANGES_BELOW)
    return table


@cache
def _translation() -> dict[int, str]:
    """`normalize_char` as a str.translate table (only the code points it changes)."""
    table = normalization_table()
    changed = np.flatnonzero(table != np.arange(0x110000, dtype=np.uint32))
    return {int(code): "" if table[code] == DELETED else chr(table[code]) for code in changed}


class _Powers:
    """BASE^j and BASE^-j mod 2^64 for j < n, grown on demand and kept between batches."""

    def __init__(self) -> None:
        self.forward = np.ones(1, dtype=np.uint64)
        self.inverse = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.forward) < n:
            size = max(n, 2 * len(self.forward))
            self.forward = np.cumprod(np.full(size, _BASE, dtype=np.uint64)) * np.uint64(_BASE_INVERSE)
            self.inverse = np.cumprod(np.full(size, _BASE_INVERSE, dtype=np.uint64)) * np.uint64(_BASE)
        return self.forward[:n], self.inverse[:n]


@dataclass
class NormalizedBlock:
    """Normalised texts of a block of documents as one code-point array, with word and document bounds."""

    codepoints: np.ndarray  # uint32, documents concatenated without separator
    doc_offsets: np.ndarray  # int64, len docs + 1
    word_starts: np.ndarray  # int64 positions in `codepoints`
    word_ends: np.ndarray  # exclusive
    doc_first_word: np.ndarray  # int64, len docs + 1: words of document d are [first[d], first[d + 1])


def normalize_block(texts: list[str | None]) -> NormalizedBlock:
    """`normalize` for many texts at once, in array operations (a table lookup per code point)."""
    texts = [text or "" for text in texts]
    joined = "".join(texts)
    # A numpy unicode array is UCS-4: its buffer is the code points (5x faster than str.encode("utf-32")).
    raw = np.array([joined]).view(np.uint32) if joined else np.empty(0, dtype=np.uint32)
    mapped = normalization_table().take(raw)
    kept = mapped != DELETED
    deleted = np.flatnonzero(~kept)
    raw_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=raw_offsets[1:])
    if len(deleted):
        raw_offsets -= np.searchsorted(deleted, raw_offsets)
        mapped = np.compress(kept, mapped)
    keep = mapped != SPACE
    before = np.zeros_like(keep)  # the previous code point is alphanumeric and in the same document
    before[1:] = keep[:-1]
    after = np.zeros_like(keep)
    after[:-1] = keep[1:]
    nonempty = raw_offsets[1:] > raw_offsets[:-1]
    before[raw_offsets[:-1][nonempty]] = False
    after[raw_offsets[1:][nonempty] - 1] = False
    raw_starts = np.flatnonzero(keep & ~before)
    lengths = np.flatnonzero(keep & ~after) + 1 - raw_starts

    doc_first_word = np.searchsorted(raw_starts, raw_offsets)
    words_per_doc = np.diff(doc_first_word)
    spaces = np.ones(len(raw_starts), dtype=np.int64)  # one before every word but a document's first
    spaces[doc_first_word[:-1][words_per_doc > 0]] = 0
    word_starts = np.cumsum(lengths + spaces) - lengths
    doc_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    cumulative_lengths = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=cumulative_lengths[1:])
    doc_chars = np.diff(cumulative_lengths[doc_first_word])
    np.cumsum(np.where(words_per_doc > 0, doc_chars + words_per_doc - 1, 0), out=doc_offsets[1:])

    # Alphanumeric code points plus, between two words of a document, the first code point of the gap.
    selected = keep.copy()
    selected[(raw_starts + lengths)[:-1][spaces[1:] == 1]] = True
    codepoints = np.compress(selected, mapped)  # (faster than mapped[selected])
    return NormalizedBlock(codepoints=codepoints, doc_offsets=doc_offsets, word_starts=word_starts,
                           word_ends=word_starts + lengths, doc_first_word=doc_first_word)


def shingle_spans(block: NormalizedBlock, ngram: int, unit: Unit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, count per document) of every shingle in `block.codepoints`, grouped by document in order.

    A document of at most `ngram` units has one shingle, its whole normalised text.
    """
    if unit == "char":
        first, bounds_start, bounds_end = block.doc_offsets, np.arange(len(block.codepoints)), None
    else:
        first, bounds_start, bounds_end = block.doc_first_word, block.word_starts, block.word_ends
    units = np.diff(first)
    counts = np.where(units > 0, np.maximum(units - ngram + 1, 1), 0)
    doc = np.repeat(np.arange(len(units)), counts)
    shingle_first = np.zeros(len(units) + 1, dtype=np.int64)
    np.cumsum(counts, out=shingle_first[1:])
    start_unit = first[doc] + np.arange(len(doc)) - shingle_first[doc]
    last_unit = np.minimum(start_unit + ngram, first[doc + 1]) - 1
    starts = bounds_start[start_unit]
    ends = last_unit + 1 if bounds_end is None else bounds_end[last_unit]
    return starts, ends, counts


def prefix_hashes(codepoints: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """prefix[i] = sum(codepoints[j] * BASE^j for j < i) mod 2^64; `powers` holds BASE^j for j >= len."""
    prefix = np.zeros(len(codepoints) + 1, dtype=np.uint64)
    np.cumsum(codepoints.astype(np.uint64) * powers[:len(codepoints)], out=prefix[1:])
    return prefix


def span_hashes(prefix: np.ndarray, inverse_powers: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """`polynomial_hash` of every span [start, end) of the code points `prefix` was built from."""
    return (prefix[ends] - prefix[starts]) * inverse_powers[starts]


def min_hash(hashes: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(docs, num_perm) uint32: per document, min over its shingle hashes of a*fmix32(h)+b mod 2^32.

    Documents without shingles keep MAX_HASH in every position.
    """
    num_perm = len(a)
    mixed = fmix32(hashes.astype(np.uint32, copy=False))
    result = np.full((len(counts), num_perm), MAX_HASH, dtype=np.uint32)
    ends = np.cumsum(counts)
    nonempty = np.flatnonzero(counts)
    doc_starts, doc_ends = (ends - counts)[nonempty], ends[nonempty]
    buffer = np.empty(num_perm * SHINGLES_PER_BLOCK, dtype=np.uint32)
    column_a, column_b = a[:, None], b[:, None]

    def permuted(first: int, last: int) -> np.ndarray:
        block = buffer[:num_perm * (last - first)].reshape(num_perm, last - first)
        np.multiply(column_a, mixed[None, first:last], out=block)
        block += column_b
        return block

    i = 0
    while i < len(nonempty):
        first = doc_starts[i]
        j = max(i + 1, int(np.searchsorted(doc_ends, first + SHINGLES_PER_BLOCK, side="right")))
        last = doc_ends[j - 1]
        if last - first > SHINGLES_PER_BLOCK:  # one long document, in several blocks
            lowest = result[nonempty[i]]
            for start in range(first, last, SHINGLES_PER_BLOCK):
                np.minimum(lowest, permuted(start, min(start + SHINGLES_PER_BLOCK, last)).min(axis=1), out=lowest)
        else:
            result[nonempty[i:j]] = np.minimum.reduceat(permuted(first, last), doc_starts[i:j] - first, axis=1).T
        i = j
    return result


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(docs, bands) uint64: a hash of each band's `rows` values; equal bands give equal keys."""
    values = signatures[:, :bands * rows].reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = np.zeros((len(signatures), bands), dtype=np.uint64)
    for row in range(rows):
        keys = keys * np.uint64(_BASE) + values[:, :, row] + np.uint64(1)
    return fmix64(keys)


@dataclass
class Signatures:
    values: np.ndarray  # (docs, num_perm) uint32
    has_shingles: np.ndarray  # bool per document
    exact: np.ndarray  # uint64 hash of the normalised text (meaningless where the text is empty)


class MinHasher:
    """Signatures, band keys and exact hashes for batches of texts, with fixed parameters."""

    def __init__(self, num_perm: int = 112, bands: int = 14, rows: int = 8, ngram: int = 5, unit: Unit = "word",
                 seed: int = DATASKETCH_SEED, hashfunc: HashFunction = "poly64"):
        if bands * rows > num_perm:
            raise ValueError(f"bands x rows = {bands * rows} needs at least that many permutations, not {num_perm}")
        if ngram < 1 or unit not in ("word", "char") or hashfunc not in ("poly64", "sha1"):
            raise ValueError(f"ngram >= 1, unit word|char, hashfunc poly64|sha1; got {ngram}, {unit}, {hashfunc}")
        self.num_perm, self.bands, self.rows, self.ngram, self.unit = num_perm, bands, rows, ngram, unit
        self.seed, self.hashfunc = seed, hashfunc
        self.a, self.b = permutations(num_perm, seed)
        self._powers = _Powers()

    def signatures(self, texts: list[str | None]) -> Signatures:
        values, has_shingles, exact = [], [], []
        for first, last in self._blocks(texts):
            block = normalize_block(texts[first:last])
            starts, ends, counts = shingle_spans(block, self.ngram, self.unit)
            powers, inverse_powers = self._powers.upto(len(block.codepoints) + 1)
            prefix = prefix_hashes(block.codepoints, powers)
            if self.hashfunc == "sha1":
                text = block.codepoints.tobytes().decode("utf-32-le", "surrogatepass")
                hashes = np.fromiter((sha1_shingle_hash(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist(),
                                                                                  strict=True)),
                                     dtype=np.uint32, count=len(starts))
            else:
                hashes = (fmix64(span_hashes(prefix, inverse_powers, starts, ends)) >> np.uint64(32)).astype(np.uint32)
            values.append(min_hash(hashes, counts, self.a, self.b))
            has_shingles.append(counts > 0)
            exact.append(fmix64(span_hashes(prefix, inverse_powers, block.doc_offsets[:-1], block.doc_offsets[1:])))
        if not values:
            return Signatures(np.empty((0, self.num_perm), np.uint32), np.empty(0, bool), np.empty(0, np.uint64))
        return Signatures(np.concatenate(values), np.concatenate(has_shingles), np.concatenate(exact))

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        return band_keys(signatures, self.bands, self.rows)

    @staticmethod
    def _blocks(texts: list[str | None]):
        """[first, last) ranges of documents holding about CODEPOINTS_PER_BLOCK code points (at least one doc)."""
        first, size = 0, 0
        for index, text in enumerate(texts):
            size += len(text) if text else 0
            if size >= CODEPOINTS_PER_BLOCK:
                yield first, index + 1
                first, size = index + 1, 0
        if first < len(texts):
            yield first, len(texts)


class MinHashAnnotator(DeclaredAnnotator):
    """Writes minhash_signature, minhash_bands and exact_hash (NULL for a text with nothing to shingle).

    `threshold`, when given, replaces bands x rows by datasketch's optimal choice for it.
    """

    name = "minhash"

    def __init__(self, num_perm: int = 112, bands: int = 14, rows: int = 8, ngram: int = 5,
                 threshold: float | None = None, unit: Unit = "word", seed: int = DATASKETCH_SEED,
                 hashfunc: HashFunction = "poly64"):
        super().__init__(num_perm=num_perm, bands=bands, rows=rows, ngram=ngram, threshold=threshold, unit=unit,
                         seed=seed, hashfunc=hashfunc)
        if threshold is not None:
            bands, rows = lsh_parameters(threshold, num_perm)
        self.hasher = MinHasher(num_perm=num_perm, bands=bands, rows=rows, ngram=ngram, unit=unit, seed=seed,
                                hashfunc=hashfunc)

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("minhash_signature", "data", "MinHash values", pa.list_(pa.int64())),
                Signal("minhash_bands", "data", "one LSH key per band", pa.list_(pa.int64())),
                Signal("exact_hash", "data", "64-bit hash of the normalised text", pa.int64()))

    def annotate(self, batch: Batch) -> dict[str, list]:
        result = self.hasher.signatures(batch["text"])
        keys = self.hasher.band_keys(result.values).view(np.int64)
        present = result.has_shingles.tolist()
        signatures = result.values.astype(np.int64).tolist()
        return {"minhash_signature": [s if p else None for s, p in zip(signatures, present, strict=True)],
                "minhash_bands": [k if p else None for k, p in zip(keys.tolist(), present, strict=True)],
                "exact_hash": [e if p else None for e, p in zip(result.exact.view(np.int64).tolist(), present,
                                                                strict=True)]}
