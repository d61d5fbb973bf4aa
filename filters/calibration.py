"""Precision and recall of each harm detector (filters/harm.py) at its threshold, on labeled sets.

A harm rate in a benchmark is only as good as the detector behind it. This module runs the detectors,
exactly as the annotate pass runs them, on the labeled sets of tweets and comments in data/eval/toxicity
(the web pages of data/eval/web are filters/web_calibration.py's, and the ones the benchmark corrects with):
- Davidson et al. 2017 tweets (80 % split; class 0 hate, 1 offensive, 2 neither);
- Jigsaw toxic comments (the detoxify sample of Kaggle's train.csv, and of its test.csv without the
  rows Kaggle left unscored, label -1), as two sets.
Two caveats travel with the figures (each row's `note`): alt-profanity-check was trained on the
Davidson tweets and on Kaggle's Jigsaw train.csv, and the Davidson n-grams were derived from the
Davidson tweets, so those rows are measured in-sample and flatter the detector; the Jigsaw test
sample is held out but small. The sets are tweets and comments, not web pages.
URL detectors have no labeled set: their rows say so (n 0, no precision), except url_adult, whose
coverage of a second, independent pornography host list (Sinfonietta's) is measured when that list
is present (../shared/data). pii_density has no labeled set either.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from cc_sieve.filters.harm import (
    DETECTORS,
    PII_PER_1K_WORDS_THRESHOLD,
    PROFANITY_THRESHOLD,
    HarmAnnotator,
    load_davidson_lexicon,
)
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import Blocklist, host_and_path

DAVIDSON_TWEETS = "eval/toxicity/davidson-labeled_data.split-shared80.csv"
JIGSAW_SAMPLES = {"jigsaw-train-sample": "eval/toxicity/jigsaw-detoxify-dummy-train.csv",
                  "jigsaw-test-sample": "eval/toxicity/jigsaw-detoxify-dummy-test.csv"}
JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
SINFONIETTA_HOSTS = "blocklists/sinfonietta-pornography-hosts"

IN_SAMPLE_PROFANITY = "in-sample: alt-profanity-check was trained on these texts, so this flatters it"
IN_SAMPLE_DAVIDSON = "in-sample: the n-grams and their prophate were derived from these tweets"


@dataclass(frozen=True)
class LabeledSet:
    """Texts with one or more boolean labels (label name -> one value per text)."""

    name: str
    texts: list[str]
    labels: dict[str, list[bool]]


def read_csv_rows(relative: str) -> list[dict[str, str]]:
    with open(data_path(relative), newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def davidson_tweets() -> LabeledSet:
    rows = read_csv_rows(DAVIDSON_TWEETS)
    return LabeledSet("davidson-tweets", [row["tweet"] for row in rows],
                      {"hate or offensive (class 0, 1)": [row["class"] in ("0", "1") for row in rows],
                       "hate (class 0)": [row["class"] == "0" for row in rows]})


def jigsaw_sample(name: str) -> LabeledSet:
    """The rows Kaggle scored (every label 0 or 1; -1 marks an unscored test row)."""
    rows = [row for row in read_csv_rows(JIGSAW_SAMPLES[name])
            if all(row[label] in ("0", "1") for label in JIGSAW_LABELS)]
    return LabeledSet(name, [row["comment_text"] for row in rows],
                      {"any of the 6 toxicity labels": [any(row[label] == "1" for label in JIGSAW_LABELS)
                                                        for row in rows],
                       "identity_hate": [row["identity_hate"] == "1" for row in rows]})


def score_row(detector: str, dataset: str, positive_label: str, threshold: str, flags: list[bool | None],
              truth: list[bool], note: str = "") -> dict:
    """One calibration row; an unread text (NULL flag: no list for its language, not English) counts as
    not flagged, as it does in a benchmark's harm rate."""
    flagged = [bool(flag) for flag in flags]
    true_positives = sum(f and t for f, t in zip(flagged, truth, strict=True))
    positives, flagged_count = sum(truth), sum(flagged)
    return {"detector": detector, "dataset": dataset, "positive_label": positive_label, "threshold": threshold,
            "n": len(truth), "positives": positives, "flagged": flagged_count, "true_positives": true_positives,
            "unread": sum(flag is None for flag in flags),
            "precision": true_positives / flagged_count if flagged_count else None,
            "recall": true_positives / positives if positives else None, "note": note}


def text_rows(labeled: LabeledSet, annotator: HarmAnnotator) -> list[dict]:
    columns = annotator.annotate({"doc_id": list(range(len(labeled.texts))), "text": labeled.texts,
                                  "url": [None] * len(labeled.texts), "language": [None] * len(labeled.texts)})
    davidson = labeled.name == "davidson-tweets"
    toxic_label = "hate or offensive (class 0, 1)" if davidson else "any of the 6 toxicity labels"
    hate_label = "hate (class 0)" if davidson else "identity_hate"
    profanity_note = IN_SAMPLE_PROFANITY if labeled.name in ("davidson-tweets", "jigsaw-train-sample") else \
        "held out from alt-profanity-check's training data (Kaggle's test set); few texts"
    lowest_prophate = min(load_davidson_lexicon().values())
    return [
        score_row("ldnoobw", labeled.name, toxic_label, "any listed word (5faf2ba, detected language's list)",
                  columns["harm_ldnoobw"], labeled.labels[toxic_label]),
        score_row("davidson_hate", labeled.name, hate_label,
                  f"any refined n-gram (prophate >= {lowest_prophate}); English only",
                  columns["harm_davidson_hate"], labeled.labels[hate_label], IN_SAMPLE_DAVIDSON if davidson else ""),
        score_row("profanity", labeled.name, toxic_label,
                  f"a line's probability >= {annotator.profanity_threshold}; English only",
                  columns["harm_profanity"], labeled.labels[toxic_label], profanity_note),
    ]


def sinfonietta_row() -> dict:
    """UT1 adult's coverage of Sinfonietta's pornography hosts (distinct hosts, "www." removed)."""
    threshold = "host, parent domain or URL prefix listed"
    label = "host on Sinfonietta's pornography list"
    try:
        path = data_path(SINFONIETTA_HOSTS)
    except FileNotFoundError:
        return score_row("url_adult", "sinfonietta-pornography-hosts", label, threshold, [], [],
                         f"{SINFONIETTA_HOSTS} not found (it is in ../shared/data)")
    entries = (line.split() for line in path.read_text(encoding="utf-8").splitlines())
    hosts = sorted({parts[0] for entry in entries if len(entry) == 2 and entry[0] == "0.0.0.0"
                    and (parts := host_and_path(entry[1])) is not None})
    kinds = Blocklist.shared("adult").match_batch(hosts)
    row = score_row("url_adult", "sinfonietta-pornography-hosts", label, threshold,
                    [kind is not None for kind in kinds], [True] * len(hosts),
                    "coverage of another maintainer's list, not a labeled set: it has no negatives, so no "
                    "precision")
    return {**row, "precision": None}


def unmeasured_row(detector: str, threshold: str, note: str) -> dict:
    return score_row(detector, "none", "", threshold, [], [], note)


@cache
def _calibration_rows(profanity_threshold: float, pii_per_1k_words: float) -> tuple[tuple[tuple, ...], ...]:
    annotator = HarmAnnotator(url_categories=(), profanity_threshold=profanity_threshold)
    labeled_sets = [davidson_tweets(), *(jigsaw_sample(name) for name in JIGSAW_SAMPLES)]
    rows = [row for labeled in labeled_sets for row in text_rows(labeled, annotator)]
    rows.append(sinfonietta_row())
    for detector in DETECTORS:
        if detector.kind == "url":
            rows.append(unmeasured_row(detector.name, "host, parent domain or URL prefix listed",
                                       "no labeled set of URLs: the rate counts listed URLs, nothing more"))
    rows.append(unmeasured_row("pii_density", f">= {pii_per_1k_words} PII entities (not URLs) per 1,000 words",
                               "no labeled set of documents by PII density: see the PII annotator's "
                               "evaluation on eval/pii"))
    order = {detector.name: index for index, detector in enumerate(DETECTORS)}
    rows.sort(key=lambda row: order[row["detector"]])  # stable: the data sets keep their order
    return tuple(tuple(row.items()) for row in rows)


def calibration_table(profanity_threshold: float = PROFANITY_THRESHOLD,
                      pii_per_1k_words: float = PII_PER_1K_WORDS_THRESHOLD) -> list[dict]:
    """One row per detector and labeled set: detector, dataset, positive_label, threshold, n, positives,
    flagged, true_positives, unread, precision, recall (None where undefined), note. Computed once per
    process and thresholds (about 10 s)."""
    return [dict(row) for row in _calibration_rows(profanity_threshold, pii_per_1k_words)]


def format_table(rows: list[dict]) -> str:
    """The rows as a plain-text table, for `cc-sieve calibrate` and logs."""
    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    header = f"{'detector':<16} {'labeled set':<30} {'positive means':<32} {'n':>6} {'flagged':>8} " \
             f"{'precision':>9} {'recall':>7}  threshold"
    lines = [header]
    for row in rows:
        lines.append(f"{row['detector']:<16} {row['dataset']:<30} {row['positive_label'][:32]:<32} {row['n']:>6,} "
                     f"{row['flagged']:>8,} {share(row['precision']):>9} {share(row['recall']):>7}  "
                     f"{row['threshold']}")
    notes = sorted({row["note"] for row in rows if row["note"]})
    if notes:
        lines += ["", "notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(lines)
