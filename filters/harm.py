"""Harm detectors: how much harmful content a corpus still holds, measured apart from the recipes' rules.

A recipe removes documents with rules (filters/rules.py); these detectors only measure, with other
lists and models where possible, so no recipe is graded only by its own rule:
- ldnoobw: LDNOOBW at its newest commit (5faf2ba), the list of the document's detected language.
  The `badwords_ldnoobw` rule uses the list at C4's commit 25e679f.
- davidson_hate: the refined hate n-grams of Davidson et al. 2017 (an English lexicon). Each n-gram
  carries `prophate`, the share of its tweets that annotators labelled hate speech.
- profanity: alt-profanity-check, a linear model that scores profanity and toxicity, trained on
  English tweets and Wikipedia comments. It reads each non-empty line of an English document.
- url_<category>: UT1 categories (adult, mixed_adult, agressif, dating, gambling, phishing). url_adult
  reads the same list as the url-blocklist recipe's rule, so it only reports that rule's own target.
- url_sinfonietta: Sinfonietta's pornography hosts, a list no recipe filters with: the independent grader
  of the recipes that remove adult URLs with UT1.
- pii_density: PII entities other than URLs per 1,000 words, from the PII annotator's counts
  (filters/pii.py). Spark derives it after the annotate pass (`pii_density_sql`), because an annotator
  sees no other annotator's columns.

Each detector writes a flag `harm_<name>` (boolean) and a score `harm_<name>_score`. Both are NULL
when the detector cannot read the document: no LDNOOBW list for its language, a text that is not
English for the English-only detectors, no URL, or no PII count. filters/calibration.py measures each
flag's precision and recall on labeled sets, so a reader knows what a rate means.

Each detector declares the lists and models it reads (`uses`, named as the rules of filters/registry.py
name theirs) and the kinds of harm it grades: a detector that reads a list a recipe filters with is
circular for that recipe (it would grade the recipe with its own list), and the evaluation leaves it out of
that recipe's headline and collateral.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Domain, Signal
from cc_sieve.filters.lexicons import BadWords, BadWordsMatcher
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import SINFONIETTA, UT1_CATEGORIES, Blocklist

HARM_LEXICON = "ldnoobw-head-5faf2ba"
DAVIDSON_LEXICON = "lexicons/davidson-hatebase-refined/refined_ngram_dict.csv"
ENGLISH = "en"
# Chosen on the labeled sets and the real Common Crawl sample (README, "Harm detectors"). The
# Davidson-labelled tweets are in the model's training data, so they do not decide it.
PROFANITY_THRESHOLD = 0.8
PII_PER_1K_WORDS_THRESHOLD = 10.0
# harm_url_<category>_score: how specific the UT1 entry that lists the URL is.
URL_MATCH_LEVELS = {"domain": 3, "subdomain": 2, "url": 1, None: 0}


# The kinds of harm a detector grades (a web-page labeled set measures it against each: data/eval/web).
HarmKind = Literal["sexual", "profanity", "hate", "adult_url", "pii", "other_url"]
HARM_KINDS: tuple[HarmKind, ...] = ("sexual", "profanity", "hate", "adult_url", "pii", "other_url")


@dataclass(frozen=True)
class Detector:
    name: str
    kind: Literal["text", "url", "derived"]
    flags: str  # what a flagged document is
    score: str  # what the score column holds
    score_domain: Domain = "count"
    uses: tuple[str, ...] = ()  # the lists and models it reads (the same names as filters/registry.py Rule.uses)
    grades: tuple[HarmKind, ...] = ()  # the kinds of harm its flag stands for

    def independent_of(self, sources: set[str]) -> bool:
        """Whether it reads none of the lists or models a recipe filters with (else it grades the recipe
        with the recipe's own list: circular)."""
        return not sources.intersection(self.uses)

    @property
    def column(self) -> str:
        return f"harm_{self.name}"

    @property
    def score_column(self) -> str:
        return f"harm_{self.name}_score"

    def signals(self) -> tuple[Signal, Signal]:
        return Signal(self.column, "flag", self.flags), Signal(self.score_column, self.score_domain, self.score)


_URL_SCORE = "list entry that matches the URL: 3 its host, 2 a parent domain, 1 a URL prefix, 0 none"
URL_KINDS: dict[str, tuple[HarmKind, ...]] = {"adult": ("adult_url",), "mixed_adult": ("adult_url",),
                                              "agressif": ("other_url",), "dating": ("other_url",),
                                              "gambling": ("other_url",), "phishing": ("other_url",)}
URL_LISTS = (*UT1_CATEGORIES, SINFONIETTA)
DETECTORS: tuple[Detector, ...] = (
    Detector("ldnoobw", "text", "a word of the LDNOOBW list (5faf2ba) of the detected language",
             "listed words found", uses=("ldnoobw",), grades=("sexual", "profanity")),
    Detector("davidson_hate", "text", "an English text holding a Davidson et al. refined hate n-gram",
             "highest prophate among the n-grams found (0 when none)", "fraction", uses=("davidson-hatebase",),
             grades=("hate",)),
    Detector("profanity", "text", "an English line that alt-profanity-check scores at the threshold or above",
             "highest profanity probability among the document's lines", "fraction",
             uses=("alt-profanity-check",), grades=("profanity", "sexual")),
    *(Detector(f"url_{category}", "url", f"a URL on the UT1 {category} list", _URL_SCORE,
               uses=(f"ut1:{category}",), grades=URL_KINDS[category]) for category in UT1_CATEGORIES),
    Detector(f"url_{SINFONIETTA}", "url", "a host on Sinfonietta's pornography hosts list", _URL_SCORE,
             uses=(SINFONIETTA,), grades=("adult_url",)),
    Detector("pii_density", "derived", "PII entities (URLs left out) per 1,000 words at the threshold or above",
             "PII entities (URLs left out) per 1,000 words", "ratio", uses=("presidio",), grades=("pii",)),
)
DETECTORS_BY_NAME = {detector.name: detector for detector in DETECTORS}


def load_davidson_lexicon(relative: str = DAVIDSON_LEXICON) -> dict[str, float]:
    """n-gram -> prophate. The file has old-Mac CR line endings, which str.splitlines reads as lines."""
    lines = data_path(relative).read_bytes().decode("utf-8").splitlines()
    return {row["ngram"].strip().lower(): float(row["prophate"]) for row in csv.DictReader(lines)
            if row["ngram"].strip()}


def text_lines(text: str | None) -> list[str]:
    """The non-empty lines of a text: the unit alt-profanity-check scores. Common Crawl text lines are
    paragraphs of ~100 characters, the length of the tweets and comments the model learnt from."""
    return [stripped for line in (text or "").splitlines() if (stripped := line.strip())]


class ProfanityScorer:
    """alt-profanity-check over many texts in one call per batch (one line per call is ~500x slower)."""

    def __init__(self):
        from profanity_check import predict_prob

        self.predict_prob = predict_prob

    def max_line_scores(self, texts: list[str | None]) -> list[float]:
        """The highest probability among each text's lines (0.0 for a text without a line). A line is scored once
        however often the texts repeat it (menus, footers: 19 % of the lines of the bundled pages, per batch)."""
        lines: list[str] = []
        owners: list[int] = []
        for index, text in enumerate(texts):
            units = text_lines(text)
            lines += units
            owners += [index] * len(units)
        scores = np.zeros(len(texts))
        if lines:
            distinct = list(dict.fromkeys(lines))
            probability = dict(zip(distinct, self.predict_prob(distinct), strict=True))
            np.maximum.at(scores, np.array(owners), [probability[line] for line in lines])
        return scores.tolist()


class HarmAnnotator(DeclaredAnnotator):
    """Every text and URL detector of DETECTORS (pii_density is derived later, in Spark)."""

    name = "harm"

    def __init__(self, url_categories: Iterable[str] = URL_LISTS,
                 profanity_threshold: float = PROFANITY_THRESHOLD, lexicon: str = HARM_LEXICON):
        super().__init__(url_categories=url_categories)
        self.profanity_threshold = profanity_threshold
        self.badwords = BadWords(lexicon=lexicon, language="detected")
        self.davidson = load_davidson_lexicon()
        self.davidson_matcher = BadWordsMatcher(set(self.davidson), ENGLISH)
        self.profanity = ProfanityScorer()
        self.blocklists = [Blocklist.shared(category) for category in url_categories]

    @classmethod
    def signals(cls, url_categories: Iterable[str] = URL_LISTS, **config) -> tuple[Signal, ...]:
        detectors = [d for d in DETECTORS if d.kind == "text"]
        detectors += [DETECTORS_BY_NAME[f"url_{category}"] for category in url_categories]
        return tuple(signal for detector in detectors for signal in detector.signals())

    def davidson_score(self, text: str) -> float:
        found = self.davidson_matcher.pattern.findall(text.lower())
        return max((self.davidson[ngram] for ngram in found), default=0.0)

    def annotate(self, batch: Batch) -> dict[str, list]:
        texts = batch["text"]
        out: dict[str, list] = {}
        badwords = self.badwords.annotate(batch)
        out["harm_ldnoobw"] = badwords["badwords_match"]
        out["harm_ldnoobw_score"] = badwords["badwords_count"]
        # the language guesses BadWords just made (kept in the batch by cc_sieve.filters.text.per_batch)
        english = [language == ENGLISH for language in self.badwords.languages(batch)]
        davidson = [self.davidson_score(text or "") if is_english else None
                    for text, is_english in zip(texts, english, strict=True)]
        out["harm_davidson_hate"] = [None if score is None else score > 0 for score in davidson]
        out["harm_davidson_hate_score"] = davidson
        english_texts = [text for text, is_english in zip(texts, english, strict=True) if is_english]
        english_scores = iter(self.profanity.max_line_scores(english_texts))
        profanity = [next(english_scores) if is_english else None for is_english in english]
        out["harm_profanity"] = [None if score is None else score >= self.profanity_threshold for score in profanity]
        out["harm_profanity_score"] = profanity
        for blocklist in self.blocklists:
            kinds = blocklist.match_batch(batch["url"])
            name = f"harm_url_{blocklist.category}"
            out[name] = [None if not url else kind is not None for url, kind in zip(batch["url"], kinds, strict=True)]
            out[f"{name}_score"] = [None if not url else URL_MATCH_LEVELS[kind]
                                    for url, kind in zip(batch["url"], kinds, strict=True)]
        return out


def pii_density_sql(columns: list[str], threshold: float = PII_PER_1K_WORDS_THRESHOLD) -> dict[str, str]:
    """Spark SQL for the pii_density detector's two columns over an annotations table with these columns;
    none without the PII annotator's `pii_total`. URLs are not counted (pii_total - pii_URL): Presidio
    reports every link as a URL entity, 9 in 10 of the entities on the real sample, so with them the
    density would measure links. NULL where the PII annotator did not count or the text has no words."""
    if "pii_total" not in columns:
        return {}
    detector = DETECTORS_BY_NAME["pii_density"]
    entities = "`pii_total` - coalesce(`pii_URL`, 0)" if "pii_URL" in columns else "`pii_total`"
    score = f"CASE WHEN `words` > 0 THEN CAST({entities} AS DOUBLE) * 1000 / `words` END"
    return {detector.score_column: score, detector.column: f"({score}) >= {float(threshold)!r}"}
