"""LDNOOBW bad-word lists per language, matched exactly as TFDS's C4 matches them.

TFDS (c4_utils.get_badwords_filter_fn) lower-cases the page text and searches one regex per
language: for ja, th and zh any occurrence of a listed word; for every other language a listed
word flanked by non-word characters (or the text's ends). One consequence is carried over on
purpose: list entries with capitals (many in `es`) can never match the lower-cased text. C4 used
the lists at LDNOOBW commit 25e679f (data/lexicons/ldnoobw-c4-25e679f); TFDS drops a few entries
that are common sub-words in languages without spaces (ALLOWLIST).
"""

from __future__ import annotations

import re
from pathlib import Path

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal
from cc_sieve.filters.language import FastTextLanguageIdentifier
from cc_sieve.filters.resources import data_path

DEFAULT_LEXICON = "ldnoobw-c4-25e679f"
NO_WORD_BOUNDARY_LANGUAGES = ("ja", "th", "zh")
# TFDS c4.py _BADWORDS_ALLOWLIST: sub-words that each removed >10% of their language's pages.
ALLOWLIST = {"ja": {"sm", "グロ", "女の子"}, "zh": {"性"}}
# ISO 639-3 codes Common Crawl declares (WARC-Identified-Content-Language) -> LDNOOBW file names.
ISO_639_3_TO_1 = {
    "ara": "ar", "ces": "cs", "dan": "da", "deu": "de", "eng": "en", "epo": "eo", "spa": "es", "fas": "fa",
    "fin": "fi", "fil": "fil", "fra": "fr", "hin": "hi", "hun": "hu", "ita": "it", "jpn": "ja", "kab": "kab",
    "kor": "ko", "nld": "nl", "nor": "no", "nob": "no", "pol": "pl", "por": "pt", "rus": "ru", "swe": "sv",
    "tha": "th", "tlh": "tlh", "tur": "tr", "zho": "zh",
}


def lexicon_dir(lexicon: str = DEFAULT_LEXICON) -> Path:
    return data_path(f"lexicons/{lexicon}")


def available_languages(lexicon: str = DEFAULT_LEXICON) -> list[str]:
    """Languages with a list, by TFDS's key (file name up to the first "-": fr-CA-... -> fr)."""
    return sorted({path.name.split("-")[0] for path in lexicon_dir(lexicon).iterdir()
                   if path.is_file() and path.name != "LICENSE"})


def load_words(lexicon: str, language: str) -> set[str]:
    """The stripped lines of every file of `language` (fr and fr-CA-... together), minus ALLOWLIST."""
    words: set[str] = set()
    for path in sorted(lexicon_dir(lexicon).iterdir()):
        if path.is_file() and path.name != "LICENSE" and path.name.split("-")[0] == language:
            words.update(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return words - ALLOWLIST.get(language, set())


def trie_pattern(words: set[str]) -> str:
    """A regex matching exactly the given words, factored as a trie ("a(?:ss(?:hole)?|nus)"): the
    same language as "|".join(words), but re tries one branch per character instead of every word."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        single = len(branches) == 1 and len(branches[0]) == 1
        body = branches[0] if single else "(?:" + "|".join(branches) + ")"
        return body + "?" if ends else body

    return build(trie)


class BadWordsMatcher:
    """TFDS's regex for one language; `search` answers whether a text holds a listed word."""

    def __init__(self, words: set[str], language: str):
        self.language = language
        alternatives = trie_pattern(words)
        if language in NO_WORD_BOUNDARY_LANGUAGES:
            self.pattern = re.compile(alternatives)
        else:
            # TFDS writes (?:\W|^)(words)(?:\W|$); lookarounds match the same texts without consuming
            # the separator, so adjacent words ("x x x") are all counted.
            self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    @classmethod
    def load(cls, lexicon: str, language: str) -> BadWordsMatcher:
        words = load_words(lexicon, language)
        if not words:
            known = ", ".join(available_languages(lexicon))
            raise ValueError(f"lexicon {lexicon} has no list for language {language!r}; it has: {known}")
        return cls(words, language)

    def search(self, text: str) -> bool:
        return self.pattern.search(text.lower()) is not None

    def count(self, text: str) -> int:
        """Non-overlapping matches (TFDS only asks whether there is one; the count is for reports)."""
        return len(self.pattern.findall(text.lower()))


def normalise_language(code: str | None) -> str | None:
    """"en", "eng", "eng,fra" or "en-US" -> "en" (the first language named); None stays None."""
    if not code:
        return None
    first = code.split(",")[0].strip().lower().split("-")[0].split("_")[0]
    return ISO_639_3_TO_1.get(first, first)


class BadWords(DeclaredAnnotator):
    """LDNOOBW matches per document: badwords_match (bool), badwords_count, badwords_language.

    `language` picks the list: a code ("en": every document against that list, as C4 did for its
    English corpus), "detected" (fastText's lid.176 on the text, see filters/language.py) or "declared" (the
    record's language, e.g. WARC-Identified-Content-Language). A document whose language has no
    list gets NULL in every column.
    """

    name = "badwords"

    def __init__(self, lexicon: str = DEFAULT_LEXICON, language: str = "detected"):
        super().__init__(lexicon=lexicon, language=language)
        self.lexicon = lexicon
        self.language = language
        self.known = set(available_languages(lexicon))
        self.matchers: dict[str, BadWordsMatcher] = {}
        if language not in ("detected", "declared"):
            self.matchers[language] = BadWordsMatcher.load(lexicon, language)
        self.identifier = FastTextLanguageIdentifier.shared() if language == "detected" else None

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("badwords_match", "flag", "a listed word is in the text"),
                Signal("badwords_count", "count", "listed words found"),
                Signal("badwords_language", "label", "the language whose list was read"))

    def matcher(self, language: str | None) -> BadWordsMatcher | None:
        if language not in self.known:
            return None
        if language not in self.matchers:
            self.matchers[language] = BadWordsMatcher.load(self.lexicon, language)
        return self.matchers[language]

    def languages(self, batch: Batch) -> list[str | None]:
        if self.language == "declared":
            return [normalise_language(code) for code in batch["language"]]
        if self.identifier is not None:
            return [language for language, _ in self.identifier.classify_batch(batch)]
        return [self.language] * len(batch["text"])

    def annotate(self, batch: Batch) -> dict[str, list]:
        out: dict[str, list] = {"badwords_match": [], "badwords_count": [], "badwords_language": []}
        for text, language in zip(batch["text"], self.languages(batch), strict=True):
            matcher = self.matcher(language)
            count = matcher.count(text or "") if matcher is not None else None
            out["badwords_match"].append(None if count is None else count > 0)
            out["badwords_count"].append(count)
            out["badwords_language"].append(language if matcher is not None else None)
        return out
