"""Metric names, and every metric derived from the counts the evaluation collects, with its uncertainty.

Every metric a benchmark logs is named here and only here: MLflow, the report, the notebook, the console
table and the tests read these names. Spark (jobs/spark/evaluate.py) only counts, per random bucket of
documents (a hash of doc_id) and per language group; every rate, change and interval is computed here:

- an interval is a bootstrap over the buckets (documents fall into buckets at random, so resampling buckets
  resamples documents, and a heavy-tailed count per document is resampled as it is); a change against the
  unfiltered input resamples the same buckets for both (paired), so it is as sure as the data allow; entities
  per 1,000 documents of a type NER reads on a sample take the expanded percentiles of few documents
  (`expanded_percentiles`) or, from too few, every value the words allow (`Evaluator.sampled_per_1k`);
- a harm detector's rate is given three ways: flagged among all kept documents, among the kept documents it
  can read (its coverage: an English-only detector does not read a German page), and corrected for its
  web-page recall and specificity (Rogan-Gladen; the interval also resamples the labeled set). Specificity,
  not precision, goes into the correction because precision moves with prevalence, and a recipe changes the
  prevalence it is measured at;
- a change is split into a within-language part (the recipe's rate in each language group, weighted by the
  unfiltered input's language mix) and a composition part (what the change of mix alone does); the
  within-language part is the headline, so keeping more English pages does not move an English-only rate;
- a change whose interval holds 0 is "no measurable change" (its `measurable` metric is 0).

One sign convention everywhere: a change is recipe minus unfiltered (plus: more of it), in the rate's own
units (a share; the console shows points) and relative to the unfiltered rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from cc_sieve.filters.pii import NER_ENTITIES
from cc_sieve.filters.web_calibration import stratified_replicates

# ---------------------------------------------------------------------------------------------
# Names
#
# A handful of headline metrics have plain names (HEADLINE); every other one sits under a prefix ending in
# "/", which MLflow's chart view turns into a section: count/, removed_first/, removed_any/, harm/, pii/,
# dup/, truth/, and on the benchmark's parent run input/, seconds/, throughput/ and unfiltered/.

RETENTION_DOCS, RETENTION_WORDS, RETENTION_CHARS = "retention_docs", "retention_words", "count/retention_chars"
DOCS_IN, DOCS_KEPT, DOCS_REMOVED = "count/docs_in", "count/docs_kept", "count/docs_removed"
CHARS_IN, CHARS_KEPT, WORDS_IN, WORDS_KEPT = "count/chars_in", "count/chars_kept", "count/words_in", "count/words_kept"
COLLATERAL = "collateral"  # share of removed documents that none of the recipe's independent detectors flags
REMOVED_UNFLAGGED = "count/removed_unflagged"
NEAR_DUP_RATE = "near_dup_rate"  # headline: kept documents with another kept one at estimated Jaccard >= 0.8
PII_DOC_RATE = "pii_doc_rate"  # headline: kept documents the PII measurement scanned that hold an entity
# headline: kept documents NER read holding a name, place or date, or a contact or ID number (filters/pii.py)
PII_PEOPLE_RATE = "pii_people_doc_rate"
PII_PER_1K_DOCS, PII_SCANNED, PII_NER_SCANNED = "pii/per_1k_docs", "pii/scanned_docs", "pii/ner_scanned_docs"
EXACT_DUP_RATE = "dup/exact/rate"
DEDUP_RULE = "dedup"  # the name removals by a recipe's dedup step go under
NEAR_DUP_LEVELS = (0.5, 0.7, 0.8, 0.9)  # estimated word 5-gram Jaccard levels of the duplicate measure
HEADLINE_NEAR_DUP_LEVEL = 0.8
# Each harm kind's headline grader: the first of these detectors that is independent of the recipe.
KIND_GRADERS = {"sexual": ("ldnoobw", "profanity"), "profanity": ("profanity", "ldnoobw"),
                "hate": ("davidson_hate",), "adult_url": ("url_sinfonietta", "url_adult", "url_mixed_adult")}
HEADLINE = {
    RETENTION_DOCS: "share of the input's documents the recipe keeps",
    RETENTION_WORDS: "share of the input's words the recipe keeps",
    NEAR_DUP_RATE: "kept documents with another kept document at estimated word 5-gram Jaccard >= 0.8",
    PII_DOC_RATE: "kept documents (among those the PII measurement scanned) holding a PII entity",
    PII_PEOPLE_RATE: "kept documents (among those spaCy's NER read: a seeded sample) holding a name, place or date "
                     "(NER) or an e-mail address, phone, card, SSN or IBAN number",
    COLLATERAL: "removed documents that none of the recipe's independent harm detectors flags",
    **{f"{kind}_change": f"change of the {kind} prevalence (corrected for the headline grader's web-page recall "
                         f"and specificity) against the unfiltered input, within each language group, as a share "
                         f"(-0.02: 2 points less); absent when no calibrated independent detector grades it"
       for kind in KIND_GRADERS},
}


def headline_change(kind: str) -> str:
    return f"{kind}_change"


def removed_first(rule: str) -> str:
    """Documents this rule removed first, in recipe order."""
    return f"removed_first/{rule}"


def removed_any(rule: str) -> str:
    """Documents this rule would remove, whatever removed them first."""
    return f"removed_any/{rule}"


def is_removal(name: str) -> bool:
    return name.startswith(("removed_first/", "removed_any/"))


def rule_of(name: str) -> str:
    return name.split("/", 1)[1]


def harm(detector: str, measure: str = "rate") -> str:
    """`harm/<detector>/<measure>`: rate (flagged among kept), coverage (share of kept it reads),
    readable_rate (flagged among those), prevalence (corrected for recall and specificity), composition."""
    return f"harm/{detector}/{measure}"


def detector_of(name: str) -> str | None:
    """The detector a `harm/...` metric is about."""
    return name.split("/")[1] if name.startswith("harm/") else None


def pii_per_1k_docs(entity: str | None = None) -> str:
    """Entities of a type per 1,000 kept documents (without a type: of the types pii_total counts)."""
    return PII_PER_1K_DOCS if entity is None else f"{PII_PER_1K_DOCS}/{entity}"


def pii_doc_share(entity: str) -> str:
    """The share of the kept documents searched for a type that hold one."""
    return f"pii/doc_share/{entity}"


def near_dup_rate(level: float) -> str:
    """Kept documents that have another kept document at estimated Jaccard >= level (0.8: the headline)."""
    return NEAR_DUP_RATE if level == HEADLINE_NEAR_DUP_LEVEL else f"dup/near_{level:g}/rate"


def change(name: str) -> str:
    """Recipe minus unfiltered (within-language for harm rates), in the rate's own units."""
    return f"{name}/change"


def relative_change(name: str) -> str:
    """The change over the unfiltered rate."""
    return f"{name}/change_relative"


def measurable(name: str) -> str:
    """1 when the change's interval excludes 0, else 0 ("no measurable change")."""
    return f"{name}/measurable"


def interval(name: str, part: str) -> str:
    """`ci_low` or `ci_high` (95 %) of a metric."""
    return f"{name}/{part}"


def unfiltered(name: str) -> str:
    """A metric of the unfiltered input, logged on the benchmark's parent run."""
    return f"unfiltered/{name}"


def truth(name: str) -> str:
    """A planted-truth metric (make-shards' truth.jsonl)."""
    return f"truth/{name}"


def seconds(stage: str) -> str:
    return f"seconds/{stage}"


def throughput(name: str) -> str:
    return f"throughput/{name}"


# The parent run's input metrics
SHARDS, SHARDS_FAILED, RECORDS, RECORDS_SKIPPED, FAILURES, DOCUMENTS, INPUT_MEGABYTES = (
    "input/shards", "input/shards_failed", "input/records", "input/records_skipped", "input/failures",
    "input/documents", "input/megabytes")
ANNOTATE_FAILED = "input/annotate_failed_documents"  # an annotator over its time budget or raising: NULL values


# Counters Spark fills per bucket and language group (jobs/spark/evaluate.py), before any metric.
DOCS, CHARS, WORDS = "docs", "chars", "words"  # all documents, whatever a recipe keeps


def kept(name: str) -> str:
    """A counter over the documents a recipe keeps: docs, chars, words, pii_scanned, ..."""
    return f"kept.{name}"


def flagged(detector: str) -> str:
    return f"kept.{detector}.flagged"


def readable(detector: str) -> str:
    return f"kept.{detector}.readable"


def pii_entities(entity: str) -> str:
    """Entities of a type found in the kept documents searched for it."""
    return f"kept.pii_entities.{entity}"


def pii_holding(entity: str) -> str:
    """Kept documents searched for a type that hold at least one."""
    return f"kept.pii_holding.{entity}"


# The documents an entity type is searched in: every scanned one (`kept.pii_scanned`, `kept.pii_scanned_chars`),
# or for the NER types, when NER reads a sample of them, that sample (`kept.pii_ner_scanned`, ...)
PII_SCANNED_SET, PII_NER_SET = "pii_scanned", "pii_ner_scanned"
PII_PEOPLE_DOCS = "kept.pii_people_docs"  # of the NER types' set


def ner_set(ner_sampled: bool) -> str:
    return PII_NER_SET if ner_sampled else PII_SCANNED_SET


def searched_set(entity: str, ner_sampled: bool) -> str:
    return ner_set(ner_sampled) if entity in NER_ENTITIES else PII_SCANNED_SET


def chars_of(searched: str) -> str:
    """The characters of the kept documents searched (`kept(chars_of(...))`), what entities are counted against."""
    return f"{searched}_chars"


def near_dup(level: float) -> str:
    return f"kept.near_dup_{level:g}"


# ---------------------------------------------------------------------------------------------
# Intervals

Z_95 = 1.959963984540054


def ratio(numerator, denominator):
    """numerator / denominator elementwise, 0 where the denominator is 0 (arrays or numbers)."""
    numerator, denominator = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    shape = np.broadcast(numerator, denominator).shape
    return np.divide(numerator, denominator, out=np.zeros(shape), where=denominator != 0)


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (for a labeled set's precision and recall)."""
    if not n:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    @property
    def measurable(self) -> bool:
        """The interval excludes 0 (for a change: a measurable one)."""
        return self.low > 0 or self.high < 0

    def items(self, name: str) -> dict[str, float]:
        return {name: self.value, interval(name, "ci_low"): self.low, interval(name, "ci_high"): self.high}


class Resampler:
    """Bootstrap replicates over buckets of documents: weights[r, b] is how often replicate r draws bucket b."""

    def __init__(self, buckets: int, replicates: int = 1000, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.replicates = replicates
        self.weights = rng.multinomial(buckets, np.full(buckets, 1 / buckets), size=replicates).astype(float)

    def resample(self, counts: np.ndarray) -> np.ndarray:
        """[buckets, groups] counts -> [replicates, groups] resampled totals."""
        return np.tensordot(self.weights, counts, axes=(1, 0))


# ---------------------------------------------------------------------------------------------
# Calibration: a detector's web-page recall and specificity, resampled

@dataclass(frozen=True)
class DetectorCalibration:
    """The labeled web units a detector reads (data/eval/web): sampling weight back to the pool, stratum,
    whether it flags the unit and whether the unit holds a kind of harm the detector grades."""

    weights: np.ndarray
    strata: np.ndarray
    flagged: np.ndarray
    positive: np.ndarray

    MIN_LABELED = 5  # positives and negatives below which a correction is not estimable

    @classmethod
    def of(cls, units: Iterable[Mapping]) -> DetectorCalibration:
        units = list(units)
        return cls(np.array([u["weight"] for u in units], dtype=float),
                   np.array([str(u["stratum"]) for u in units]),
                   np.array([bool(u["flagged"]) for u in units]), np.array([bool(u["positive"]) for u in units]))

    def rates(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(recall, specificity) for each row of unit weights [..., units]."""
        positive, flagged = self.positive, self.flagged
        recall = ratio((weights * (positive & flagged)).sum(-1), (weights * positive).sum(-1))
        specificity = ratio((weights * (~positive & ~flagged)).sum(-1), (weights * ~positive).sum(-1))
        return recall, specificity

    @property
    def estimable(self) -> bool:
        """Enough labeled positives and negatives, and a flag that tells something (recall + specificity
        clearly above 1); otherwise the corrected prevalence is reported as not estimable."""
        recall, specificity = self.rates(self.weights)
        return bool(self.positive.sum() >= self.MIN_LABELED and (~self.positive).sum() >= self.MIN_LABELED
                    and recall + specificity - 1 > 0.05)

    def replicate_weights(self, replicates: int) -> np.ndarray:
        """[replicates, units]: each unit's weight times how often a within-stratum resample draws it."""
        return stratified_replicates(self.strata, replicates) * self.weights


def corrected(rate, recall, specificity):
    """Rogan-Gladen: the prevalence a flag rate implies given the detector's recall and specificity, clipped
    to [0, 1]; NaN where the flag tells nothing (recall + specificity <= 1)."""
    youden = np.asarray(recall, dtype=float) + np.asarray(specificity, dtype=float) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(youden > 0, (np.asarray(rate) + np.asarray(specificity) - 1) / youden, np.nan)
    return np.clip(value, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Totals: the counters summed over buckets (observed) or resampled (replicates)

Counts = Mapping[str, np.ndarray]  # counter name -> [buckets, language groups]


@dataclass
class Totals:
    """A recipe's counters and the unfiltered input's (`base(name)`), summed over buckets: arrays [groups]
    when observed, [replicates, groups] when resampled. `calibration(detector)` gives recall and specificity
    the same way (numbers, or one draw per replicate)."""

    recipe: Counts
    baseline: Counts
    resampler: Resampler | None = None
    calibration_draws: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def _total(self, counts: Counts, name: str) -> np.ndarray:
        key = (id(counts), name)
        if key not in self._cache:
            array = counts[name]
            self._cache[key] = array.sum(axis=0) if self.resampler is None else self.resampler.resample(array)
        return self._cache[key]

    def __call__(self, name: str) -> np.ndarray:
        return self._total(self.recipe, name)

    def base(self, name: str) -> np.ndarray:
        return self._total(self.baseline, name)

    def all(self, name: str) -> np.ndarray:
        """Summed over the language groups too: a number, or one per replicate."""
        return self(name).sum(-1)

    def calibration(self, detector: str) -> tuple[np.ndarray, np.ndarray]:
        return self.calibration_draws[detector]


def standardized(flagged_counts: np.ndarray, readable_counts: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """The flag rate with each language group's rate weighted by `mix` (the unfiltered input's readable
    documents per group); a group the recipe keeps none of leaves the average (the others renormalised)."""
    present = readable_counts > 0
    rates = ratio(flagged_counts, readable_counts)
    return ratio((rates * mix * present).sum(-1), (mix * present).sum(-1))


Metric = Callable[[Totals], np.ndarray]


def share(numerator: str, denominator: str) -> tuple[Metric, Metric]:
    """The share numerator / denominator of a recipe's kept documents, and of the unfiltered input's."""
    return (lambda t: ratio(t.all(numerator), t.all(denominator)),
            lambda t: ratio(t.base(numerator).sum(-1), t.base(denominator).sum(-1)))


def wilson(successes: float, n: float) -> Estimate:
    low, high = wilson_interval(successes, n)
    value = float(ratio(successes, n))
    return Estimate(value, min(low, value), max(high, value))  # the bounds' rounding never excludes the value


def per_1k(entities: list[str], ner_sampled: bool, side: Callable[[Totals, str], np.ndarray] = Totals.__call__
           ) -> Metric:
    """Entities of these types per 1,000 kept documents (of the recipe, or with Totals.base of the unfiltered
    input), a ratio estimate post-stratified by language group: in each group, the entities per character of the
    documents searched for the type times the characters of every kept document of the group (a group with no
    searched character takes the rate of all groups together), summed over the groups, over the kept documents.
    Entities grow with a document's length, and spaCy's English NER finds names at three times the English rate in
    Latin-script languages (it reads their capitalised words as names): length and language are known for every
    document, so this is much steadier than a mean per searched document when a sample is small and a few
    documents hold most entities. Characters rather than words: a CJK page has few spaced words for its text
    (docs/measurement.md: coverage, both measured). With every document searched it is the exact count."""
    def metric(t: Totals) -> np.ndarray:
        estimate = 0.0
        for where in {searched_set(e, ner_sampled) for e in entities}:
            found = sum(side(t, pii_entities(e)) for e in entities if searched_set(e, ner_sampled) == where)
            chars = side(t, kept(chars_of(where)))
            with np.errstate(divide="ignore", invalid="ignore"):
                pooled = found.sum(-1) / chars.sum(-1)  # NaN where nothing was searched: an undefined replicate
                rate = np.where(chars > 0, found / np.where(chars > 0, chars, 1), pooled[..., None])
            estimate = estimate + (rate * side(t, kept(CHARS))).sum(-1)
        return 1000 * ratio(estimate, side(t, kept(DOCS)).sum(-1))
    return metric


def expanded_percentiles(documents: float) -> tuple[float, float]:
    """The percentiles of Hesterberg's expanded percentile interval (2015, "What teachers should know about the
    bootstrap", The American Statistician 69(4), 371-386) for a 95 % interval of a mean-like estimate from n
    documents: the bootstrap distribution of a mean of n is too narrow by about sqrt((n - 1) / n) and its normal
    tails too short for a variance estimated from n, so the levels widen to Phi(+-sqrt(n / (n - 1)) t[n-1])."""
    z = math.sqrt(documents / (documents - 1)) * student_t.ppf(0.975, documents - 1)
    return 100 * float(norm.cdf(-z)), 100 * float(norm.cdf(z))


SAMPLED_PER_1K_MIN_READ, SAMPLED_PER_1K_MIN_HOLDING = 10, 2  # fewer: no interval narrower than the words allow
# Below this many documents NER read, the report calls a recipe's NER counts per 1,000 documents indicative.
# `make bench-ner-coverage NER_COPIES=K` (docs/measurement.md, Coverage and the input's size): 86-95 % coverage at
# 10-99 read, 92-95 % at 100-299, 92-97 % at 300-1,499 (lower at a 2 % sample), 97.5 % at ~3,600 read at 10 %,
# the only setting measured above 1,500; on copies of 716 pages, which lack a real input's heaviest pages.
SAMPLED_PER_1K_CHECKED_READ = 3500


def too_thin(totals: Totals, entity: str) -> bool:
    """Fewer than SAMPLED_PER_1K_MIN_READ kept documents NER read, or SAMPLED_PER_1K_MIN_HOLDING holding the type."""
    return (float(totals.all(kept(PII_NER_SET))) < SAMPLED_PER_1K_MIN_READ
            or float(totals.all(pii_holding(entity))) < SAMPLED_PER_1K_MIN_HOLDING)


def every_word_per_1k(totals: Totals) -> float:
    """One entity per word of the kept documents, per 1,000 of them: the most a count per document can be."""
    return float(1000 * ratio(totals.all(kept(WORDS)), totals.all(kept(DOCS))))


def sampled_per_1k_too_thin(metrics: Mapping[str, float], entity: str, prefix: str = "") -> bool:
    """Whether a NER type's entities per 1,000 documents (in `metrics`, names under `prefix`) came from too few
    sampled documents for an interval (`Evaluator.sampled_per_1k`): its bracket is then every value the pages'
    length allows."""
    read, share = metrics.get(prefix + PII_NER_SCANNED), metrics.get(prefix + pii_doc_share(entity))
    if read is None or share is None:
        return False
    return read < SAMPLED_PER_1K_MIN_READ or round(share * read) < SAMPLED_PER_1K_MIN_HOLDING


def sampled_share_change(removed_share: float, kept_share: tuple[float, float],
                         removed_sample: tuple[float, float]) -> Estimate:
    """The change of a share measured on a sample (the NER sample) when a recipe removes `removed_share` of the
    documents (known for every document): kept minus all = removed_share x (p_kept - p_removed), where p_kept and
    p_removed are the shares among the sampled kept and sampled removed documents, each (holding, sampled). Its
    interval is Newcombe's hybrid score interval of p_kept - p_removed (from the two Wilson intervals) scaled by
    removed_share. A recipe that removes few documents leaves few of them in a small sample, often none: the
    bucket bootstrap then sees no change at all ([0, 0]), while here no removed document sampled leaves p_removed
    anywhere in [0, 1] (the point taken at p_kept: no evidence of a difference)."""
    (kept_holding, kept_n), (removed_holding, removed_n) = kept_share, removed_sample
    p_kept, (kept_low, kept_high) = float(ratio(kept_holding, kept_n)), wilson_interval(kept_holding, kept_n)
    if not removed_n:  # p_kept - p_removed is anywhere in p_kept's interval less [0, 1]
        return Estimate(0.0, removed_share * (kept_low - 1), removed_share * kept_high)
    p_removed = float(ratio(removed_holding, removed_n))
    removed_low, removed_high = wilson_interval(removed_holding, removed_n)
    difference = p_kept - p_removed
    low = difference - math.hypot(p_kept - kept_low, removed_high - p_removed)
    high = difference + math.hypot(kept_high - p_kept, p_removed - removed_low)
    return Estimate(removed_share * difference, removed_share * low, removed_share * high)


@dataclass
class Evaluator:
    """Every recipe's metrics, with intervals, against the unfiltered input's counts."""

    baseline: Counts
    detectors: list[str]
    calibrations: Mapping[str, DetectorCalibration] = field(default_factory=dict)
    buckets: int = 1
    replicates: int = 1000

    def __post_init__(self) -> None:
        self.resampler = Resampler(self.buckets, self.replicates)
        self.observed_calibration, self.replicated_calibration = {}, {}
        for detector, calibration in self.calibrations.items():
            if calibration.estimable:
                self.observed_calibration[detector] = calibration.rates(calibration.weights)
                self.replicated_calibration[detector] = calibration.rates(
                    calibration.replicate_weights(self.replicates))

    def estimable(self, detector: str) -> bool:
        return detector in self.observed_calibration

    def observed(self, counts: Counts, metric: Metric) -> float:
        """The metric on the observed totals (no replicate)."""
        return float(metric(Totals(counts, self.baseline, None, self.observed_calibration)))

    def estimate(self, counts: Counts, metric: Metric, percentiles: tuple[float, float] = (2.5, 97.5)) -> Estimate:
        """The metric on the observed totals, and its 95 % interval: the 2.5 and 97.5 percentiles (or those given)
        over the replicates (a replicate where the metric is undefined, an empty denominator, is left out)."""
        value = self.observed(counts, metric)
        replicates = np.asarray(metric(Totals(counts, self.baseline, self.resampler, self.replicated_calibration)),
                                dtype=float)
        replicates = replicates[np.isfinite(replicates)]
        low, high = np.percentile(replicates, percentiles) if replicates.size else (value, value)
        return Estimate(value, float(min(low, value)), float(max(high, value)))

    def sampled_per_1k(self, counts: Counts, entity: str) -> Estimate:
        """Entities of a type NER reads on a sample per 1,000 kept documents (`per_1k`), and its 95 % interval: the
        bucket bootstrap at the expanded percentiles of the n sampled kept documents (`expanded_percentiles`).
        The bootstrap resamples both the documents and the NER sample among them, and a language group whose only
        sampled document leaves a replicate falls back to the pooled rate there, as the estimate would; what it
        misses with few documents, a few of which hold most entities, is width. With fewer than
        SAMPLED_PER_1K_MIN_READ documents read or SAMPLED_PER_1K_MIN_HOLDING holding the type, the sample says
        nothing of the tail: the interval is every value the kept documents' length allows, from 0 to one entity
        per word (docs/measurement.md: coverage)."""
        totals = Totals(counts, self.baseline)
        read = float(totals.all(kept(PII_NER_SET)))
        if too_thin(totals, entity):
            value = float(per_1k([entity], True)(totals))
            return Estimate(value, 0.0, max(value, every_word_per_1k(totals)))
        return self.estimate(counts, per_1k([entity], True), expanded_percentiles(read))

    def sampled_per_1k_changes(self, counts: Counts, entity: str) -> dict[str, float]:
        """The change of a NER type's entities per 1,000 documents against the unfiltered input (`changes`), read
        like the value itself (`sampled_per_1k`): the paired bucket bootstrap at the expanded percentiles of the n
        kept documents NER read (the recipe's estimate rests on them, the unfiltered input's on at least as many);
        from too few of them, every change the kept documents' length allows, from minus the unfiltered value to
        one entity per word less it. A recipe that removes nothing has no change at all."""
        name = pii_per_1k_docs(entity)
        recipe, base = per_1k([entity], True), per_1k([entity], True, Totals.base)
        totals = Totals(counts, self.baseline)
        read = float(totals.all(kept(PII_NER_SET)))
        if float(totals.all(kept(DOCS))) == float(totals.base(kept(DOCS)).sum()):  # the same documents: no change
            return self.changes(counts, name, recipe, base)
        if not too_thin(totals, entity):
            return self.changes(counts, name, recipe, base, expanded_percentiles(read))
        value, base_value, every_word = float(recipe(totals)), float(base(totals)), every_word_per_1k(totals)
        difference = Estimate(value - base_value, min(-base_value, value - base_value),
                              max(every_word - base_value, value - base_value))
        out = {**difference.items(change(name)), measurable(change(name)): float(difference.measurable)}
        if base_value > 0:
            out.update(Estimate(difference.value / base_value, difference.low / base_value,
                                difference.high / base_value).items(relative_change(name)))
        return out

    def changes(self, counts: Counts, name: str, metric: Metric, baseline_metric: Metric,
                percentiles: tuple[float, float] = (2.5, 97.5)) -> dict[str, float]:
        """The change of `name` against the unfiltered input (metric minus baseline_metric, on the same
        resampled buckets), its relative change, and whether it is measurable, each with an interval (at the
        bootstrap's `percentiles`)."""
        out: dict[str, float] = {}
        difference = self.estimate(counts, lambda t: metric(t) - baseline_metric(t), percentiles)
        out.update(difference.items(change(name)))
        out[measurable(change(name))] = float(difference.measurable)
        if self.observed(counts, baseline_metric) > 0:
            def relative(t: Totals) -> np.ndarray:
                base = baseline_metric(t)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(base > 0, (metric(t) - base) / base, np.nan)

            out.update(self.estimate(counts, relative, percentiles).items(relative_change(name)))
        return out

    def recipe_metrics(self, counts: Counts, circular: Iterable[str] = ()) -> dict[str, float]:
        """Every metric of one recipe from its counters. Collateral counts the removed documents that none of
        the recipe's independent detectors flags (Spark fills `removed_unflagged` with them). A detector
        `circular` for the recipe (it reads a list the recipe filters with) gets no corrected prevalence: a
        recipe that removes what the detector flags changes the detector's recall among what is kept, so the
        correction would not hold."""
        circular = set(circular)
        totals = Totals(counts, self.baseline)
        kept_docs, docs_in = float(totals.all(kept(DOCS))), float(totals.all(DOCS))
        out = {DOCS_IN: docs_in, DOCS_KEPT: kept_docs, DOCS_REMOVED: docs_in - kept_docs,
               CHARS_IN: float(totals.all(CHARS)), CHARS_KEPT: float(totals.all(kept(CHARS))),
               WORDS_IN: float(totals.all(WORDS)), WORDS_KEPT: float(totals.all(kept(WORDS)))}
        out[RETENTION_DOCS] = float(ratio(kept_docs, docs_in))
        out[RETENTION_CHARS] = float(ratio(out[CHARS_KEPT], out[CHARS_IN]))
        out[RETENTION_WORDS] = float(ratio(out[WORDS_KEPT], out[WORDS_IN]))
        for detector in self.detectors:
            out.update(self.harm_metrics(counts, detector, correct=detector not in circular))
        if REMOVED_UNFLAGGED in counts:
            out[REMOVED_UNFLAGGED] = float(totals.all(REMOVED_UNFLAGGED))
            if out[DOCS_REMOVED]:  # a recipe that removes nothing has no collateral share, not one of 0 in [0, 1]
                out.update(wilson(out[REMOVED_UNFLAGGED], out[DOCS_REMOVED]).items(COLLATERAL))
        out.update(self.pii_metrics(counts))
        out.update(self.duplicate_metrics(counts))
        return out

    def harm_metrics(self, counts: Counts, detector: str, correct: bool = True) -> dict[str, float]:
        """A detector's rates among the kept documents (Wilson intervals), its coverage, its within-language
        change against the unfiltered input and the composition part, and, when its web-page calibration
        allows, the corrected prevalence and its within-language change."""
        flags, reads = flagged(detector), readable(detector)
        totals = Totals(counts, self.baseline)
        kept_docs, read_docs, flagged_docs = (float(totals.all(name)) for name in (kept(DOCS), reads, flags))
        out: dict[str, float] = {harm(detector, "coverage"): float(ratio(read_docs, kept_docs))}
        out.update(wilson(flagged_docs, kept_docs).items(harm(detector, "rate")))
        out.update(wilson(flagged_docs, read_docs).items(harm(detector, "readable_rate")))

        def readable_rate(t: Totals) -> np.ndarray:
            return ratio(t.all(flags), t.all(reads))

        def base_readable_rate(t: Totals) -> np.ndarray:
            return ratio(t.base(flags).sum(-1), t.base(reads).sum(-1))

        def within_language(t: Totals) -> np.ndarray:
            return standardized(t(flags), t(reads), t.base(reads))

        out.update(self.changes(counts, harm(detector, "readable_rate"), within_language, base_readable_rate))
        out[harm(detector, "composition")] = float(readable_rate(totals) - within_language(totals))
        if correct and self.estimable(detector):
            def prevalence(t: Totals) -> np.ndarray:
                return corrected(readable_rate(t), *t.calibration(detector))

            def within_prevalence(t: Totals) -> np.ndarray:
                return corrected(within_language(t), *t.calibration(detector))

            def base_prevalence(t: Totals) -> np.ndarray:
                return corrected(base_readable_rate(t), *t.calibration(detector))

            out.update(self.estimate(counts, prevalence).items(harm(detector, "prevalence")))
            out.update(self.changes(counts, harm(detector, "prevalence"), within_prevalence, base_prevalence))
        return out

    def pii_metrics(self, counts: Counts) -> dict[str, float]:
        """PII among the kept documents each type was searched in (every scanned one; for the NER types, the NER
        sample when there is one): the share with an entity of the types pii_total counts, and with PII about
        people (Wilson), and per type the share holding it (Wilson) and entities per 1,000 documents (`per_1k`);
        each with its change against the unfiltered input (a share on the NER sample: `sampled_share_change`)."""
        if kept(PII_SCANNED_SET) not in counts:
            return {}
        totals = Totals(counts, self.baseline)
        ner_sampled = kept(PII_NER_SET) in counts
        searched = {name: float(totals.all(kept(name))) for name in (PII_SCANNED_SET, PII_NER_SET)
                    if kept(name) in counts}
        out: dict[str, float] = {PII_SCANNED: searched[PII_SCANNED_SET]}
        if ner_sampled:
            out[PII_NER_SCANNED] = searched[PII_NER_SET]
        shares = [(PII_DOC_RATE, kept("pii_docs"), PII_SCANNED_SET)]
        if PII_PEOPLE_DOCS in counts:
            shares.append((PII_PEOPLE_RATE, PII_PEOPLE_DOCS, ner_set(ner_sampled)))
        entities = sorted(name.rsplit(".", 1)[1] for name in counts if name.startswith("kept.pii_entities."))
        shares += [(pii_doc_share(e), pii_holding(e), searched_set(e, ner_sampled)) for e in entities]
        for name, holding, where in shares:
            if not searched[where]:  # no share among no documents
                continue
            out.update(wilson(float(totals.all(holding)), searched[where]).items(name))
            if where == PII_NER_SET:  # a sample of the scanned documents: kept and removed ones as two strata
                base_searched, base_scanned = (float(totals.base(kept(s)).sum()) for s in (where, PII_SCANNED_SET))
                holds, base_holds = float(totals.all(holding)), float(totals.base(holding).sum())
                difference = sampled_share_change(1 - searched[PII_SCANNED_SET] / base_scanned,
                                                  (holds, searched[where]),
                                                  (base_holds - holds, base_searched - searched[where]))
                out.update(difference.items(change(name)))
                out[measurable(change(name))] = float(difference.measurable)
            else:
                out.update(self.changes(counts, name, *share(holding, kept(where))))
        every_document = [e for e in entities if searched_set(e, ner_sampled) == PII_SCANNED_SET]
        groups = [(PII_PER_1K_DOCS, every_document)] if every_document else []
        groups += [(pii_per_1k_docs(e), [e]) for e in entities]
        for name, types in groups:
            if all(totals.all(kept(chars_of(searched_set(e, ner_sampled)))) for e in types):  # text to count in
                if searched_set(types[0], ner_sampled) == PII_NER_SET:  # a NER type's own rate, on the sample
                    out.update(self.sampled_per_1k(counts, types[0]).items(name))
                    out.update(self.sampled_per_1k_changes(counts, types[0]))
                    continue
                recipe, base = per_1k(types, ner_sampled), per_1k(types, ner_sampled, Totals.base)
                out.update(self.estimate(counts, recipe).items(name))
                out.update(self.changes(counts, name, recipe, base))
        return out

    def duplicate_metrics(self, counts: Counts) -> dict[str, float]:
        """Kept documents that have another kept document at each estimated Jaccard level, and exact copies."""
        measures = [(near_dup_rate(level), near_dup(level)) for level in NEAR_DUP_LEVELS]
        measures.append((EXACT_DUP_RATE, kept("exact_dup")))
        totals = Totals(counts, self.baseline)
        out: dict[str, float] = {}
        for name, counter in measures:
            if counter in counts:
                out.update(wilson(float(totals.all(counter)), float(totals.all(kept(DOCS)))).items(name))
                out.update(self.changes(counts, name, *share(counter, kept(DOCS))))
        return out


def headline_graders(graders: Mapping[str, str]) -> dict[str, str]:
    """Each harm kind's headline grader for a recipe: the first detector of KIND_GRADERS that it has and that is
    independent of the recipe's lists (`graders`: detector -> "independent" or "circular")."""
    chosen = {}
    for kind, candidates in KIND_GRADERS.items():
        independent = [d for d in candidates if graders.get(d) == "independent"]
        if independent:
            chosen[kind] = independent[0]
    return chosen


def headline_basis(metrics: Mapping[str, float], detector: str) -> str:
    """What a kind's headline change can say: the grader's corrected prevalence when its web-page calibration
    allows one (the change's interval then carries the detector's own errors), else nothing about harm: a flag
    rate's change follows the detector's errors as much as the harm (tests/integration/test_validity.py)."""
    return "prevalence" if change(harm(detector, "prevalence")) in metrics else "not estimable"


def headline_changes(metrics: Mapping[str, float], graders: Mapping[str, str]) -> dict[str, float]:
    """`<kind>_change` (and its interval): the within-language change of the corrected prevalence by the kind's
    headline grader; absent where its calibration is too thin (the flag rate's change stays under harm/)."""
    out = {}
    for kind, detector in headline_graders(graders).items():
        if headline_basis(metrics, detector) == "not estimable":
            continue
        source = change(harm(detector, "prevalence"))
        if source in metrics:
            out[headline_change(kind)] = metrics[source]
            for part in ("ci_low", "ci_high"):
                out[interval(headline_change(kind), part)] = metrics[interval(source, part)]
    return out


# ---------------------------------------------------------------------------------------------
# Words: one sign convention for every place a change is shown (console, report, MLflow descriptions,
# notebook): a change is recipe minus unfiltered, in points for a share, with the word "more" or "less".

def points(change_value: float) -> str:
    """A change of a share in points, with a second decimal where the first would read 0."""
    digits = 1 if abs(change_value) >= 0.0005 else 2
    return f"{100 * change_value:+.{digits}f} pts"


def says(metrics: Mapping[str, float], name: str, amount_of: Callable[[float], str] = points) -> str:
    """What the change of `name` against the unfiltered input says: "no measurable change" when its interval
    holds 0, else its amount (a share's in points, or as `amount_of` writes it) and relative change, e.g.
    "-2.1 pts, 30 % less"; "" when no change was measured."""
    value = metrics.get(change(name))
    if value is None:
        return ""
    low, high = metrics.get(interval(change(name), "ci_low")), metrics.get(interval(change(name), "ci_high"))
    if low is None or high is None or low <= 0 <= high:
        return "no measurable change"
    relative = metrics.get(relative_change(name))
    amount = f"{abs(relative):.0%} " if relative is not None else ""
    return f"{amount_of(value)}, {amount}{'more' if value > 0 else 'less'}"


def says_headline(metrics: Mapping[str, float], kind: str) -> str:
    """A kind of harm's headline change in words ("not estimable" without a calibrated independent grader)."""
    name = headline_change(kind)
    if name not in metrics:
        return "not estimable"
    low, high = metrics.get(interval(name, "ci_low")), metrics.get(interval(name, "ci_high"))
    if low is None or high is None or low <= 0 <= high:
        return "no measurable change"
    return f"{points(metrics[name])}, {'more' if metrics[name] > 0 else 'less'}"
