"""Recipes: the bundled YAML files, one-line validation errors, SQL predicates, annotator planning."""

from __future__ import annotations

import pyarrow as pa

from cc_sieve.filters.base import batch_of
from cc_sieve.jobs.config.recipes import (
    load_recipes,
    required_annotators,
)
from tests.support.samples import sample_documents

BUNDLED = ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords"]


def test_spark_sql_predicates_decide_as_python(spark):
    """Every bundled recipe's predicates, evaluated by Spark SQL over the real samples' annotations,
    remove exactly the documents the Python mirror removes (NULL signals included)."""
    recipes = load_recipes(BUNDLED)
    annotators = [spec.build() for spec in required_annotators(recipes)]
    docs = sample_documents()
    batch = batch_of(docs)
    columns = {"doc_id": batch["doc_id"], "text_chars": [doc["text_chars"] for doc in docs]}
    fields = [pa.field("doc_id", pa.string()), pa.field("text_chars", pa.int64())]
    for annotator in annotators:
        columns.update(annotator.annotate(batch))
        fields += annotator.schema()
    table = pa.Table.from_pydict(columns, schema=pa.schema(fields))
    frame = spark.createDataFrame(table.to_pandas())
    rows = table.to_pylist()
    for recipe in recipes:
        predicates = recipe.removal_predicates()
        if not predicates:
            continue
        names = list(predicates)
        result = frame.selectExpr("doc_id", *[f"{sql} AS `{i}`" for i, sql in enumerate(predicates.values())])
        by_doc = {row["doc_id"]: [row[str(i)] for i in range(len(names))] for row in result.collect()}
        for row in rows:
            expected = recipe.removals(row)
            assert by_doc[row["doc_id"]] == [expected[name] for name in names], (recipe.name, row["doc_id"])
