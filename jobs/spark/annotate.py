"""The annotate pass: every annotator over every document, once, in Arrow batches (mapInArrow).

Annotators are named by `AnnotatorSpec` (a class and its keyword arguments), so the same spec
is built once per Python worker and reused for every batch and partition. The
annotations table keeps the document's metadata and every signal, but never its text.

Crawled text is hostile, so no document can stall or fail a task. Each annotator runs on a batch within a
CPU-time budget (DOCUMENT_BUDGET_SECONDS plus BATCH_ALLOWANCE_SECONDS per document); a batch that runs over
it or raises is done again one document at a time, each document within DOCUMENT_BUDGET_SECONDS. A document
that runs over gets NULL in that annotator's columns and a row (annotator, "too_slow", seconds) in its
`annotate_failures` list; one that raises gets NULLs and (annotator, the exception's class, seconds). The
task goes on. The budget is CPU time of the Python worker (a SIGPROF timer, so the main thread only, as a
PySpark worker runs the pass): other work on the machine does not make a document "too slow".
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

from cc_sieve.filters.base import Annotator, AnnotatorSpec
from cc_sieve.jobs.redact import redact_uri

# Document columns carried into the annotations table (everything except the text). The
# record's declared language is renamed, so a language-identification annotator owns `language`; the URL keeps
# scheme, host and path only (a query string can hold an e-mail address; the documents table keeps it whole).
CARRIED_COLUMNS = ["doc_id", "url", "host", "crawl_id", "fetch_date", "source_shard", "record_offset",
                   "record_type", "content_type", "content_bytes", "text_chars"]
DECLARED_LANGUAGE = pa.field("declared_language", pa.string())
WORDS_FIELD = pa.field("words", pa.int64())
FAILURE_TYPE = pa.struct([("annotator", pa.string()), ("error_class", pa.string()), ("seconds", pa.float64())])
FAILURES_FIELD = pa.field("annotate_failures", pa.list_(FAILURE_TYPE))
BATCH_COLUMNS = ("doc_id", "text", "url", "language")  # what an annotator reads (filters/base.py)
TOO_SLOW = "too_slow"
DOCUMENT_BUDGET_SECONDS = 10.0  # CPU seconds one annotator may spend on one document
BATCH_ALLOWANCE_SECONDS = 0.25  # and per document of a batch (full-mode PII takes ~0.1 s a page)


class TooSlow(Exception):
    """An annotator ran past its CPU-time budget."""


@dataclass(frozen=True)
class Budget:
    document_seconds: float = DOCUMENT_BUDGET_SECONDS
    allowance_seconds: float = BATCH_ALLOWANCE_SECONDS

    def batch_seconds(self, documents: int) -> float:
        return self.document_seconds + self.allowance_seconds * documents


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise TooSlow in the block once this process has used `seconds` of CPU time in it (SIGPROF). Python code
    and the regular expression engines check for the signal as they run; a long call into C code that does not
    (a numpy operation) ends first. Outside the main thread no timer can be set and the block runs unbounded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TooSlow(f"over {seconds:g} CPU seconds")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


_WORKER_ANNOTATORS: dict[AnnotatorSpec, Annotator] = {}


def worker_annotators(specs: list[AnnotatorSpec]) -> list[Annotator]:
    """The annotators for `specs`, built on first use in this Python process and then reused."""
    built = []
    for spec in specs:
        if spec not in _WORKER_ANNOTATORS:
            _WORKER_ANNOTATORS[spec] = spec.build()
        built.append(_WORKER_ANNOTATORS[spec])
    return built


def annotation_schema(document_schema: pa.Schema, annotator_fields: list[tuple[str, list[pa.Field]]]) -> pa.Schema:
    """Carried document columns, then each annotator's (name, fields), refusing a column written twice."""
    fields = [document_schema.field(name) for name in CARRIED_COLUMNS] + [DECLARED_LANGUAGE, WORDS_FIELD,
                                                                          FAILURES_FIELD]
    seen = {f.name for f in fields}
    for name, annotator_schema in annotator_fields:
        for f in annotator_schema:
            if f.name in seen:
                raise ValueError(f"annotator {name} repeats column {f.name}")
            seen.add(f.name)
            fields.append(f)
    return pa.schema(fields)


def fields_on_a_worker(spark, specs: list[AnnotatorSpec]) -> list[tuple[str, list[pa.Field]]]:
    """Each annotator's output fields, asked of a Python worker rather than the driver.

    Annotators load their models and lists when built (Presidio, the 4.6 M-domain UT1 list, the
    profanity model). Building them in a worker that Spark reuses for the annotate pass costs
    nothing extra; building them in the driver only to read a schema would cost seconds and memory.
    """
    def describe(_):
        for annotator in worker_annotators(specs):
            yield annotator.name, pa.schema(annotator.schema()).serialize().to_pybytes()

    described = spark.sparkContext.parallelize([0], 1).mapPartitions(describe).collect()
    return [(name, list(pa.ipc.read_schema(pa.py_buffer(data)))) for name, data in described]


def count_words(texts: list[str | None]) -> list[int]:
    return [len(t.split()) if t else 0 for t in texts]


def annotate_one_by_one(annotator: Annotator, columns: dict[str, list], budget: Budget,
                        failures: list[list[dict]]) -> dict[str, list]:
    """`annotator` on each document alone, within the document budget: NULLs and a failure row for a document
    over it or that makes the annotator raise."""
    names = [f.name for f in annotator.schema()]
    values: dict[str, list] = {name: [] for name in names}
    for index in range(len(columns["text"])):
        started = time.process_time()
        try:
            with cpu_budget(budget.document_seconds):
                one = annotator.annotate({key: [columns[key][index]] for key in BATCH_COLUMNS})
        except Exception as error:  # a document, whatever it holds, must not fail the task
            error_class = TOO_SLOW if isinstance(error, TooSlow) else type(error).__name__
            failures[index].append({"annotator": annotator.name, "error_class": error_class,
                                    "seconds": time.process_time() - started})
            one = {name: [None] for name in names}
        for name in names:
            values[name].append(one[name][0])
    return values


def annotate_batch(batch: pa.RecordBatch, annotators: list[Annotator], schema: pa.Schema,
                   seconds: dict[str, float], budget: Budget = Budget()) -> pa.RecordBatch:
    columns = batch.to_pydict()
    out: dict[str, list] = {name: columns[name] for name in CARRIED_COLUMNS}
    out["url"] = [None if url is None else redact_uri(url) for url in columns["url"]]  # annotators read the whole
    out["declared_language"] = columns["language"]
    out["words"] = count_words(columns["text"])
    failures: list[list[dict]] = [[] for _ in range(batch.num_rows)]
    for annotator in annotators:
        started = time.perf_counter()
        try:
            with cpu_budget(budget.batch_seconds(batch.num_rows)):
                values = annotator.annotate(columns)
        except Exception:  # over budget, or raised: find the documents that do
            values = annotate_one_by_one(annotator, columns, budget, failures)
        seconds[annotator.name] = seconds.get(annotator.name, 0.0) + time.perf_counter() - started
        out.update(values)
    out["annotate_failures"] = failures
    return pa.RecordBatch.from_pydict({f.name: out[f.name] for f in schema}, schema=schema)


def annotate_documents(spark, documents, specs: list[AnnotatorSpec], budget: Budget = Budget()):
    """Annotations DataFrame (lazy) for a documents DataFrame; returns (df, seconds accumulators by annotator)."""
    timezone = spark.conf.get("spark.sql.session.timeZone")
    document_schema = to_arrow_schema(documents.schema, timezone=timezone)
    schema = annotation_schema(document_schema, fields_on_a_worker(spark, specs))
    timers = {spec.name: spark.sparkContext.accumulator(0.0) for spec in specs}

    def run(batches):
        annotators = worker_annotators(specs)
        seconds: dict[str, float] = {}
        for batch in batches:
            yield annotate_batch(batch, annotators, schema, seconds, budget)
        for annotator, spec in zip(annotators, specs, strict=True):
            timers[spec.name].add(seconds.get(annotator.name, 0.0))

    return spread(spark, documents).mapInArrow(run, from_arrow_schema(schema)), timers


def spread(spark, documents):
    """The documents in at least two partitions per core, so one big shard does not leave cores idle.

    The documents table has one file (one partition) per shard: on a few shards, or one big JSONL
    file, a single task would annotate nearly everything. Hash partitioning by doc_id keeps every
    result independent of the partition count; inputs already split finely are left as they are.
    """
    wanted = 2 * spark.sparkContext.defaultParallelism
    if documents.rdd.getNumPartitions() >= wanted:
        return documents
    return documents.repartition(wanted, "doc_id")
