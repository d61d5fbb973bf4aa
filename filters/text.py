"""Tokenisation shared by the quality rules: words and sentences as the reference implementation counts them.

The published rules (Gopher, C4, FineWeb) count "words" and "sentences" without fixing a
tokenizer. datatrove, which FineWeb ran, uses spaCy's English tokenizer (`spacy.blank("en")`) and
sentencizer; TFDS's C4 used NLTK punkt for sentences. Running spaCy's tokenizer costs most of a
datatrove filter's time (it builds a Doc with a lexeme per token), so `tokenize` applies spaCy's own
English rules (prefix, suffix and infix patterns, special cases, URL match, read from the installed
spaCy) in plain Python and remembers each whitespace-separated chunk: the tokens are spaCy's, the
work per document is a str.split and dictionary lookups. tests/test_parity_datatrove.py compares
the tokens with datatrove's on real documents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache
from itertools import chain, compress, pairwise
from typing import Any

# Characters that end a line for FineWeb: Unicode's Sentence_Terminal property, exactly the 159
# characters datatrove uses as `stop_chars` (tests/test_parity_datatrove.py compares the sets).
_SENTENCE_TERMINAL_RANGES = (
    0x21, 0x2E, 0x3F, 0x589, (0x61D, 0x61F), 0x6D4, (0x700, 0x702), 0x7F9, 0x837, 0x839, (0x83D, 0x83E),
    (0x964, 0x965), (0x104A, 0x104B), 0x1362, (0x1367, 0x1368), 0x166E, (0x1735, 0x1736), (0x17D4, 0x17D6),
    (0x17D9, 0x17DA), 0x1803, 0x1809, (0x1944, 0x1945), (0x1AA8, 0x1AAB), (0x1B5A, 0x1B5B),
    (0x1B5E, 0x1B5F), (0x1B7D, 0x1B7E), (0x1C3B, 0x1C3C), (0x1C7E, 0x1C7F), (0x203C, 0x203D),
    (0x2047, 0x2049), 0x2E2E, 0x2E3C, (0x2E53, 0x2E54), 0x3002, 0xA4FF, (0xA60E, 0xA60F), 0xA6F3, 0xA6F7,
    (0xA876, 0xA877), (0xA8CE, 0xA8CF), 0xA92F, (0xA9C8, 0xA9C9), (0xAA5D, 0xAA5F), (0xAAF0, 0xAAF1),
    0xABEB, 0xFE52, (0xFE56, 0xFE57), 0xFF01, 0xFF0E, 0xFF1F, 0xFF61, (0x10A56, 0x10A57),
    (0x10F55, 0x10F59), (0x10F86, 0x10F89), (0x11047, 0x11048), (0x110BE, 0x110C1), (0x11141, 0x11143),
    (0x111C5, 0x111C6), 0x111CD, (0x111DE, 0x111DF), (0x11238, 0x11239), (0x1123B, 0x1123C), 0x112A9,
    (0x1144B, 0x1144C), (0x115C2, 0x115C3), (0x115C9, 0x115D7), (0x11641, 0x11642), (0x1173C, 0x1173E),
    0x11944, 0x11946, (0x11A42, 0x11A43), (0x11A9B, 0x11A9C), (0x11C41, 0x11C42), (0x11EF7, 0x11EF8),
    (0x11F43, 0x11F44), (0x16A6E, 0x16A6F), 0x16AF5, (0x16B37, 0x16B38), 0x16B44, 0x16E98, 0x1BC9F, 0x1DA88,
)


def _expand(ranges) -> frozenset[str]:
    chars = set()
    for item in ranges:
        first, last = item if isinstance(item, tuple) else (item, item)
        chars.update(chr(code) for code in range(first, last + 1))
    return frozenset(chars)


TERMINAL_PUNCTUATION: frozenset[str] = _expand(_SENTENCE_TERMINAL_RANGES)

# Suffix matches are a few characters long and look back at most two ("km²", "'s", "°C."): suffix()
# searches the last _SUFFIX_WINDOW characters and searches again if a match starts near the cut.
_SUFFIX_WINDOW = 16
_SUFFIX_LOOKBEHIND = 4
# Marks spaCy's English suffix rules always split off a word ("." only after a lower-case letter).
_ALWAYS_SUFFIXES = frozenset(',;:!?)"')


class SpacyEnglishRules:
    """spaCy's English tokenizer rules, read once from the installed spaCy's language data, applied
    as spaCy's Tokenizer applies them (_split_affixes, then _attach_tokens) to one chunk at a time."""

    def __init__(self):
        from spacy.lang.en import English
        from spacy.pipeline import Sentencizer
        from spacy.symbols import ORTH
        from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

        defaults = English.Defaults
        # every prefix alternative is anchored at ^, so match() finds what search() would
        self.prefix = compile_prefix_regex(defaults.prefixes).match
        self._suffix = compile_suffix_regex(defaults.suffixes).search
        self.infixes = compile_infix_regex(defaults.infixes).finditer
        self.url = defaults.url_match
        self.sentence_ends = frozenset(Sentencizer.default_punct_chars)
        self.specials = {text: tuple(piece[ORTH] for piece in pieces)
                         for text, pieces in defaults.tokenizer_exceptions.items()}
        # Special cases that affix splitting cuts ("Co." -> "Co", "."): spaCy's special-case matcher
        # joins them again afterwards, so a chunk "(Co.)" gives "(", "Co.", ")".
        self.rejoin: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for text, pieces in self.specials.items():
            if not any(char.isspace() for char in text):
                split = self.split(text, with_specials=False)
                if len(split) > 1:
                    self.rejoin.setdefault(split[0], []).append((split, pieces))
        for candidates in self.rejoin.values():
            candidates.sort(key=lambda candidate: -len(candidate[0]))
        self.rejoin_starts = {pattern[:2] for candidates in self.rejoin.values() for pattern, _ in candidates}

    def suffix(self, string: str) -> re.Match | None:
        if len(string) <= _SUFFIX_WINDOW:
            return self._suffix(string)
        cut = len(string) - _SUFFIX_WINDOW
        match = self._suffix(string, cut)
        if match is not None and match.start() - cut < _SUFFIX_LOOKBEHIND:
            return self._suffix(string)
        return match

    def split(self, chunk: str, with_specials: bool = True) -> tuple[str, ...]:
        """One whitespace-free chunk -> its tokens."""
        specials = self.specials if with_specials else {}
        if chunk in specials:
            return specials[chunk]
        if chunk.isalpha():  # no prefix, suffix or infix rule applies to letters alone
            return (chunk,)
        head, last = chunk[:-1], chunk[-1]
        if head.isalpha() and (last in _ALWAYS_SUFFIXES or (last == "." and "a" <= head[-1] <= "z")):
            # the commonest other chunk, "word," or "word.": the affix loop's answer, directly
            return self.finish([*specials.get(head, (head,)), last], with_specials)
        prefixes, middle, suffixes = self.split_affixes(chunk, specials)
        return self.finish(prefixes + self.attach(middle, specials) + suffixes[::-1], with_specials)

    def split_affixes(self, string: str, specials: dict) -> tuple[list[str], str, list[str]]:
        """spaCy's Tokenizer._split_affixes: peel prefixes and suffixes until none applies or what
        is left is a special case."""
        prefixes: list[str] = []
        suffixes: list[str] = []
        last_size = -1
        while string and len(string) != last_size and string not in specials:
            last_size = len(string)
            match = self.prefix(string)
            pre_len = match.end() - match.start() if match else 0
            if pre_len:
                prefix, minus_pre = string[:pre_len], string[pre_len:]
                if minus_pre and minus_pre in specials:
                    prefixes.append(prefix)
                    return prefixes, minus_pre, suffixes
            match = self.suffix(string[pre_len:])
            suf_len = match.end() - match.start() if match else 0
            if suf_len:
                suffix, minus_suf = string[-suf_len:], string[:-suf_len]
                if minus_suf and minus_suf in specials:
                    suffixes.append(suffix)
                    return prefixes, minus_suf, suffixes
            if pre_len and suf_len and pre_len + suf_len <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        return prefixes, string, suffixes

    def attach(self, string: str, specials: dict) -> list[str]:
        """spaCy's Tokenizer._attach_tokens for what the affixes left: a special case, a URL, or
        pieces cut at the infixes (hyphens between letters, "a.B", "x/y" ...)."""
        if not string:
            return []
        if string in specials:
            return list(specials[string])
        if string.isalnum():  # every infix rule needs a mark, every URL a "." or ":"
            return [string]
        if self.url(string):
            return [string]
        tokens, start = [], 0
        for match in self.infixes(string):
            infix_start, infix_end = match.start(), match.end()
            if infix_start == 0:
                continue
            if infix_start != start:
                tokens.append(string[start:infix_start])
            if infix_start != infix_end:
                tokens.append(string[infix_start:infix_end])
            start = infix_end
        if string[start:]:
            tokens.append(string[start:])
        return tokens

    def finish(self, tokens: list[str], with_specials: bool) -> tuple[str, ...]:
        if with_specials and len(tokens) > 1 and not self.rejoin_starts.isdisjoint(pairwise(tokens)):
            tokens = self.rejoin_specials(tokens)
        return tuple(tokens)

    def rejoin_specials(self, tokens: list[str]) -> list[str]:
        """Join consecutive tokens that spell a special case (longest first), as spaCy's matcher does."""
        out: list[str] = []
        index = 0
        while index < len(tokens):
            for pattern, pieces in self.rejoin.get(tokens[index], ()):
                if tuple(tokens[index:index + len(pattern)]) == pattern:
                    out.extend(pieces)
                    index += len(pattern)
                    break
            else:
                out.append(tokens[index])
                index += 1
        return out


@cache
def spacy_rules() -> SpacyEnglishRules:
    """The rules, built on first use in this process (spaCy's language data loads in about a second)."""
    return SpacyEnglishRules()


class Memo(dict):
    """A dictionary that computes a missing value with `compute` and forgets everything once it holds
    `limit` entries: bounded memory, and enough for the Zipfian reuse of words across documents."""

    def __init__(self, compute: Callable[[Any], Any], limit: int = 1 << 18):
        super().__init__()
        self.compute = compute
        self.limit = limit

    def __missing__(self, key):
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.compute(key)
        return value


_CHUNK_TOKENS = Memo(lambda chunk: spacy_rules().split(chunk))
# A whitespace-free run longer than this is one token: spaCy's affix rules peel one mark at a time, which is
# quadratic in the run's length (320,000 "(" took spaCy's tokenizer 51 s); no word of any language is this long.
LONG_RUN_CHARS = 4000


def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """The tokens of one whitespace-free chunk; a chunk over LONG_RUN_CHARS is one token (and not remembered)."""
    return (chunk,) if len(chunk) > LONG_RUN_CHARS else _CHUNK_TOKENS[chunk]


def tokenize(text: str) -> list[str]:
    """Words and punctuation marks in order, whitespace dropped: spaCy's English tokens, what
    datatrove's split_into_words returns ("don't" -> "do", "n't"; "U.S." and "3.5" stay whole), except
    that a run of over LONG_RUN_CHARS characters without whitespace is one token."""
    chunks = text.split()
    if chunks and max(map(len, chunks)) > LONG_RUN_CHARS:
        return list(chain.from_iterable(map(chunk_tokens, chunks)))
    return list(chain.from_iterable(map(_CHUNK_TOKENS.__getitem__, chunks)))


_WORD_CHAR = re.compile(r"[^\W_]")
_IS_WORD = Memo(lambda token: token.isalnum() or _WORD_CHAR.search(token) is not None)


def words_of(tokens: list[str]) -> list[str]:
    """The tokens holding a letter or a digit ("do", "n't", "3.5"; not ".", "--", "•", "€")."""
    return list(compress(tokens, map(_IS_WORD.__getitem__, tokens)))


def _sentence_class(token: str) -> str:
    """T: a sentence-ending mark; P: other punctuation (no boundary); W: anything else."""
    if token in spacy_rules().sentence_ends:
        return "T"
    if all(unicodedata.category(char).startswith("P") for char in token):
        return "P"
    return "W"


_SENTENCE_CLASSES = Memo(_sentence_class)


def count_sentences(tokens: list[str]) -> int:
    """Sentences as spaCy's sentencizer splits them: a new one starts at the first token that is not
    punctuation after a standalone sentence-ending mark ("." "!" "?" ...; "3.5", "U.S." and "..." are
    no such mark). The marks are spaCy's Sentencizer.default_punct_chars.

    Over the token classes, a boundary is a W whose nearest token before it other than P is a T: a "TW"
    once the Ps are dropped. (The regex T[TP]*W counted the same, in time quadratic in a run of marks.)"""
    if not tokens:
        return 0
    return 1 + "".join(map(_SENTENCE_CLASSES.__getitem__, tokens)).replace("P", "").count("TW")


def per_batch(batch: dict, key: str, compute: Callable[[list], list]) -> list:
    """`compute(batch["text"])`, once per annotate batch: the result is kept in the batch under
    `key` (never a column name) and tied to that exact list of texts, so annotators of one pass
    share tokens, language guesses and C4 cleaning instead of redoing them."""
    texts = batch["text"]
    cached = batch.get(key)
    if cached is None or cached[0] is not texts:
        cached = (texts, compute(texts))
        batch[key] = cached
    return cached[1]


def batch_tokens(batch: dict) -> list[list[str]]:
    """`tokenize` of every text of an annotate batch (see per_batch)."""
    return per_batch(batch, "_tokens", lambda texts: [tokenize(text or "") for text in texts])


def fixed_pieces(texts: list[str], size: int = 2000) -> list[str]:
    """Consecutive `size`-character pieces of the texts (a text's tail shorter than size is left out): documents
    of one length, so a per-document rate compares across corpora."""
    return [text[start:start + size] for text in texts for start in range(0, len(text) - size + 1, size)]
