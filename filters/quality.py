"""Quality signals of the published heuristic filters: Gopher quality, Gopher repetition, FineWeb, C4.

Each annotator returns the VALUES its rules compare against thresholds (word counts, fractions,
flags), never a keep/drop decision: thresholds live in recipes and filters/registry.py. Definitions
follow the reference implementations (datatrove for Gopher and FineWeb, TFDS c4_utils for C4);
where cc-sieve departs from datatrove on purpose the docstring of the signal says so.

A signal that cannot be measured (a fraction of characters of an empty text, the mean length of
zero words) is None; filters/registry.py says per rule whether None removes the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal
from cc_sieve.filters.lexicons import DEFAULT_LEXICON, BadWordsMatcher
from cc_sieve.filters.text import (
    TERMINAL_PUNCTUATION,
    Memo,
    batch_tokens,
    count_sentences,
    per_batch,
    spacy_rules,
    tokenize,
    words_of,
)

# ---------------------------------------------------------------------------------------------
# Gopher quality (Rae et al. 2021, appendix A.1.1)

GOPHER_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
GOPHER_BULLETS = ("•", "-")


def gopher_quality_signals(text: str, tokens: list[str], stop_words: frozenset[str],
                           bullets: tuple[str, ...] = GOPHER_BULLETS) -> dict:
    """Word count, mean word length, symbol ratios, bullet/ellipsis lines, alphabetic words, stop words.

    "Words" are tokens holding a letter or digit: punctuation and symbol tokens are not words
    (datatrove counts symbols such as "•" or "€" as words). Symbol ratios divide by all tokens, as
    datatrove does. The alphabetic
    ratio is taken over words, as published ("80% of words contain at least one alphabetic
    character"); datatrove divides by all tokens, punctuation included, and so removes far more:
    gopher_alpha_tokens_ratio is that number, for recipes that reproduce datatrove (FineWeb).
    """
    words = words_of(tokens)
    n_tokens, n_words = len(tokens), len(words)
    alpha_words = sum(1 for w in words if w.isalpha() or any(map(str.isalpha, w)))
    lines = text.splitlines()
    stripped_left = [line.lstrip() for line in lines]
    stripped_right = [line.rstrip() for line in lines]
    return {
        "gopher_word_count": n_words,
        "gopher_mean_word_length": sum(map(len, words)) / n_words if n_words else None,
        "gopher_hash_ratio": text.count("#") / n_tokens if n_tokens else None,
        "gopher_ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens if n_tokens else None,
        "gopher_bullet_lines_ratio":
            sum(1 for line in stripped_left if line.startswith(bullets)) / len(lines) if lines else None,
        "gopher_ellipsis_lines_ratio":
            sum(1 for line in stripped_right if line.endswith(("...", "…"))) / len(lines) if lines else None,
        "gopher_alpha_words_ratio": alpha_words / n_words if n_words else None,
        "gopher_alpha_tokens_ratio": alpha_words / n_tokens if n_tokens else None,
        "gopher_stop_words": len(stop_words.intersection(tokens)),
    }


GOPHER_QUALITY_SIGNALS = (
    Signal("gopher_word_count", "count", "words: tokens holding a letter or a digit"),
    Signal("gopher_mean_word_length", "ratio", "mean characters per word"),
    Signal("gopher_hash_ratio", "ratio", "'#' per token"),
    Signal("gopher_ellipsis_ratio", "ratio", "'...' and '…' per token"),
    Signal("gopher_bullet_lines_ratio", "fraction", "lines starting with a bullet"),
    Signal("gopher_ellipsis_lines_ratio", "fraction", "lines ending in an ellipsis"),
    Signal("gopher_alpha_words_ratio", "fraction", "words holding a letter, among words"),
    Signal("gopher_alpha_tokens_ratio", "fraction", "words holding a letter, among all tokens"),
    Signal("gopher_stop_words", "count", "distinct Gopher stop words present"),
)


class GopherQuality(DeclaredAnnotator):
    """Gopher's quality signals. Stop words match case-sensitively, as in datatrove (the paper is silent)."""

    name = "gopher_quality"

    def __init__(self, stop_words: Sequence[str] = GOPHER_STOP_WORDS,
                 bullets: Sequence[str] = GOPHER_BULLETS):
        super().__init__(stop_words=stop_words, bullets=bullets)
        self.stop_words = frozenset(stop_words)
        self.bullets = tuple(bullets)
        spacy_rules()  # loaded with the annotator, not inside the first batch

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return GOPHER_QUALITY_SIGNALS

    def annotate(self, batch: Batch) -> dict[str, list]:
        rows = [gopher_quality_signals(text or "", tokens, self.stop_words, self.bullets)
                for text, tokens in zip(batch["text"], batch_tokens(batch), strict=True)]
        return columns(rows, self.schema())


# ---------------------------------------------------------------------------------------------
# Gopher repetition (Rae et al. 2021, table A1)

GOPHER_TOP_NGRAMS = (2, 3, 4)
GOPHER_DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAKS = re.compile(r"\n+")
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items that repeat an earlier one, their total characters)."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def ngram_keys(token_keys: np.ndarray, n: int) -> np.ndarray:
    """One 64-bit key per n-gram (a polynomial hash of the token keys; equal n-grams, equal keys)."""
    count = len(token_keys) - n + 1
    keys = np.zeros(count, dtype=np.uint64)
    for offset in range(n):
        keys = keys * _HASH_MULTIPLIER + token_keys[offset:offset + count]
    return keys


def top_ngram_chars(keys: np.ndarray, char_starts: np.ndarray, n: int) -> tuple[int, bool]:
    """(characters of the most frequent n-gram times its count, whether any n-gram repeats).

    Characters count the n-gram joined with spaces, as datatrove does; among equally frequent
    n-grams the one seen first wins, as `Counter.most_common` picks it.
    """
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    best = int(counts.max())
    position = int(first[counts == best].min())
    return int(char_starts[position + n] - char_starts[position] + n - 1) * best, best > 1


def duplicate_ngram_chars(keys: np.ndarray, char_starts: np.ndarray, n: int) -> tuple[int, bool]:
    """(characters of n-grams that repeat an earlier one, whether any n-gram repeats).

    datatrove's scan: walk the n-grams; a repeat adds its characters (tokens without spaces) and
    jumps n positions ahead (so overlapping repeats are not counted twice), anything else is
    remembered. Only positions whose n-gram occurred before can be repeats, so the Python loop
    visits those and remembers the stretches between them in one set update.
    """
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return 0, False
    _, first = np.unique(keys, return_index=True)
    is_first = np.zeros(len(keys), dtype=bool)
    is_first[first] = True
    candidates = np.flatnonzero(~is_first).tolist()
    key_list = keys.tolist()
    seen: set[int] = set()
    repeated = index = 0
    for position in candidates:
        if position < index:
            continue  # inside the jump after a repeat: never looked at
        seen.update(key_list[index:position])
        if key_list[position] in seen:
            repeated += int(char_starts[position + n] - char_starts[position])
            index = position + n
        else:
            seen.add(key_list[position])
            index = position + 1
    return repeated, True


def gopher_repetition_signals(text: str, tokens: list[str], top_ngrams: Sequence[int] = GOPHER_TOP_NGRAMS,
                              dup_ngrams: Sequence[int] = GOPHER_DUP_NGRAMS) -> dict:
    """Duplicate line/paragraph fractions, top n-gram and duplicate n-gram character fractions.

    Character fractions divide by len(text). N-grams run over all tokens, punctuation included,
    as datatrove does; a duplicate n-gram's characters are its tokens' characters without spaces.
    """
    length = len(text)
    if not length:
        return dict.fromkeys(repetition_columns(top_ngrams, dup_ngrams))
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    dup_paragraphs, dup_paragraph_chars = duplicates(paragraphs)
    lines = _LINE_BREAKS.split(text)
    dup_lines, dup_line_chars = duplicates(lines)
    signals = {"gopher_dup_para_frac": dup_paragraphs / len(paragraphs),
               "gopher_dup_para_char_frac": dup_paragraph_chars / length,
               "gopher_dup_line_frac": dup_lines / len(lines),
               "gopher_dup_line_char_frac": dup_line_chars / length}

    # Token keys: Python's string hash (cached on the token strings; 64 bits, collisions negligible).
    token_keys = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(np.uint64)
    char_starts = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)), out=char_starts[1:])
    # If no n-gram repeats, no longer one does either: the rest is then known without sorting.
    repeats = True
    for n in sorted(top_ngrams):
        if len(tokens) < n:
            chars = 0
        elif repeats:
            chars, repeats = top_ngram_chars(ngram_keys(token_keys, n), char_starts, n)
        else:
            chars = int(char_starts[n] + n - 1)  # every n-gram occurs once: the first one
        signals[f"gopher_top_{n}gram_char_frac"] = chars / length
    repeats = True
    for n in sorted(dup_ngrams):
        chars = 0
        if repeats and len(tokens) >= n:
            chars, repeats = duplicate_ngram_chars(ngram_keys(token_keys, n), char_starts, n)
        signals[f"gopher_dup_{n}gram_char_frac"] = chars / length
    return signals


def repetition_columns(top_ngrams: Sequence[int], dup_ngrams: Sequence[int]) -> list[str]:
    return (["gopher_dup_para_frac", "gopher_dup_para_char_frac", "gopher_dup_line_frac",
             "gopher_dup_line_char_frac"]
            + [f"gopher_top_{n}gram_char_frac" for n in top_ngrams]
            + [f"gopher_dup_{n}gram_char_frac" for n in dup_ngrams])


class GopherRepetition(DeclaredAnnotator):
    """Gopher's repetition signals: shares of duplicated lines and paragraphs, and of characters in the
    most frequent and in duplicated n-grams."""

    name = "gopher_repetition"

    def __init__(self, top_ngrams: Sequence[int] = GOPHER_TOP_NGRAMS,
                 dup_ngrams: Sequence[int] = GOPHER_DUP_NGRAMS):
        super().__init__(top_ngrams=top_ngrams, dup_ngrams=dup_ngrams)
        self.top_ngrams = tuple(top_ngrams)
        self.dup_ngrams = tuple(dup_ngrams)
        spacy_rules()

    @classmethod
    def signals(cls, top_ngrams: Sequence[int] = GOPHER_TOP_NGRAMS, dup_ngrams: Sequence[int] = GOPHER_DUP_NGRAMS,
                **config) -> tuple[Signal, ...]:
        return tuple(Signal(name, "fraction") for name in repetition_columns(top_ngrams, dup_ngrams))

    def annotate(self, batch: Batch) -> dict[str, list]:
        rows = [gopher_repetition_signals(text or "", tokens, self.top_ngrams, self.dup_ngrams)
                for text, tokens in zip(batch["text"], batch_tokens(batch), strict=True)]
        return columns(rows, self.schema())


# ---------------------------------------------------------------------------------------------
# FineWeb (Penedo et al. 2024; datatrove FineWebQualityFilter)

FINEWEB_SHORT_LINE_CHARS = 30


def fineweb_signals(text: str, n_tokens: int, short_line_chars: int = FINEWEB_SHORT_LINE_CHARS) -> dict:
    """Line-punctuation ratio, short-line ratio, duplicated-line characters, newlines per token.

    Lines are the non-blank lines of text.split("\\n"), unstripped: a line ending in ". " does not
    end in punctuation (as in datatrove). Words for the newline ratio are all tokens.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return {name: None for name in FINEWEB_COLUMNS}
    _, dup_chars = duplicates(lines)
    chars_without_newlines = len(text) - text.count("\n")
    return {
        "fineweb_line_punct_ratio": sum(1 for line in lines if line[-1] in TERMINAL_PUNCTUATION) / len(lines),
        "fineweb_short_line_ratio": sum(1 for line in lines if len(line) <= short_line_chars) / len(lines),
        "fineweb_char_dup_ratio": dup_chars / chars_without_newlines,
        "fineweb_newline_ratio": text.count("\n") / n_tokens if n_tokens else None,
    }


FINEWEB_COLUMNS = ["fineweb_line_punct_ratio", "fineweb_short_line_ratio", "fineweb_char_dup_ratio",
                   "fineweb_newline_ratio"]


FINEWEB_DOMAINS = {"fineweb_line_punct_ratio": "fraction", "fineweb_short_line_ratio": "fraction",
                   "fineweb_char_dup_ratio": "fraction", "fineweb_newline_ratio": "ratio"}


def fineweb_column(name: str, after_c4: bool) -> str:
    return ("fineweb_c4_" if after_c4 else "fineweb_") + name.removeprefix("fineweb_")


class FineWebQuality(DeclaredAnnotator):
    """FineWeb's four signals. With after_c4=True they are measured on the text left by C4's line
    cleaning in FineWeb's variant, as FineWeb's pipeline ran them (C4QualityFilter rewrites the
    text before FineWebQualityFilter sees it); those columns are named fineweb_c4_*."""

    def __init__(self, short_line_chars: int = FINEWEB_SHORT_LINE_CHARS, after_c4: bool = False):
        super().__init__(short_line_chars=short_line_chars, after_c4=after_c4)
        self.short_line_chars = short_line_chars
        self.after_c4 = after_c4
        spacy_rules()
        self.name = "fineweb_quality_after_c4" if after_c4 else "fineweb_quality"

    @classmethod
    def signals(cls, after_c4: bool = False, **config) -> tuple[Signal, ...]:
        return tuple(Signal(fineweb_column(name, after_c4), FINEWEB_DOMAINS[name]) for name in FINEWEB_COLUMNS)

    def column(self, name: str) -> str:
        return fineweb_column(name, self.after_c4)

    def annotate(self, batch: Batch) -> dict[str, list]:
        if self.after_c4:
            cleaning = batch_c4(batch, "fineweb")
            texts, counts = [cleaned for cleaned, _ in cleaning], [stats.tokens for _, stats in cleaning]
        else:
            texts, counts = [text or "" for text in batch["text"]], list(map(len, batch_tokens(batch)))
        rows = [fineweb_signals(text, n_tokens, self.short_line_chars)
                for text, n_tokens in zip(texts, counts, strict=True)]
        return {self.column(name): [row[name] for row in rows] for name in FINEWEB_COLUMNS}


# ---------------------------------------------------------------------------------------------
# C4 (Raffel et al. 2020; TFDS c4_utils.clean_page, datatrove C4QualityFilter)

CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                     "use cookies")


@dataclass(frozen=True)
class C4Params:
    """Line-level parameters of C4's cleaning; they differ between implementations (C4_VARIANTS)."""

    min_words_per_line: int = 5
    end_marks: tuple[str, ...] = (".", "?", "!", '"')
    filter_no_terminal_punct: bool = True
    count_words_after_citations: bool = True  # TFDS counts words after removing [1]; datatrove before
    max_word_length: int = 1000
    remove_citations: bool = True
    filter_javascript: bool = True
    filter_policy: bool = True


C4_VARIANTS: dict[str, C4Params] = {
    # TFDS c4_utils.clean_page, the code that built C4: 5 words a line, end marks . ? ! "
    "tfds": C4Params(),
    # datatrove C4QualityFilter defaults: 3 words a line, also ' as an end mark
    "datatrove": C4Params(min_words_per_line=3, end_marks=(".", "?", "!", '"', "'"),
                          count_words_after_citations=False),
    # what FineWeb ran: datatrove's filter with filter_no_terminal_punct=False
    "fineweb": C4Params(min_words_per_line=3, end_marks=(".", "?", "!", '"', "'"),
                        filter_no_terminal_punct=False, count_words_after_citations=False),
}


@dataclass
class C4Stats:
    """Page-level signals of one cleaning pass (on the kept lines)."""

    sentences: int = 0
    lorem_ipsum: bool = False
    curly_bracket: bool = False
    lines_kept: int = 0
    lines_removed: int = 0
    chars: int = 0
    words: int = 0
    tokens: int = 0  # `tokenize` of the cleaned text: the tokens of its lines


class LineCounts(NamedTuple):
    sentences: int
    tokens: int


def line_counts(line: str) -> LineCounts:
    tokens = tokenize(line)
    return LineCounts(count_sentences(tokens), len(tokens))


def c4_clean(text: str, params: C4Params = C4_VARIANTS["tfds"],
             counts: Callable[[str], LineCounts] = line_counts) -> tuple[str, C4Stats]:
    """C4's line filter as a transform: (cleaned text, page signals measured on the kept lines).

    Line by line, in TFDS's order: drop lines with a word over max_word_length characters, remove
    citation markers, drop lines without a terminal mark (or ending in "..."), with too few words,
    mentioning javascript, or naming a cookie/privacy/terms policy. "lorem ipsum" and "{" are page
    signals, seen only on lines that passed the checks before them (exactly where TFDS looks: a
    "{" on a javascript line does not count). Sentences and tokens are counted on kept lines, by `counts`
    (`line_counts`, or a memo of it that the variants of one batch share).
    """
    stats = C4Stats()
    kept: list[str] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        words = line.split()
        if len(line) > params.max_word_length and max(map(len, words)) > params.max_word_length:
            stats.lines_removed += 1
            continue
        if params.remove_citations and "[" in line:
            line = CITATION.sub("", line)
            if params.count_words_after_citations:
                words = line.split()
        if params.filter_no_terminal_punct and (not line.endswith(params.end_marks) or line.endswith("...")):
            stats.lines_removed += 1
            continue
        if len(words) < params.min_words_per_line:
            stats.lines_removed += 1
            continue
        lower = line.lower()
        if "lorem ipsum" in lower:
            stats.lorem_ipsum = True
        if params.filter_javascript and "javascript" in lower:
            stats.lines_removed += 1
            continue
        if "{" in line:
            stats.curly_bracket = True
        if params.filter_policy and any(policy in lower for policy in POLICY_SUBSTRINGS):
            stats.lines_removed += 1
            continue
        line_sentences, line_tokens = counts(line)
        stats.sentences += line_sentences
        stats.tokens += line_tokens
        kept.append(line)
    cleaned = "\n".join(kept).strip()
    stats.lines_kept = len(kept)
    stats.chars = len(cleaned)
    stats.words = len(cleaned.split())
    return cleaned, stats


C4_SIGNALS = (("sentences", "count"), ("lorem_ipsum", "flag"), ("curly_bracket", "flag"), ("badwords", "flag"),
              ("lines_kept", "count"), ("lines_removed", "count"), ("chars", "count"), ("words", "count"))


def batch_c4(batch: Batch, variant: str) -> list[tuple[str, C4Stats]]:
    """`c4_clean` of every text of a batch in one variant, once per batch (cc_sieve.filters.text.per_batch),
    so that C4Quality and FineWebQuality(after_c4=True) share it. The sentences and tokens of a kept line are
    counted once per batch: the variants keep mostly the same lines (the default preset runs two)."""
    params = C4_VARIANTS[variant]
    counts = per_batch(batch, "_c4_line_counts", lambda texts: Memo(line_counts)).__getitem__
    return per_batch(batch, f"_c4_{variant}", lambda texts: [c4_clean(text or "", params, counts) for text in texts])


class C4Quality(DeclaredAnnotator):
    """C4's cleaning and page signals for each requested variant ("tfds", "datatrove", "fineweb").

    Columns per variant v: c4_v_sentences, c4_v_lorem_ipsum, c4_v_curly_bracket, c4_v_badwords
    (LDNOOBW in `badwords_language`, matched on the cleaned text as C4 did after cleaning),
    c4_v_lines_kept, c4_v_lines_removed, and c4_v_chars / c4_v_words of the cleaned text.
    """

    name = "c4_quality"

    def __init__(self, variants: Sequence[str] = ("tfds",), badwords_language: str = "en",
                 badwords_lexicon: str = DEFAULT_LEXICON):
        super().__init__(variants=variants, badwords_language=badwords_language, badwords_lexicon=badwords_lexicon)
        unknown = [v for v in variants if v not in C4_VARIANTS]
        if unknown:
            raise ValueError(f"unknown C4 variant(s) {unknown}; known: {sorted(C4_VARIANTS)}")
        self.variants = tuple(variants)
        self.badwords = BadWordsMatcher.load(badwords_lexicon, badwords_language)
        spacy_rules()

    @classmethod
    def signals(cls, variants: Sequence[str] = ("tfds",), **config) -> tuple[Signal, ...]:
        return tuple(Signal(f"c4_{variant}_{name}", domain) for variant in variants for name, domain in C4_SIGNALS)

    def annotate(self, batch: Batch) -> dict[str, list]:
        out: dict[str, list] = {}
        for variant in self.variants:
            results = batch_c4(batch, variant)
            for name, _ in C4_SIGNALS:
                if name == "badwords":
                    out[f"c4_{variant}_badwords"] = [self.badwords.search(cleaned) for cleaned, _ in results]
                else:
                    out[f"c4_{variant}_{name}"] = [getattr(stats, name) for _, stats in results]
        return out


def columns(rows: list[dict], schema: list[pa.Field]) -> dict[str, list]:
    return {f.name: [row[f.name] for row in rows] for f in schema}
