"""Throughput of the harm detectors (filters/harm.py) on real documents, one core, no Spark.

Two stages for `cc-sieve bench`:
- harm: HarmAnnotator over the documents in annotate-sized batches (every text detector; language
  identification included, which the annotate pass shares with the other annotators of a batch;
  the documents carry no URL, and a URL lookup is a hash and a binary search);
- profanity: alt-profanity-check over every line of the English documents in one call, beside the
  reference, one call per line, timed on the first REFERENCE_LINES lines (a call costs ~10 ms whatever
  its size, so the reference over every line would take minutes). Counted in lines, not documents.
Building the annotator (lists, models: several seconds) is left out of the timings.

    python -m cc_sieve.jobs.bench.harm          # the 697 documents of the bundled Dolma JSONL sample
"""

from __future__ import annotations

import sys

from cc_sieve.filters.harm import ENGLISH, HarmAnnotator, ProfanityScorer, text_lines
from cc_sieve.filters.language import FastTextLanguageIdentifier
from cc_sieve.jobs.bench.quality import sample_documents
from cc_sieve.jobs.bench.timing import Measurement, megabytes, ratio_table, timed
from cc_sieve.jobs.errors import run_command

BATCH_DOCUMENTS = 1024
REFERENCE_LINES = 1000




def bench_harm(texts: list[str]) -> list[Measurement]:
    annotator = HarmAnnotator(url_categories=())

    def annotate_all() -> int:
        for start in range(0, len(texts), BATCH_DOCUMENTS):
            chunk = texts[start:start + BATCH_DOCUMENTS]
            annotator.annotate({"doc_id": list(range(len(chunk))), "text": chunk, "url": [None] * len(chunk),
                                "language": [None] * len(chunk)})
        return len(texts)

    count, seconds = timed(annotate_all)
    results = [Measurement("harm", "cc-sieve HarmAnnotator (text detectors)", False, count, megabytes(texts),
                           seconds)]

    scorer = ProfanityScorer()
    identifier = FastTextLanguageIdentifier.shared()
    english = [text for text in texts if identifier.classify(text)[0] == ENGLISH]
    lines = sum(len(text_lines(text)) for text in english)
    _, seconds = timed(lambda: len(scorer.max_line_scores(english)))
    results.append(Measurement("profanity", "alt-profanity-check, all lines per call (lines)", False, lines,
                               megabytes(english), seconds))
    reference = [line for text in english for line in text_lines(text)][:REFERENCE_LINES]

    def one_line_per_call() -> int:
        for line in reference:
            scorer.predict_prob([line])
        return len(reference)

    count, seconds = timed(one_line_per_call)
    results.append(Measurement("profanity", "alt-profanity-check, one line per call (lines)", True, count,
                               megabytes(reference), seconds))
    return results


def main() -> int:
    print(ratio_table(bench_harm([doc["text"] or "" for doc in sample_documents()])))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.harm"))
