"""The annotate pass's time budget: a document an annotator spends too long on, or raises on, gets NULLs in that
annotator's columns and an `annotate_failures` row; the other documents and annotators are untouched, in one
process and in a PySpark worker (the CPU timer is a signal, so it must run in the worker's main thread)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cc_sieve.filters.base import AnnotatorSpec, DeclaredAnnotator, Signal
from cc_sieve.filters.language import LanguageId
from cc_sieve.filters.pii import REGEX_ENTITIES, PiiAnnotator
from cc_sieve.jobs.bench.adversarial import PATTERNS
from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA
from cc_sieve.jobs.spark.annotate import Budget, annotate_batch, annotate_documents, annotation_schema
from tests.support.samples import sample_documents

# dotted runs, each before a domain: Presidio's URL patterns try 253 characters at each position, ~30 s a megabyte
SLOW_FOR_URLS = PATTERNS["url"] * 1_200
QUICK = Budget(document_seconds=1.0, allowance_seconds=0.01)


class RaisesOnAMarker(DeclaredAnnotator):
    """Raises on a text holding MARKER, as an annotator with a bug would on some crawled text."""

    name = "raises_on_a_marker"
    MARKER = "<raise>"

    @classmethod
    def signals(cls, **config):
        return (Signal("marker_chars", "count"),)

    def annotate(self, batch):
        if any(self.MARKER in (text or "") for text in batch["text"]):
            raise ValueError("a marker")
        return {"marker_chars": [len(text or "") for text in batch["text"]]}


def documents(texts: list[str]) -> pa.RecordBatch:
    rows = [{"doc_id": f"doc-{index}", "source_shard": "test", "text": text, "text_chars": len(text),
             "record_type": "response"} for index, text in enumerate(texts)]
    return pa.RecordBatch.from_pylist(rows, schema=DOCUMENT_SCHEMA)


@pytest.fixture(scope="module")
def real_texts():
    return [doc["text"] for doc in sample_documents()[:3]]


def test_a_document_over_budget_gets_nulls_and_a_too_slow_row(real_texts):
    annotators = [PiiAnnotator(mode="regex", entities=list(REGEX_ENTITIES), score_threshold=0.4), LanguageId()]
    batch = documents([real_texts[0], SLOW_FOR_URLS, *real_texts[1:]])
    schema = annotation_schema(DOCUMENT_SCHEMA, [(a.name, a.schema()) for a in annotators])
    out = annotate_batch(batch, annotators, schema, {}, QUICK).to_pydict()
    [failure] = out["annotate_failures"][1]
    # the seconds spent until the timer fired: about the budget (the kernel accounts CPU time in ticks)
    assert (failure["annotator"], failure["error_class"]) == ("pii", "too_slow") and 0.5 <= failure["seconds"] < 5
    assert out["pii_total"][1] is None and out["pii_spans"][1] is None
    assert out["language"][1] is not None  # the other annotator read the document
    alone = annotators[0].annotate({"doc_id": ["a", "b", "c"], "text": real_texts, "url": [None] * 3,
                                    "language": [None] * 3})
    assert [out["pii_total"][i] for i in (0, 2, 3)] == alone["pii_total"] and sum(alone["pii_total"]) > 0
    assert [out["annotate_failures"][i] for i in (0, 2, 3)] == [[], [], []]


def test_a_document_an_annotator_raises_on_gets_nulls_and_the_error_class(real_texts):
    annotators = [RaisesOnAMarker(), LanguageId()]
    batch = documents([real_texts[0], f"text with a {RaisesOnAMarker.MARKER}", real_texts[1]])
    schema = annotation_schema(DOCUMENT_SCHEMA, [(a.name, a.schema()) for a in annotators])
    out = annotate_batch(batch, annotators, schema, {}, QUICK).to_pydict()
    assert out["marker_chars"] == [len(real_texts[0]), None, len(real_texts[1])]
    assert [[(f["annotator"], f["error_class"]) for f in row] for row in out["annotate_failures"]] == [
        [], [("raises_on_a_marker", "ValueError")], []]
    assert None not in out["language"]


def test_the_budget_holds_in_a_pyspark_worker(spark, tmp_path, real_texts):
    path = tmp_path / "documents.parquet"
    pq.write_table(pa.Table.from_batches([documents([*real_texts, SLOW_FOR_URLS])]), path)
    spec = AnnotatorSpec.of(PiiAnnotator, mode="regex", entities=list(REGEX_ENTITIES), score_threshold=0.4)
    annotations, _ = annotate_documents(spark, spark.read.parquet(str(path)), [spec], QUICK)
    rows = {row["doc_id"]: row for row in annotations.collect()}
    assert len(rows) == 4
    assert [(f["annotator"], f["error_class"]) for f in rows["doc-3"]["annotate_failures"]] == [("pii", "too_slow")]
    assert rows["doc-3"]["pii_total"] is None
    assert all(rows[f"doc-{i}"]["annotate_failures"] == [] and rows[f"doc-{i}"]["pii_total"] is not None
               for i in range(3))
