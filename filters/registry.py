"""The rule registry: every filter rule a recipe may name, with its signal, default threshold and source.

A rule reads one declared signal (filters/base.py Signal) and says when a document is REMOVED:
- "range": the value lies outside [min, max] (either bound may be absent);
- "flag": the boolean signal is true;
- "language": the detected language is not in an allow-list or its probability is below min.
Each rule is one line below naming the class that declares its signal (and the keyword arguments
that make it write that signal). The line is checked when this module is imported: the signal must
be declared, and its domain fixes what the thresholds may be (a count takes whole numbers, a
fraction lies in [0, 1]), so a misspelt column or a wrong bound fails here, not in a user's run.

`null_removes` says what a NULL signal does: quality signals are NULL only for a text with nothing to
measure (no words, no lines), and such a document fails the rule, as datatrove drops it; a URL or
lexicon signal is NULL when there is no URL or no list for the language, and that never removes a
document. `uses` names the lists and models a rule reads, so a harm detector that reads the same
one is known to grade the rule with its own list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cc_sieve.filters.base import DeclaredAnnotator, Signal
from cc_sieve.filters.language import LanguageId
from cc_sieve.filters.lexicons import DEFAULT_LEXICON, BadWords
from cc_sieve.filters.pii import PiiAnnotator
from cc_sieve.filters.quality import (
    C4_VARIANTS,
    GOPHER_DUP_NGRAMS,
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
)
from cc_sieve.filters.urls import FINEWEB_WORD_LISTS, UT1_CATEGORIES, UrlBannedWords, UrlBlocklist

Kind = Literal["range", "flag", "language"]

GOPHER = "Gopher, Rae et al. 2021, appendix A.1.1 (MassiveWeb quality filters)"
GOPHER_TABLE = "Gopher, Rae et al. 2021, table A1 (repetition removal)"
FINEWEB = "FineWeb, Penedo et al. 2024, section 3.3 / datatrove FineWebQualityFilter"
C4_SOURCES = {"tfds": "C4, Raffel et al. 2020 / TFDS c4_utils.clean_page",
              "datatrove": "datatrove C4QualityFilter (defaults)",
              "fineweb": "FineWeb, Penedo et al. 2024: datatrove "
                         "C4QualityFilter(filter_no_terminal_punct=False)"}
UT1 = "UT1 blocklists (Université Toulouse 1), squidGuard format"
FINEWEB_URL = "FineWeb, Penedo et al. 2024 / datatrove URLFilter word lists"
LDNOOBW = "LDNOOBW lists, matched as TFDS C4 get_badwords_filter_fn"
SPACY_WORDS = "tokens as datatrove counts them (spaCy's English rules); the paper fixes no tokenizer"


class RegistryError(Exception):
    """A rule declared wrongly (a programming error, raised when this module is imported)."""


class IngestColumns:
    """Columns the ingest writes for every document (jobs/reading/tables.py; a test checks they agree)."""

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("text_chars", "count", "characters of the document text"),
                Signal("content_bytes", "count", "bytes of the record payload"))


class DedupColumns:
    """Columns the dedup stage adds (jobs/spark/stages.py; a test checks they agree)."""

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("exact_duplicate", "flag", "another document in scope has the same normalised text"),)


@dataclass(frozen=True)
class Option:
    """A rule parameter besides thresholds that configures its annotator (e.g. a list folder)."""

    kwarg: str  # the annotator keyword it sets
    default: str
    is_path: bool = False  # a file or folder that must exist (under a data root or as given)


@dataclass(frozen=True)
class Rule:
    name: str
    family: str
    kind: Kind
    signal: Signal
    provider: type  # the class that declares the signal
    provider_kwargs: tuple[tuple[str, Any], ...] = ()
    default_min: float | None = None
    default_max: float | None = None
    default_languages: tuple[str, ...] = ()
    null_removes: bool = True
    source: str = ""
    note: str = ""
    options: dict[str, Option] = field(default_factory=dict)
    measured_by: str | None = None  # the benchmark measurement (config section) that writes the column
    uses: tuple[str, ...] = ()  # lists and models the rule reads (harm detectors declare theirs the same way)

    @property
    def column(self) -> str:
        return self.signal.name

    @property
    def integer(self) -> bool:
        return self.signal.domain == "count"

    @property
    def fraction(self) -> bool:
        """Thresholds lie in [0, 1]: a fraction signal, or a language rule's probability (language_score)."""
        return self.kind == "language" or self.signal.domain == "fraction"

    @property
    def score_column(self) -> str | None:
        return "language_score" if self.kind == "language" else None

    @property
    def annotator(self) -> type | None:
        """The annotator the annotate pass runs for this rule; None when the column comes from the ingest or
        from a benchmark measurement (which runs its annotator with its own settings)."""
        if self.measured_by or not issubclass(self.provider, DeclaredAnnotator):
            return None
        return self.provider


DOMAINS = {"range": ("count", "fraction", "ratio"), "flag": ("flag",), "language": ("label",)}


class Registry(dict[str, Rule]):
    """Rules by name; `range`, `flag` and `language` each add one after checking it against its provider."""

    def add(self, name: str, family: str, kind: Kind, provider: type, *, column: str | None = None,
            kwargs: tuple[tuple[str, Any], ...] = (), **settings: Any) -> Rule:
        if name in self:
            raise RegistryError(f"rule {name}: declared twice")
        column = column or name
        declared = {signal.name: signal for signal in provider.signals(**dict(kwargs))}
        if column not in declared:
            raise RegistryError(f"rule {name}: {provider.__name__}{dict(kwargs) or ''} declares no signal "
                                f"{column!r}; it declares {', '.join(declared)}")
        signal = declared[column]
        if signal.domain not in DOMAINS[kind]:
            raise RegistryError(f"rule {name}: a {kind} rule cannot read {column}, a {signal.domain} signal")
        rule = Rule(name=name, family=family, kind=kind, signal=signal, provider=provider, provider_kwargs=kwargs,
                    **settings)
        for bound in (rule.default_min, rule.default_max):
            if bound is not None and ((rule.fraction and not 0 <= bound <= 1)
                                      or (rule.integer and not float(bound).is_integer()) or bound < 0):
                raise RegistryError(f"rule {name}: default bound {bound} does not fit {column}, a {signal.domain}")
        self[name] = rule
        return rule

    def range(self, name: str, family: str, provider: type, **settings: Any) -> Rule:
        return self.add(name, family, "range", provider, **settings)

    def flag(self, name: str, family: str, provider: type, **settings: Any) -> Rule:
        return self.add(name, family, "flag", provider, null_removes=False, **settings)


RULES = Registry()

# Gopher quality
for _name, _bounds, _note in (
        ("gopher_word_count", dict(default_min=50, default_max=100_000),
         f"words are tokens with a letter or digit; datatrove also counts symbols such as '•', '€' ({SPACY_WORDS})"),
        ("gopher_mean_word_length", dict(default_min=3, default_max=10), "over gopher_word_count's words"),
        ("gopher_hash_ratio", dict(default_max=0.1),
         "'#' count over all tokens, punctuation included, as datatrove divides"),
        ("gopher_ellipsis_ratio", dict(default_max=0.1),
         "'...' and '…' count over all tokens, punctuation included, as datatrove divides"),
        ("gopher_bullet_lines_ratio", dict(default_max=0.9), "bullets '•' and '-' (datatrove's; the paper names none)"),
        ("gopher_ellipsis_lines_ratio", dict(default_max=0.3), ""),
        ("gopher_alpha_words_ratio", dict(default_min=0.8),
         "as published, a share of words; datatrove divides by all tokens, punctuation included, and removes far "
         "more (that reading is gopher_alpha_tokens_ratio)"),
        ("gopher_stop_words", dict(default_min=2),
         "distinct words of the/be/to/of/and/that/have/with, case-sensitive as in datatrove (the paper does not say)")):
    RULES.range(_name, "gopher_quality", GopherQuality, source=GOPHER, note=_note, **_bounds)
RULES.range("gopher_alpha_tokens_ratio", "gopher_quality", GopherQuality, default_min=0.8,
            source="datatrove GopherQualityFilter (as FineWeb ran it)",
            note="datatrove's reading of the alphabetic-words rule: punctuation tokens count as words without a letter")

# Gopher repetition
for _name, _limit in (("gopher_dup_line_frac", 0.3), ("gopher_dup_para_frac", 0.3), ("gopher_dup_line_char_frac", 0.2),
                      ("gopher_dup_para_char_frac", 0.2)):
    RULES.range(_name, "gopher_repetition", GopherRepetition, default_max=_limit, source=GOPHER_TABLE)
for _n, _limit in ((2, 0.20), (3, 0.18), (4, 0.16)):
    RULES.range(f"gopher_top_{_n}gram_char_frac", "gopher_repetition", GopherRepetition, default_max=_limit,
                source=GOPHER_TABLE, note="n-grams of all tokens, punctuation included (datatrove's)")
for _n, _limit in zip(GOPHER_DUP_NGRAMS, (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), strict=True):
    RULES.range(f"gopher_dup_{_n}gram_char_frac", "gopher_repetition", GopherRepetition, default_max=_limit,
                source=GOPHER_TABLE,
                note="datatrove's scan: a repeat jumps n tokens ahead; characters without spaces")

# FineWeb's own rules, on the document text and on the text C4's line cleaning left (FineWeb's order)
for _after_c4 in (False, True):
    _prefix, _where = ("fineweb_c4_", "on the text left by C4's line cleaning (FineWeb's variant and order)") \
        if _after_c4 else ("fineweb_", "on the document text")
    for _name, _bounds, _note in (
            ("line_punct_ratio", dict(default_min=0.12), "lines ending in a Sentence_Terminal mark"),
            ("short_line_ratio", dict(default_max=0.67), "lines of at most 30 characters"),
            ("char_dup_ratio", dict(default_max=0.01),
             "the paper's text says 0.1, its table and datatrove's code use 0.01"),
            ("newline_ratio", dict(default_max=0.3), "newlines per token (punctuation tokens included, as datatrove)")):
        RULES.range(_prefix + _name, "fineweb", FineWebQuality, kwargs=(("after_c4", _after_c4),), source=FINEWEB,
                    note=f"{_note}, {_where}", **_bounds)

# C4, in three implementations' variants
_C4_LINES = {"tfds": "kept lines: terminal mark . ? ! \" (not '...'), >= 5 words",
             "datatrove": "kept lines: terminal mark . ? ! \" ' (not '...'), >= 3 words (TFDS: 5, no ')",
             "fineweb": "kept lines: >= 3 words, no terminal-mark check (filter_no_terminal_punct=False)"}
for _variant, _sentences in (("tfds", 3), ("datatrove", 5), ("fineweb", 5)):
    _c4 = dict(kwargs=(("variants", (_variant,)),), source=C4_SOURCES[_variant])
    RULES.range(f"c4_{_variant}_sentences", "c4", C4Quality, default_min=_sentences, **_c4,
                note=f"sentences by spaCy's sentencizer rules, as datatrove counts them (TFDS: NLTK punkt); "
                     f"{_C4_LINES[_variant]}; no javascript, policy or citation lines, no word over 1,000 characters")
    RULES.flag(f"c4_{_variant}_lorem_ipsum", "c4", C4Quality, **_c4,
               note="seen only on lines that pass the terminal-mark and length checks")
    RULES.flag(f"c4_{_variant}_curly_bracket", "c4", C4Quality, **_c4,
               note="'{' on a kept line (a javascript line does not count)")
    RULES.flag(f"c4_{_variant}_badwords", "c4", C4Quality, **{**_c4, "source": f"{C4_SOURCES[_variant]}; {LDNOOBW}"},
               uses=("ldnoobw",),
               note="LDNOOBW en at 25e679f on the cleaned text (C4 ran it after cleaning, on English)")
assert set(C4_VARIANTS) == set(_C4_LINES)
RULES.range("c4_max_length", "c4", IngestColumns, column="text_chars", default_max=190_000,
            source="TFDS c4_utils.is_valid_length",
            note="characters of the page text before cleaning (the ingest's text_chars)")

# URLs
for _category in UT1_CATEGORIES:
    RULES.flag(f"url_ut1_{_category}", "url", UrlBlocklist, column=f"url_ut1_{_category}_match",
               kwargs=(("categories", (_category,)),), uses=(f"ut1:{_category}",),
               source=UT1 + ("; the adult list FineWeb used (datatrove wheel)" if _category == "adult" else ""),
               note="the host or a parent domain listed, or the URL (no scheme, path prefix); datatrove checks only "
                    "the registered domain and the full host, and its URL check never matches")
_WORDS = dict(source=FINEWEB_URL, uses=("fineweb-url-words",),
              options={"lists": Option("lists", FINEWEB_WORD_LISTS, is_path=True)})
RULES.flag("url_banned_word", "url", UrlBannedWords, **_WORDS,
           note="a banned word is one of the URL's alphanumeric words (lower-cased; datatrove does not lower-case)")
RULES.flag("url_banned_subword", "url", UrlBannedWords, **_WORDS,
           note="a banned sub-word inside the URL, non-alphanumerics removed")
RULES.range("url_soft_banned_words", "url", UrlBannedWords, default_max=1, null_removes=False, **_WORDS,
            note="distinct soft-banned words in the URL; FineWeb removes at 2 (soft_word_threshold)")

# Lexicons, language, PII, duplicates
RULES.flag("badwords_ldnoobw", "badwords", BadWords, column="badwords_match", source=LDNOOBW, uses=("ldnoobw",),
           note="the list of the document's language (fastText lid.176); no list, no removal",
           options={"lexicon": Option("lexicon", DEFAULT_LEXICON, is_path=True),
                    "language": Option("language", "detected")})
RULES.add("language", "language", "language", LanguageId, default_min=0.65, default_languages=("en",),
          source="FineWeb, Penedo et al. 2024 (fastText lid.176, English >= 0.65)", uses=("lid.176",),
          note="fastText lid.176 probabilities as FineWeb's, from its compressed form lid.176.ftz (FineWeb loaded "
               "lid.176.bin); agreement with py3langid, used before, in docs/performance.md; a text with nothing "
               "to identify has no language and is removed")
RULES.range("pii_entities", "pii", PiiAnnotator, column="pii_total", default_max=5, null_removes=False,
            measured_by="pii", uses=("presidio",),
            source="Dolma v1.6, Soldaini et al. 2024 (more than 5 PII entities: document removed)",
            note="entities of the benchmark's PII measurement (pii.mode, pii.entities, pii.score_threshold; Dolma "
                 "counted e-mail addresses, phone numbers and IP addresses); a document outside pii.sample has no "
                 "count and is kept")
RULES.flag("exact_duplicate", "dedup", DedupColumns, measured_by="dedup",
           source="exact-duplicate removal as in C4 / Gopher (here: the normalised text's 64-bit hash)",
           note="the dedup stage sets it on every document whose normalised text (lower-cased, punctuation dropped, "
                "words joined by single spaces) another document in the dedup scope has too, all but the first by "
                "dedup.survivor; an empty text is never a duplicate")
