"""The annotate pass: every annotator over every document, once, in Arrow batches (mapInArrow).

Annotators are named by `AnnotatorSpec` (a class and its keyword arguments), so the same spec
is built once per Python worker and reused for every batch and partition. The
annotations table keeps the document's metadata and every signal, but never its text.
"""

from __future__ import annotations

import time

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

from cc_sieve.filters.base import Annotator, AnnotatorSpec

# Document columns carried into the annotations table (everything except the text). The
# record's declared language is renamed, so a language-identification annotator owns `language`.
CARRIED_COLUMNS = ["doc_id", "url", "host", "crawl_id", "fetch_date", "source_shard", "record_offset",
                   "record_type", "content_type", "content_bytes", "text_chars"]
DECLARED_LANGUAGE = pa.field("declared_language", pa.string())
WORDS_FIELD = pa.field("words", pa.int64())


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
    fields = [document_schema.field(name) for name in CARRIED_COLUMNS] + [DECLARED_LANGUAGE, WORDS_FIELD]
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


def annotate_batch(batch: pa.RecordBatch, annotators: list[Annotator], schema: pa.Schema,
                   seconds: dict[str, float]) -> pa.RecordBatch:
    columns = batch.to_pydict()
    out: dict[str, list] = {name: columns[name] for name in CARRIED_COLUMNS}
    out["declared_language"] = columns["language"]
    out["words"] = count_words(columns["text"])
    for annotator in annotators:
        started = time.perf_counter()
        values = annotator.annotate(columns)
        seconds[annotator.name] = seconds.get(annotator.name, 0.0) + time.perf_counter() - started
        out.update(values)
    return pa.RecordBatch.from_pydict({f.name: out[f.name] for f in schema}, schema=schema)


def annotate_documents(spark, documents, specs: list[AnnotatorSpec]):
    """Annotations DataFrame (lazy) for a documents DataFrame; returns (df, seconds accumulators by annotator)."""
    timezone = spark.conf.get("spark.sql.session.timeZone")
    document_schema = to_arrow_schema(documents.schema, timezone=timezone)
    schema = annotation_schema(document_schema, fields_on_a_worker(spark, specs))
    timers = {spec.name: spark.sparkContext.accumulator(0.0) for spec in specs}

    def run(batches):
        annotators = worker_annotators(specs)
        seconds: dict[str, float] = {}
        for batch in batches:
            yield annotate_batch(batch, annotators, schema, seconds)
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
