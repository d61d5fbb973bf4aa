"""Each harm detector and each PII entity type measured on real web pages: the labeled set of data/eval/web.

The units (601 passages and pages of the bundled Common Crawl samples, labeled by reading, see its README)
were drawn in strata, each unit with a weight back to its pool (pool size / sample size), so a weighted
precision or recall is an estimate for the pool, not for the oversampled flagged units. Intervals resample the
units within their strata (a stratified bootstrap, 95 % percentile).

A detector is scored against the labels of the kinds of harm it grades (filters/harm.py): sexual, profanity,
hate as labeled; an adult URL against "sexual" (a page on an adult site is sexual content, or it is a false
hit); pii_density against "pii_private". Detectors of other URL lists grade nothing the set labels. Only units a
detector reads count (an English-only detector does not read a German passage); the flags are the
detector's own, recomputed on each unit's text and URL at the benchmark's thresholds.

PII entity types: a span the detector finds is correct when it overlaps a labeled entity of its type; a
labeled entity is recalled when a found span of its type overlaps it.

`cc-sieve calibrate --write` stores the result (data/eval/web/calibration.json); the benchmark reads the
detectors' units from it to correct its rates for their recall and specificity (jobs/metrics.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cc_sieve.filters.harm import DETECTORS, HarmAnnotator
from cc_sieve.filters.pii import PiiDetector
from cc_sieve.filters.pii_context import CONTEXT_REQUIRED, with_context
from cc_sieve.filters.resources import data_path

WEB_UNITS = "eval/web/units.jsonl"
WEB_CALIBRATION = "eval/web/calibration.json"
LABEL_OF_KIND = {"sexual": "sexual", "profanity": "profanity", "hate": "hate", "adult_url": "sexual",
                 "pii": "pii_private"}
# the labeled set's language groups, as the benchmark names them (filters/language.py LANGUAGE_GROUPS)
GROUP_NAMES = {"english": "en", "latin": "latin", "cjk": "cjk", "cyrillic": "cyrillic", "other": "other"}
REPLICATES = 1000


def web_units() -> list[dict]:
    return [json.loads(line) for line in data_path(WEB_UNITS).read_text(encoding="utf-8").splitlines() if line]


def units_digest() -> str:
    return hashlib.sha256(data_path(WEB_UNITS).read_bytes()).hexdigest()


def weight_of(unit: Mapping) -> float:
    return unit["pool_size"] / unit["sample_size"]


def stratified_replicates(strata: np.ndarray, replicates: int = REPLICATES, seed: int = 1) -> np.ndarray:
    """[replicates, units]: how often each resample draws each unit, drawing within each stratum as many units
    as it holds (multiply by the units' weights to weight the replicate)."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((replicates, len(strata)))
    rows = np.arange(replicates)[:, None]
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        draws = members[rng.integers(0, len(members), size=(replicates, len(members)))]
        np.add.at(counts, (np.broadcast_to(rows, draws.shape), draws), 1)
    return counts


@dataclass(frozen=True)
class Share:
    """A weighted share with its 95 % stratified-bootstrap interval (None where nothing is counted)."""

    value: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high}


def weighted_share(numerator: np.ndarray, denominator: np.ndarray, weights: np.ndarray,
                   draws: np.ndarray) -> Share:
    """sum(w * numerator) / sum(w * denominator) over the units, and over each replicate of `draws`."""
    total = float((weights * denominator).sum())
    if not total:
        return Share(None, None, None)
    value = float((weights * numerator).sum()) / total
    replicated = draws * weights
    top, bottom = (replicated * numerator).sum(axis=1), (replicated * denominator).sum(axis=1)
    shares = top[bottom > 0] / bottom[bottom > 0]
    low, high = np.percentile(shares, [2.5, 97.5]) if shares.size else (value, value)
    return Share(value, float(min(low, value)), float(max(high, value)))


def detector_flags(units: list[dict], profanity_threshold: float, pii_per_1k_words: float,
                   pii_detector: PiiDetector) -> dict[str, list[bool | None]]:
    """Every detector's flag on every unit, as the annotate pass computes it (None: the detector cannot read it)."""
    annotator = HarmAnnotator(profanity_threshold=profanity_threshold)
    batch = {"doc_id": [unit["id"] for unit in units], "text": [unit["text"] for unit in units],
             "url": [unit["url"] for unit in units], "language": [None] * len(units)}
    out = annotator.annotate(batch)
    flags = {detector.name: out[detector.column] for detector in DETECTORS if detector.kind != "derived"}
    # pii_density: entities other than URLs per 1,000 words (filters/harm.py pii_density_sql)
    found = [with_context(text, findings) for text, findings in zip(batch["text"], pii_detector.find(batch["text"]),
                                                                     strict=True)]
    flags["pii_density"] = [None if not words else sum(f.type != "URL" for f in findings) * 1000 / words
                            >= pii_per_1k_words for findings, words in
                            zip(found, (len(text.split()) for text in batch["text"]), strict=True)]
    return flags


def detector_calibration(units: list[dict], flags: list[bool | None], labels: set[str],
                         draws: np.ndarray) -> dict:
    """One detector scored on the units it reads: precision, recall and specificity with intervals, per
    language group, and the units themselves (weight, stratum, flagged, positive, group) for the benchmark."""
    readable = [index for index, flag in enumerate(flags) if flag is not None]
    weights = np.array([weight_of(units[i]) for i in readable])
    flagged = np.array([bool(flags[i]) for i in readable])
    positive = np.array([bool(labels.intersection(units[i]["labels"])) for i in readable])
    groups = np.array([GROUP_NAMES[units[i]["language_group"]] for i in readable])
    sub = draws[:, readable]

    def scores(mask: np.ndarray) -> dict:
        w, d, x, y = weights[mask], sub[:, mask], flagged[mask], positive[mask]
        return {"units": int(mask.sum()), "positives": int(y.sum()), "flagged": int(x.sum()),
                "precision": weighted_share(x & y, x, w, d).as_dict(),
                "recall": weighted_share(x & y, y, w, d).as_dict(),
                "specificity": weighted_share(~x & ~y, ~y, w, d).as_dict()}

    everything = np.ones(len(readable), dtype=bool)
    result = scores(everything)
    result["by_group"] = {group: scores(groups == group) for group in sorted(set(groups))}
    result["unit_rows"] = [{"weight": float(w), "stratum": units[i]["stratum"], "flagged": bool(x),
                            "positive": bool(y), "group": str(g)}
                           for i, w, x, y, g in zip(readable, weights, flagged, positive, groups, strict=True)]
    return result


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def entity_calibration(units: list[dict], raw: list[list], types: Iterable[str], draws: np.ndarray) -> dict:
    """Per entity type: weighted precision (found spans overlapping a labeled entity of the type) and recall
    (labeled entities a found span of the type overlaps), with intervals, and the counts; the findings are
    counted as the PII annotator counts them, after the context check of filters/pii_context.py (the types it
    checks also give the count before it)."""
    weights = np.array([weight_of(unit) for unit in units])
    found = [with_context(unit["text"], findings) for unit, findings in zip(units, raw, strict=True)]
    result = {}
    for entity in types:
        correct, found_count, recalled, labeled = (np.zeros(len(units)) for _ in range(4))
        for index, (unit, findings) in enumerate(zip(units, found, strict=True)):
            gold = [(e["start"], e["end"]) for e in unit["entities"] if e["type"] == entity]
            spans = [(f.start, f.end) for f in findings if f.type == entity]
            found_count[index], labeled[index] = len(spans), len(gold)
            correct[index] = sum(any(overlaps(span, g) for g in gold) for span in spans)
            recalled[index] = sum(any(overlaps(g, span) for span in spans) for g in gold)
        before = sum(f.type == entity for findings in raw for f in findings)
        if not before and not labeled.sum():
            continue
        result[entity] = {"found": int(found_count.sum()), "labeled": int(labeled.sum()),
                          "precision": weighted_share(correct, found_count, weights, draws).as_dict(),
                          "recall": weighted_share(recalled, labeled, weights, draws).as_dict()}
        if entity in CONTEXT_REQUIRED:
            result[entity]["found_before_context_check"] = before
    return result


def web_calibration(profanity_threshold: float, pii_per_1k_words: float, pii_score_threshold: float) -> dict:
    """The whole calibration of the web labeled set at these thresholds (about a minute: Presidio's full mode
    on 601 units)."""
    units = web_units()
    draws = stratified_replicates(np.array([unit["stratum"] for unit in units]))
    regex = PiiDetector.shared("regex", score_threshold=pii_score_threshold)
    flags = detector_flags(units, profanity_threshold, pii_per_1k_words, regex)
    detectors = {}
    for detector in DETECTORS:
        labels = {LABEL_OF_KIND[kind] for kind in detector.grades if kind in LABEL_OF_KIND}
        if labels:
            detectors[detector.name] = {"labels": sorted(labels),
                                        **detector_calibration(units, flags[detector.name], labels, draws)}
    full = PiiDetector.shared("full", score_threshold=pii_score_threshold)
    found = full.find([unit["text"] for unit in units])
    return {"units_file": WEB_UNITS, "units_sha256": units_digest(), "units": len(units),
            "settings": {"profanity_threshold": profanity_threshold, "pii_per_1k_words": pii_per_1k_words,
                         "pii_score_threshold": pii_score_threshold},
            "detectors": detectors, "pii_entities": entity_calibration(units, found, full.entities, draws)}


def stored_calibration() -> dict | None:
    """The calibration `cc-sieve calibrate --write` stored, or None."""
    try:
        return json.loads(data_path(WEB_CALIBRATION).read_text())
    except FileNotFoundError:
        return None
