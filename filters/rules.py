"""The rule registry: every filter rule a recipe may name, with its signal, default threshold and source.

A rule reads one annotation column (or, for language, two) and says when a document is REMOVED:
- "range": the value lies outside [min, max] (either bound may be absent);
- "flag": the boolean column is true;
- "language": the detected language is not in an allow-list or its probability is below min.
`annotator` / `annotator_kwargs` name the annotator (and variant) that writes the column, so the
annotate pass runs exactly what the selected recipes need. `null_removes` says what a NULL signal
does: quality signals are NULL only for a text with nothing to measure (no words, no lines), and
such a document fails the rule, as datatrove drops it; a URL or lexicon signal is NULL when there
is no URL or no list for the language, and that never removes a document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from filters.lexicons import DEFAULT_LEXICON
from filters.quality import C4_VARIANTS, GOPHER_DUP_NGRAMS
from filters.urls import FINEWEB_WORD_LISTS, UT1_CATEGORIES

Kind = Literal["range", "flag", "language"]

GOPHER = "Gopher, Rae et al. 2021, appendix A.1.1 (MassiveWeb quality filters)"
GOPHER_TABLE = "Gopher, Rae et al. 2021, table A1 (repetition removal)"
FINEWEB = "FineWeb, Penedo et al. 2024, section 3.3 / datatrove FineWebQualityFilter"
C4_TFDS = "C4, Raffel et al. 2020 / TFDS c4_utils.clean_page"
DATATROVE_C4 = "datatrove C4QualityFilter (defaults)"
FINEWEB_C4 = "FineWeb, Penedo et al. 2024: datatrove C4QualityFilter(filter_no_terminal_punct=False)"
UT1 = "UT1 blocklists (Université Toulouse 1), squidGuard format"
FINEWEB_URL = "FineWeb, Penedo et al. 2024 / datatrove URLFilter word lists"
LDNOOBW = "LDNOOBW lists, matched as TFDS C4 get_badwords_filter_fn"

SPACY_WORDS = ("words and sentences as datatrove counts them (spaCy's English tokenizer and sentencizer "
               "rules); the paper does not fix a tokenizer")


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
    column: str
    annotator: str | None  # "module:Class"; None for a column the ingest already writes
    annotator_kwargs: tuple[tuple[str, object], ...] = ()
    default_min: float | None = None
    default_max: float | None = None
    default_languages: tuple[str, ...] = ()
    integer: bool = False  # thresholds compare with a count
    fraction: bool = False  # the signal lies in [0, 1]
    null_removes: bool = True
    source: str = ""
    note: str = ""
    options: dict[str, Option] = field(default_factory=dict)

    @property
    def score_column(self) -> str | None:
        return "language_score" if self.kind == "language" else None


def _range(name, family, column, annotator, *, min=None, max=None, source, note="", integer=False,
           fraction=True, kwargs=(), null_removes=True, options=None) -> Rule:
    return Rule(name=name, family=family, kind="range", column=column, annotator=annotator,
                annotator_kwargs=tuple(kwargs), default_min=min, default_max=max, integer=integer,
                fraction=fraction, null_removes=null_removes, source=source, note=note, options=options or {})


def _flag(name, family, column, annotator, *, source, note="", kwargs=(), null_removes=False,
          options=None) -> Rule:
    return Rule(name=name, family=family, kind="flag", column=column, annotator=annotator,
                annotator_kwargs=tuple(kwargs), null_removes=null_removes, source=source, note=note,
                options=options or {})


def _gopher_quality() -> list[Rule]:
    target = "filters.quality:GopherQuality"
    return [
        _range("gopher_word_count", "gopher_quality", "gopher_word_count", target, min=50, max=100_000,
               integer=True, fraction=False, source=GOPHER,
               note="words are tokens holding a letter or digit; datatrove also counts symbol tokens such as "
                    "'•' or '€' (" + SPACY_WORDS + ")"),
        _range("gopher_mean_word_length", "gopher_quality", "gopher_mean_word_length", target, min=3, max=10,
               fraction=False, source=GOPHER, note="over the same words as gopher_word_count"),
        _range("gopher_hash_ratio", "gopher_quality", "gopher_hash_ratio", target, max=0.1, fraction=False,
               source=GOPHER, note="'#' count over all tokens, punctuation included, as datatrove divides"),
        _range("gopher_ellipsis_ratio", "gopher_quality", "gopher_ellipsis_ratio", target, max=0.1,
               fraction=False, source=GOPHER,
               note="'...' and '…' count over all tokens, punctuation included, as datatrove divides"),
        _range("gopher_bullet_lines_ratio", "gopher_quality", "gopher_bullet_lines_ratio", target, max=0.9,
               source=GOPHER, note="bullets are '•' and '-' (datatrove's choice; the paper names none)"),
        _range("gopher_ellipsis_lines_ratio", "gopher_quality", "gopher_ellipsis_lines_ratio", target,
               max=0.3, source=GOPHER),
        _range("gopher_alpha_words_ratio", "gopher_quality", "gopher_alpha_words_ratio", target, min=0.8,
               source=GOPHER,
               note="as published: share of words with a letter; datatrove divides by all tokens, punctuation "
                    "included, and removes far more (that is gopher_alpha_tokens_ratio)"),
        _range("gopher_alpha_tokens_ratio", "gopher_quality", "gopher_alpha_tokens_ratio", target, min=0.8,
               source="datatrove GopherQualityFilter (as FineWeb ran it)",
               note="datatrove's reading of the alphabetic-words rule: punctuation tokens count as words "
                    "without a letter"),
        _range("gopher_stop_words", "gopher_quality", "gopher_stop_words", target, min=2, integer=True,
               fraction=False, source=GOPHER,
               note="distinct words of the/be/to/of/and/that/have/with, matched case-sensitively as datatrove "
                    "does (the paper does not say)"),
    ]


def _gopher_repetition() -> list[Rule]:
    target = "filters.quality:GopherRepetition"
    rules = [
        _range("gopher_dup_line_frac", "gopher_repetition", "gopher_dup_line_frac", target, max=0.3,
               source=GOPHER_TABLE),
        _range("gopher_dup_para_frac", "gopher_repetition", "gopher_dup_para_frac", target, max=0.3,
               source=GOPHER_TABLE),
        _range("gopher_dup_line_char_frac", "gopher_repetition", "gopher_dup_line_char_frac", target, max=0.2,
               source=GOPHER_TABLE),
        _range("gopher_dup_para_char_frac", "gopher_repetition", "gopher_dup_para_char_frac", target, max=0.2,
               source=GOPHER_TABLE),
    ]
    for n, limit in ((2, 0.20), (3, 0.18), (4, 0.16)):
        rules.append(_range(f"gopher_top_{n}gram_char_frac", "gopher_repetition", f"gopher_top_{n}gram_char_frac",
                            target, max=limit, source=GOPHER_TABLE,
                            note="n-grams over all tokens, punctuation included, as datatrove builds them"))
    for n, limit in zip(GOPHER_DUP_NGRAMS, (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), strict=True):
        rules.append(_range(f"gopher_dup_{n}gram_char_frac", "gopher_repetition", f"gopher_dup_{n}gram_char_frac",
                            target, max=limit, source=GOPHER_TABLE,
                            note="datatrove's scan (a repeat jumps n tokens ahead); characters without spaces"))
    return rules


def _fineweb() -> list[Rule]:
    rules = []
    for prefix, after_c4, where in (("fineweb_", False, "on the document text"),
                                    ("fineweb_c4_", True, "on the text left by C4's line cleaning in FineWeb's "
                                                          "variant, the order FineWeb's pipeline ran")):
        target, kwargs = "filters.quality:FineWebQuality", (("after_c4", after_c4),)
        rules += [
            _range(f"{prefix}line_punct_ratio", "fineweb", f"{prefix}line_punct_ratio", target, min=0.12,
                   kwargs=kwargs, source=FINEWEB, note=f"lines ending in a Sentence_Terminal mark, {where}"),
            _range(f"{prefix}short_line_ratio", "fineweb", f"{prefix}short_line_ratio", target, max=0.67,
                   kwargs=kwargs, source=FINEWEB, note=f"lines of at most 30 characters, {where}"),
            _range(f"{prefix}char_dup_ratio", "fineweb", f"{prefix}char_dup_ratio", target, max=0.01,
                   kwargs=kwargs, source=FINEWEB,
                   note=f"the paper's text says 0.1, its table and datatrove's code use 0.01; {where}"),
            _range(f"{prefix}newline_ratio", "fineweb", f"{prefix}newline_ratio", target, max=0.3,
                   fraction=False, kwargs=kwargs, source=FINEWEB,
                   note=f"newlines per token (punctuation tokens included, as datatrove), {where}"),
        ]
    return rules


def _c4() -> list[Rule]:
    target = "filters.quality:C4Quality"
    sources = {"tfds": C4_TFDS, "datatrove": DATATROVE_C4, "fineweb": FINEWEB_C4}
    min_sentences = {"tfds": 3, "datatrove": 5, "fineweb": 5}
    lines = {"tfds": "lines kept: terminal mark . ? ! \" (not '...'), >= 5 words",
             "datatrove": "lines kept: terminal mark . ? ! \" ' (not '...'), >= 3 words (TFDS: 5, and no ')",
             "fineweb": "lines kept: >= 3 words, no terminal-mark check (filter_no_terminal_punct=False)"}
    sentences = ("sentences by spaCy's sentencizer rules, as datatrove counts them; TFDS used NLTK punkt")
    rules = []
    for variant in C4_VARIANTS:
        kwargs = (("variants", (variant,)),)
        common = f"{lines[variant]}; no javascript, policy or citation lines; no word over 1,000 characters"
        rules += [
            _range(f"c4_{variant}_sentences", "c4", f"c4_{variant}_sentences", target, min=min_sentences[variant],
                   integer=True, fraction=False, kwargs=kwargs, source=sources[variant],
                   note=f"{sentences}; {common}"),
            _flag(f"c4_{variant}_lorem_ipsum", "c4", f"c4_{variant}_lorem_ipsum", target, kwargs=kwargs,
                  source=sources[variant], note="seen only on lines that pass the terminal-mark and length checks"),
            _flag(f"c4_{variant}_curly_bracket", "c4", f"c4_{variant}_curly_bracket", target, kwargs=kwargs,
                  source=sources[variant], note="'{' on a kept line (a javascript line does not count)"),
            _flag(f"c4_{variant}_badwords", "c4", f"c4_{variant}_badwords", target, kwargs=kwargs,
                  source=f"{sources[variant]}; {LDNOOBW}",
                  note="LDNOOBW en at commit 25e679f on the cleaned text (C4 ran it after cleaning, on English)"),
        ]
    rules.append(_range("c4_max_length", "c4", "text_chars", None, max=190_000, integer=True, fraction=False,
                        source="TFDS c4_utils.is_valid_length",
                        note="characters of the page text before cleaning (the ingest's text_chars)"))
    return rules


def _urls() -> list[Rule]:
    rules = [_flag(f"url_ut1_{category}", "url", f"url_ut1_{category}_match", "filters.urls:UrlBlocklist",
                   kwargs=(("categories", (category,)),), source=UT1 + (
                       "; the adult list FineWeb used (datatrove wheel)" if category == "adult" else ""),
                   note="the host or a parent domain listed, or the URL (no scheme, path prefix); datatrove checks "
                        "only the registered domain and the full host, and its URL check never matches")
             for category in UT1_CATEGORIES]
    lists = {"lists": Option("lists", FINEWEB_WORD_LISTS, is_path=True)}
    target = "filters.urls:UrlBannedWords"
    rules += [
        _flag("url_banned_word", "url", "url_banned_word", target, source=FINEWEB_URL, options=lists,
              note="a banned word is one of the URL's alphanumeric words (lower-cased; datatrove does not "
                   "lower-case)"),
        _flag("url_banned_subword", "url", "url_banned_subword", target, source=FINEWEB_URL, options=lists,
              note="a banned sub-word inside the URL with non-alphanumerics removed"),
        _range("url_soft_banned_words", "url", "url_soft_banned_words", target, max=1, integer=True,
               fraction=False, null_removes=False, source=FINEWEB_URL, options=lists,
               note="distinct soft-banned words in the URL; FineWeb removes at 2 (soft_word_threshold)"),
    ]
    return rules


def _lexicons() -> list[Rule]:
    return [_flag("badwords_ldnoobw", "badwords", "badwords_match", "filters.lexicons:BadWords",
                  source=LDNOOBW,
                  note="the list of the document's language (py3langid); no list for the language, no removal",
                  options={"lexicon": Option("lexicon", DEFAULT_LEXICON, is_path=True),
                           "language": Option("language", "detected")})]


def _language() -> list[Rule]:
    return [Rule(name="language", family="language", kind="language", column="language",
                 annotator="filters.language:LanguageId", default_min=0.65, default_languages=("en",),
                 fraction=True, source="FineWeb, Penedo et al. 2024 (fastText lid.176, English >= 0.65)",
                 note="py3langid 0.4 probabilities (softmax, temperature sqrt(bytes)), not fastText's; a text "
                      "with nothing to identify has no language and is removed")]


RULES: dict[str, Rule] = {rule.name: rule for rule in
                          _gopher_quality() + _gopher_repetition() + _fineweb() + _c4() + _urls() + _lexicons()
                          + _language()}
