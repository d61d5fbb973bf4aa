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

from dataclasses import dataclass, field, replace
from typing import Literal

from filters.lexicons import DEFAULT_LEXICON
from filters.quality import C4_VARIANTS, GOPHER_DUP_NGRAMS
from filters.urls import FINEWEB_WORD_LISTS, UT1_CATEGORIES

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
    annotator: str | None  # "module:Class"; None for a column the ingest or a benchmark measurement writes
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
    measured_by: str | None = None  # the benchmark measurement (config section, e.g. "pii") writing the column

    @property
    def score_column(self) -> str | None:
        return "language_score" if self.kind == "language" else None


def _range(name: str, family: str, annotator: str | None, *, column: str | None = None, min=None, max=None,
           count: bool = False, fraction: bool = True, kwargs=(), null_removes: bool = True, source: str,
           note: str = "", options=None) -> Rule:
    return Rule(name=name, family=family, kind="range", column=column or name, annotator=annotator,
                annotator_kwargs=tuple(kwargs), default_min=min, default_max=max, integer=count,
                fraction=fraction and not count, null_removes=null_removes, source=source, note=note,
                options=options or {})


def _flag(name: str, family: str, annotator: str, *, column: str | None = None, kwargs=(), source: str,
          note: str = "", options=None) -> Rule:
    return Rule(name=name, family=family, kind="flag", column=column or name, annotator=annotator,
                annotator_kwargs=tuple(kwargs), null_removes=False, source=source, note=note,
                options=options or {})


def _gopher_quality() -> list[Rule]:
    def rule(name, **kwargs):
        return _range(name, "gopher_quality", "filters.quality:GopherQuality", source=GOPHER, **kwargs)

    return [
        rule("gopher_word_count", min=50, max=100_000, count=True,
             note="words are tokens with a letter or digit; datatrove also counts symbols such as '•', '€' "
                  f"({SPACY_WORDS})"),
        rule("gopher_mean_word_length", min=3, max=10, fraction=False, note="over gopher_word_count's words"),
        rule("gopher_hash_ratio", max=0.1, fraction=False,
             note="'#' count over all tokens, punctuation included, as datatrove divides"),
        rule("gopher_ellipsis_ratio", max=0.1, fraction=False,
             note="'...' and '…' count over all tokens, punctuation included, as datatrove divides"),
        rule("gopher_bullet_lines_ratio", max=0.9,
             note="bullets '•' and '-' (datatrove's; the paper names none)"),
        rule("gopher_ellipsis_lines_ratio", max=0.3),
        rule("gopher_alpha_words_ratio", min=0.8,
             note="as published, a share of words; datatrove divides by all tokens, punctuation included, "
                  "and removes far more (that reading is gopher_alpha_tokens_ratio)"),
        _range("gopher_alpha_tokens_ratio", "gopher_quality", "filters.quality:GopherQuality", min=0.8,
               source="datatrove GopherQualityFilter (as FineWeb ran it)",
               note="datatrove's reading of the alphabetic-words rule: punctuation tokens count as words "
                    "without a letter"),
        rule("gopher_stop_words", min=2, count=True,
             note="distinct words of the/be/to/of/and/that/have/with, case-sensitive as in datatrove "
                  "(the paper does not say)"),
    ]


def _gopher_repetition() -> list[Rule]:
    def rule(name, limit, note=""):
        return _range(name, "gopher_repetition", "filters.quality:GopherRepetition", max=limit,
                      source=GOPHER_TABLE, note=note)

    rules = [rule("gopher_dup_line_frac", 0.3), rule("gopher_dup_para_frac", 0.3),
             rule("gopher_dup_line_char_frac", 0.2), rule("gopher_dup_para_char_frac", 0.2)]
    rules += [rule(f"gopher_top_{n}gram_char_frac", limit, "n-grams of all tokens, punctuation included "
                                                           "(datatrove's)")
              for n, limit in ((2, 0.20), (3, 0.18), (4, 0.16))]
    rules += [rule(f"gopher_dup_{n}gram_char_frac", limit, "datatrove's scan: a repeat jumps n tokens ahead; "
                                                           "characters without spaces")
              for n, limit in zip(GOPHER_DUP_NGRAMS, (0.15, 0.14, 0.13, 0.12, 0.11, 0.10), strict=True)]
    return rules


def _fineweb_rule(name: str, note: str, after_c4: bool, **kwargs) -> Rule:
    prefix, where = ("fineweb_", "on the document text")
    if after_c4:
        prefix, where = "fineweb_c4_", "on the text left by C4's line cleaning (FineWeb's variant and order)"
    return _range(prefix + name, "fineweb", "filters.quality:FineWebQuality", source=FINEWEB,
                  kwargs=(("after_c4", after_c4),), note=f"{note}, {where}", **kwargs)


def _fineweb() -> list[Rule]:
    return [rule for after_c4 in (False, True) for rule in (
        _fineweb_rule("line_punct_ratio", "lines ending in a Sentence_Terminal mark", after_c4, min=0.12),
        _fineweb_rule("short_line_ratio", "lines of at most 30 characters", after_c4, max=0.67),
        _fineweb_rule("char_dup_ratio", "the paper's text says 0.1, its table and datatrove's code use 0.01",
                      after_c4, max=0.01),
        _fineweb_rule("newline_ratio", "newlines per token (punctuation tokens included, as datatrove)",
                      after_c4, max=0.3, fraction=False),
    )]


def _c4() -> list[Rule]:
    min_sentences = {"tfds": 3, "datatrove": 5, "fineweb": 5}
    lines = {"tfds": "kept lines: terminal mark . ? ! \" (not '...'), >= 5 words",
             "datatrove": "kept lines: terminal mark . ? ! \" ' (not '...'), >= 3 words (TFDS: 5, no ')",
             "fineweb": "kept lines: >= 3 words, no terminal-mark check (filter_no_terminal_punct=False)"}
    rules = []
    for variant in C4_VARIANTS:
        common = dict(family="c4", annotator="filters.quality:C4Quality", kwargs=(("variants", (variant,)),),
                      source=C4_SOURCES[variant])
        rules += [
            _range(f"c4_{variant}_sentences", min=min_sentences[variant], count=True, **common,
                   note=f"sentences by spaCy's sentencizer rules, as datatrove counts them (TFDS: NLTK "
                        f"punkt); {lines[variant]}; no javascript, policy or citation lines, no word over "
                        "1,000 characters"),
            _flag(f"c4_{variant}_lorem_ipsum", **common,
                  note="seen only on lines that pass the terminal-mark and length checks"),
            _flag(f"c4_{variant}_curly_bracket", **common,
                  note="'{' on a kept line (a javascript line does not count)"),
            _flag(f"c4_{variant}_badwords", **{**common, "source": f"{C4_SOURCES[variant]}; {LDNOOBW}"},
                  note="LDNOOBW en at 25e679f on the cleaned text (C4 ran it after cleaning, on English)"),
        ]
    rules.append(_range("c4_max_length", "c4", None, column="text_chars", max=190_000, count=True,
                        source="TFDS c4_utils.is_valid_length",
                        note="characters of the page text before cleaning (the ingest's text_chars)"))
    return rules


def _urls() -> list[Rule]:
    adult = "; the adult list FineWeb used (datatrove wheel)"
    rules = [_flag(f"url_ut1_{category}", "url", "filters.urls:UrlBlocklist",
                   column=f"url_ut1_{category}_match", kwargs=(("categories", (category,)),),
                   source=UT1 + (adult if category == "adult" else ""),
                   note="the host or a parent domain listed, or the URL (no scheme, path prefix); datatrove "
                        "checks only the registered domain and the full host, and its URL check never "
                        "matches")
             for category in UT1_CATEGORIES]
    words = dict(family="url", annotator="filters.urls:UrlBannedWords", source=FINEWEB_URL,
                 options={"lists": Option("lists", FINEWEB_WORD_LISTS, is_path=True)})
    rules += [
        _flag("url_banned_word", **words,
              note="a banned word is one of the URL's alphanumeric words (lower-cased; datatrove does not "
                   "lower-case)"),
        _flag("url_banned_subword", **words,
              note="a banned sub-word inside the URL, non-alphanumerics removed"),
        _range("url_soft_banned_words", max=1, count=True, null_removes=False, **words,
               note="distinct soft-banned words in the URL; FineWeb removes at 2 (soft_word_threshold)"),
    ]
    return rules


def _lexicons() -> list[Rule]:
    return [_flag("badwords_ldnoobw", "badwords", "filters.lexicons:BadWords", column="badwords_match",
                  source=LDNOOBW, note="the list of the document's language (py3langid); no list, no removal",
                  options={"lexicon": Option("lexicon", DEFAULT_LEXICON, is_path=True),
                           "language": Option("language", "detected")})]


def _language() -> list[Rule]:
    return [Rule(name="language", family="language", kind="language", column="language",
                 annotator="filters.language:LanguageId", default_min=0.65, default_languages=("en",),
                 fraction=True, source="FineWeb, Penedo et al. 2024 (fastText lid.176, English >= 0.65)",
                 note="py3langid 0.4 probabilities (softmax at temperature sqrt(bytes)), not fastText's; "
                      "a text with nothing to identify has no language and is removed")]


def _pii() -> list[Rule]:
    rule = _range("pii_entities", "pii", None, column="pii_total", max=5, count=True, null_removes=False,
                  source="Dolma v1.6, Soldaini et al. 2024 (more than 5 PII entities: document removed)",
                  note="entities of the benchmark's PII measurement (pii.mode, pii.entities, pii.score_threshold; "
                       "Dolma counted e-mail addresses, phone numbers and IP addresses); a document outside "
                       "pii.sample has no count and is kept")
    return [replace(rule, measured_by="pii")]


def _dedup() -> list[Rule]:
    return [Rule(name="exact_duplicate", family="dedup", kind="flag", column="exact_duplicate", annotator=None,
                 null_removes=False, measured_by="dedup",
                 source="exact-duplicate removal as in C4 / Gopher (here: the normalised text's 64-bit hash)",
                 note="the dedup stage sets it on every document whose normalised text (lower-cased, punctuation "
                      "dropped, words joined by single spaces) another document in the dedup scope has too, "
                      "all but the first by dedup.survivor; an empty text is never a duplicate")]


RULES: dict[str, Rule] = {rule.name: rule for family in (_gopher_quality, _gopher_repetition, _fineweb, _c4,
                                                         _urls, _lexicons, _language, _pii, _dedup)
                          for rule in family()}
