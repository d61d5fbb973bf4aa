"""Throughput of PII detection beside naive Presidio, on the same 2,000-character documents, one core.

`bench_pii(texts, quick)` times, on the same texts:
- cc-sieve regex mode and full mode (`cc_sieve.filters.pii.PiiDetector`: batched spaCy, lemmas only where context
  words can change a finding);
- the reference: Presidio as its documentation builds it (`AnalyzerEngine()`, the installed spaCy model)
  with one `analyze` call per document, every recognizer, the whole spaCy pipeline;
and says whether each mode's findings equal the reference's (its results restricted to the mode's entity
types and score threshold). Times are the process's CPU seconds (docs/s per core, whatever else runs on
the machine); building the engines is left out. Then regex mode inside a Spark pass (local[1]: the
annotate pass's mapInArrow, the PII annotator alone), timed on a second pass so that the Python worker
has its annotator built, as it has for every batch after its first.

    python -m cc_sieve.jobs.bench.pii [--quick]     # 2,000-character pieces of the bundled Dolma JSONL sample
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.pii import Finding, PiiAnnotator, PiiDetector, naive_analyzer
from cc_sieve.filters.pii_eval import format_table, labeled_sets, pii_accuracy_table
from cc_sieve.filters.text import fixed_pieces
from cc_sieve.jobs.bench.quality import sample_documents
from cc_sieve.jobs.bench.timing import Measurement, cpu_timed, megabytes, ratio_table
from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA
from cc_sieve.jobs.spark.annotate import annotate_documents
from cc_sieve.jobs.spark.session import get_spark

PIECE_CHARS = 2000
QUICK_DOCUMENTS = 40
DOCUMENTS = 400
SPARK_DOCUMENTS = 1000




def naive_findings(analyzer, texts: list[str]) -> list[list]:
    return [analyzer.analyze(text, language="en") for text in texts]


def restricted(results, entities: tuple[str, ...], threshold: float) -> list[Finding]:
    return sorted(Finding(r.start, r.end, r.entity_type) for r in results
                  if r.entity_type in entities and r.score >= threshold)


def bench_pii(texts: list[str], quick: bool) -> list[Measurement]:
    """Regex mode, full mode and naive Presidio on the same texts (pieces of PIECE_CHARS characters), regex
    mode in Spark; prints whether the findings are the same, and each mode's accuracy on the labeled sets."""
    texts = fixed_pieces(texts, PIECE_CHARS)[:QUICK_DOCUMENTS if quick else DOCUMENTS]
    size = megabytes(texts)
    naive = naive_analyzer()
    naive.analyze("warm-up: call 555-0100", language="en")
    reference, seconds = cpu_timed(lambda: naive_findings(naive, texts))
    on = f"{len(texts):,} pieces of {PIECE_CHARS:,} characters, 1 core, CPU seconds"
    results = [Measurement("pii", "Presidio naive (AnalyzerEngine(), per doc)", True, len(texts), size,
                           seconds, on)]
    for mode in ("regex", "full"):
        detector = PiiDetector(mode)
        detector.find(["warm-up: call 555-0100"])
        detector.enhancer.completed = 0
        found, seconds = cpu_timed(lambda detector=detector: detector.find(texts))
        expected = [restricted(r, detector.entities, detector.score_threshold) for r in reference]
        differing = sum(a != b for a, b in zip(found, expected, strict=True))
        print(f"[pii] {mode} mode: {sum(map(len, found)):,} findings; documents whose findings differ from naive "
              f"Presidio's (restricted to the mode's {len(detector.entities)} types, score >= "
              f"{detector.score_threshold}): {differing} of {len(texts)}; lemmas made for "
              f"{detector.enhancer.completed} documents")
        results.append(Measurement("pii", f"cc-sieve PiiDetector {mode} mode", False, len(texts), size, seconds,
                                   on))
        labeled = labeled_sets(large=not quick)
        table = format_table(mode, pii_accuracy_table(mode, labeled, detector))
        print(f"[pii] on {len(labeled):,} labeled texts\n{table}")
    results += bench_spark_regex(texts, SPARK_DOCUMENTS // 10 if quick else SPARK_DOCUMENTS)
    return results


def bench_spark_regex(texts: list[str], count: int) -> list[Measurement]:
    """Regex mode in the annotate pass on local[1], a second pass over `count` documents: its wall time, and
    the time the Python worker spent in the annotator (the pass less Spark's own work and Arrow transfers)."""
    texts = (texts * (count // len(texts) + 1))[:count]
    rows = [{"doc_id": f"bench-{index:06d}", "source_shard": "bench", "text": text, "text_chars": len(text),
             "record_type": "response"} for index, text in enumerate(texts)]
    spark = get_spark("cc-sieve bench pii", master="local[1]")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pii-") as folder:
            path = Path(folder) / "documents.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), path)
            documents = spark.read.parquet(str(path))
            spec = AnnotatorSpec.of(PiiAnnotator, mode="regex")
            seconds = in_annotator = 0.0
            for _ in range(2):
                annotations, timers = annotate_documents(spark, documents.coalesce(1), [spec])
                started = time.perf_counter()
                annotations.write.format("noop").mode("overwrite").save()
                seconds = time.perf_counter() - started
                in_annotator = sum(timer.value for timer in timers.values())
    finally:
        spark.stop()
    on = f"{count:,} pieces of {PIECE_CHARS:,} characters, local[1], second pass, wall seconds"
    return [Measurement("pii-spark", "cc-sieve regex mode, Spark annotate pass", False, count, megabytes(texts),
                        seconds, on),
            Measurement("pii-spark", "cc-sieve regex mode, its annotator in the pass", False, count,
                        megabytes(texts), in_annotator, on)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.pii", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DOCUMENTS} documents")
    args = parser.parse_args(argv)
    print(ratio_table(bench_pii([doc["text"] or "" for doc in sample_documents()], args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
