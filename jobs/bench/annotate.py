"""The whole annotate pass of the default preset on whole pages, one core, CPU seconds, and the identity checks
that make its speed count: the same PII findings as Presidio, per document, at the same threshold.

`bench_annotate_pass(documents)`: every annotator the default preset runs (the quality rules of every shipped
recipe, lid.176, the harm detectors, PII in regex mode at pii.score_threshold, MinHash), in annotate batches
as the Spark pass runs them, over whole pages; docs/s, MB/s and each annotator's share, beside the figure the
pass had before this work (BEFORE, measured the same way).

`pii_identity(texts, ...)`: PiiDetector against Presidio itself (`presidio_reference`: AnalyzerEngine with its
default recognizers and NLP configuration, one `analyze` per text with the same entities and threshold; spaCy
without the NER component, which no regex-mode entity reads) on pieces of the bench pages, on every labeled
text and on the whole pages of shard 0 that need context lemmas (those the enhancer lemmatizes in windows,
filters/pii_windows.py); counts the texts whose findings differ.

    python -m cc_sieve.jobs.bench.annotate [--documents N] [--pieces N]   # on shard 0 of build/bench/shards
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

from cc_sieve.filters.base import batch_of
from cc_sieve.filters.pii import (
    CHUNK_CHARS,
    LANGUAGE,
    SPACY_MODEL,
    Finding,
    PiiAnnotator,
    PiiDetector,
    default_nlp_configuration,
    split_entities,
    use_bundled_suffix_list,
)
from cc_sieve.filters.pii_eval import labeled_sets
from cc_sieve.filters.text import fixed_pieces
from cc_sieve.jobs.bench.adversarial import default_annotators
from cc_sieve.jobs.bench.timing import Measurement, megabytes, ratio_table
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.reader import ShardReport, read_shard
from cc_sieve.jobs.reading.sources import shard_opener

BATCH_DOCUMENTS = 256
# The default preset's pass before this work (commit 541ea57, PII threshold 0.5, py3langid): 28.8 CPU s for the
# first 1,000 pages of bench shard 0 (3,697 characters on average), measured as bench_annotate_pass measures.
BEFORE = {"docs_per_second": 34.8, "documents": 1000, "seconds": 28.8, "megabytes": 3.77,
          "commit": "541ea57", "pii_share": 0.842}
PIECE_CHARS = 2000


def bench_annotate_pass(documents: list[dict], annotators: list | None = None) -> tuple[list[Measurement], dict]:
    """The default preset's annotators over `documents` in annotate batches; rows for the pass and each annotator."""
    annotators = annotators if annotators is not None else default_annotators()
    seconds = {annotator.name: 0.0 for annotator in annotators}
    for start in range(0, len(documents), BATCH_DOCUMENTS):
        batch = batch_of(documents[start:start + BATCH_DOCUMENTS])
        for annotator in annotators:
            started = time.process_time()
            annotator.annotate(batch)
            seconds[annotator.name] += time.process_time() - started
    total = sum(seconds.values())
    size = megabytes(d["text"] for d in documents)
    on = f"{len(documents):,} whole pages of shard 0, 1 core, CPU seconds"
    rows = [Measurement("annotate", "whole pass, default preset", False, len(documents), size, total, on),
            *without_ner_sample(documents, annotators, total - seconds.get("pii", 0.0), size, on),
            Measurement("annotate", f"whole pass before ({BEFORE['commit']}, PII at 0.5)", True,
                        BEFORE["documents"], BEFORE["megabytes"], BEFORE["seconds"],
                        "first 1,000 pages of shard 0, 1 core, CPU seconds (constant: the code is gone)")]
    rows += [Measurement("annotate", f"  {name} ({value / total:.0%} of the pass)", False, len(documents), size,
                         value, on) for name, value in sorted(seconds.items(), key=lambda item: -item[1])]
    return rows, {"seconds": seconds, "total_seconds": total, "documents": len(documents), "megabytes": size}


def without_ner_sample(documents: list[dict], annotators: list, others_seconds: float, size: float,
                       on: str) -> list[Measurement]:
    """The pass as it is with `pii.ner_sample: 0` (the PII annotator's pattern types only), when the preset has a
    NER sample: the figure the pass is compared with from before the NER sample existed."""
    pii = next((annotator for annotator in annotators if annotator.name == "pii"), None)
    if pii is None or not pii.ner_sample:
        return []
    patterns_only = PiiAnnotator(mode=pii.detector.mode, entities=list(pii.detector.entities),
                                 score_threshold=pii.detector.score_threshold)
    started = time.process_time()
    for start in range(0, len(documents), BATCH_DOCUMENTS):
        patterns_only.annotate(batch_of(documents[start:start + BATCH_DOCUMENTS]))
    seconds = others_seconds + time.process_time() - started
    return [Measurement("annotate", "whole pass without the NER sample (pii.ner_sample 0)", False, len(documents),
                        size, seconds, on)]


def presidio_reference() -> AnalyzerEngine:
    """Presidio's AnalyzerEngine as its documentation builds it (default recognizers, default NLP configuration with
    the installed model), spaCy without its NER component: regex-mode entities do not read NER, and lemmas for
    context words come before it in the pipeline."""
    import spacy

    use_bundled_suffix_list()
    engine = NlpEngineProvider(nlp_configuration=default_nlp_configuration()).create_engine()
    engine.nlp = {LANGUAGE: spacy.load(SPACY_MODEL, exclude=["ner"])}
    return AnalyzerEngine(nlp_engine=engine)


def reference_findings(analyzer: AnalyzerEngine, texts: list[str], entities: tuple[str, ...],
                       threshold: float) -> list[list[Finding]]:
    return [sorted(Finding(r.start, r.end, r.entity_type)
                   for r in analyzer.analyze(text, LANGUAGE, entities=list(entities), score_threshold=threshold))
            for text in texts]


def needing_lemmas(detector: PiiDetector, texts: list[str]) -> list[str]:
    """The texts (up to CHUNK_CHARS long: Presidio's reference reads them whole) whose context lemmas the detector
    makes, in windows or for the whole text."""
    chosen = []
    for text in texts:
        made = detector.enhancer.completed
        detector.find([text])
        if detector.enhancer.completed > made and len(text) <= CHUNK_CHARS:
            chosen.append(text)
    return chosen


def pii_identity(pieces: list[str], entities: Sequence[str] | None, threshold: float,
                 pages: list[str] = ()) -> tuple[list[Measurement], dict]:
    """Texts whose findings differ between PiiDetector and Presidio, on `pieces`, on every labeled text and on the
    whole `pages` that need context lemmas."""
    detector = PiiDetector(entities=entities, score_threshold=threshold)
    analyzer = presidio_reference()
    labeled = [item.text for item in labeled_sets(large=True)]
    result, rows = {}, []
    for name, texts in (("bench pieces", pieces), ("labeled sets", labeled),
                        ("whole pages needing lemmas", needing_lemmas(detector, list(pages)))):
        if not texts:
            continue
        windows = detector.enhancer.windows.windows
        started = time.process_time()
        ours = detector.find(texts)
        our_seconds = time.process_time() - started
        started = time.process_time()
        reference = reference_findings(analyzer, texts, detector.entities, threshold)
        reference_seconds = time.process_time() - started
        differing = sum(a != b for a, b in zip(ours, reference, strict=True))
        result[name] = {"texts": len(texts), "differing": differing, "findings": sum(map(len, ours)),
                        "reference_findings": sum(map(len, reference))}
        on = f"{len(texts):,} {name} ({differing} differ), 1 core, CPU seconds"
        rows += [Measurement("pii-identity", f"cc-sieve PiiDetector, {name}", False, len(texts), megabytes(texts),
                             our_seconds, on),
                 Measurement("pii-identity", f"Presidio AnalyzerEngine per text, {name}", True, len(texts),
                             megabytes(texts), reference_seconds, on)]
        result[name]["lemma_windows"] = detector.enhancer.windows.windows - windows
        print(f"[pii-identity] {name}: {differing} of {len(texts):,} texts differ from Presidio at score >= "
              f"{threshold} ({result[name]['findings']:,} findings, Presidio {result[name]['reference_findings']:,}; "
              f"{result[name]['lemma_windows']:,} lemma windows)")
    return rows, result


def read_pages(path: Path, limit: int | None = None) -> list[dict]:
    return list(itertools.islice(read_shard(str(path), shard_opener(str(path)), ShardReport(str(path))), limit))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.annotate", description=__doc__.split("\n")[0])
    parser.add_argument("--shards", default="build/bench/shards", help="folder of `make bench`'s shards")
    parser.add_argument("--documents", type=int, help="pages of shard 0 (default: all)")
    parser.add_argument("--pieces", type=int, default=10_000, help="2,000-character pieces for the PII identity")
    parser.add_argument("--no-identity", action="store_true", help="time the pass only")
    args = parser.parse_args(argv)
    paths = sorted(Path(args.shards).rglob("*.warc.gz"))
    documents = read_pages(paths[0], args.documents)
    rows, _ = bench_annotate_pass(documents)
    if args.no_identity:
        print(ratio_table(rows))
        return 0
    pii = load_benchmark_config().pii
    pieces: list[str] = []
    for path in paths:
        pieces += fixed_pieces([d["text"] or "" for d in read_pages(path)], PIECE_CHARS)
        if len(pieces) >= args.pieces:
            break
    identity, _ = pii_identity(pieces[:args.pieces], split_entities(pii.mode, pii.entities, pii.ner_sample)[0],
                               pii.score_threshold, [d["text"] for d in documents if d["text"]])
    print(ratio_table(rows + identity))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.annotate"))
