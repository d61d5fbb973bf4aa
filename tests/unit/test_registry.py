"""The rule registry checks itself: every rule's signal is written, with its declared type, by the annotator
the recipes would run for it; a wrong declaration fails when the registry is built, not in a user's run."""

from __future__ import annotations

import pyarrow as pa
import pytest

from cc_sieve.filters.base import AnnotatorSpec, batch_of
from cc_sieve.filters.harm import HarmAnnotator
from cc_sieve.filters.minhash import MinHashAnnotator
from cc_sieve.filters.pii import PiiAnnotator
from cc_sieve.filters.quality import C4Quality, GopherQuality
from cc_sieve.filters.registry import RULES, DedupColumns, IngestColumns, Registry, RegistryError
from cc_sieve.jobs.config.recipes import Recipe, RuleEntry, required_annotators
from cc_sieve.jobs.reading.tables import DOCUMENT_SCHEMA
from cc_sieve.jobs.spark.stages import DEDUP_COLUMNS
from tests.support.samples import sample_documents

BATCH = batch_of(sample_documents()[:40])


def built(spec: AnnotatorSpec) -> dict[str, pa.Array]:
    """The annotator of `spec` run on real documents, as the Arrow columns the annotate pass writes."""
    annotator = spec.build()
    values = annotator.annotate({key: list(value) for key, value in BATCH.items()})
    assert set(values) == {field.name for field in annotator.schema()}, f"{spec.name} writes what it declares"
    table = pa.RecordBatch.from_pydict(values, schema=pa.schema(annotator.schema()))
    return {name: table.column(name) for name in table.schema.names}


@pytest.mark.parametrize("name", [name for name, rule in RULES.items() if rule.annotator is not None])
def test_every_rule_reads_a_column_its_annotator_writes_with_the_declared_type(name):
    rule = RULES[name]
    [spec] = required_annotators([Recipe(name="one-rule", rules=[RuleEntry(rule=name)])])
    columns = built(spec)
    assert rule.column in columns
    assert columns[rule.column].type == rule.signal.type


@pytest.mark.parametrize("spec", [AnnotatorSpec.of(PiiAnnotator), AnnotatorSpec.of(HarmAnnotator),
                                  AnnotatorSpec.of(MinHashAnnotator)], ids=lambda spec: spec.name)
def test_measurement_annotators_write_what_they_declare(spec):
    columns = built(spec)
    assert {name: column.type for name, column in columns.items()} == {s.name: s.type for s in spec.signals()}


def test_columns_from_the_ingest_and_the_dedup_stage_are_declared_as_written():
    for signal in IngestColumns.signals():
        assert DOCUMENT_SCHEMA.field(signal.name).type == signal.type
    assert {signal.name for signal in DedupColumns.signals()} <= set(DEDUP_COLUMNS)


def test_thresholds_follow_the_signal_domain():
    assert RULES["gopher_word_count"].integer and not RULES["gopher_word_count"].fraction
    assert RULES["gopher_dup_line_frac"].fraction
    assert not RULES["gopher_mean_word_length"].fraction and not RULES["gopher_mean_word_length"].integer
    assert RULES["language"].fraction  # its min is a probability


@pytest.mark.parametrize(("declare", "message"), [
    (lambda r: r.range("gopher_wordcount", "x", GopherQuality, default_min=50),
     "GopherQuality declares no signal 'gopher_wordcount'"),
    (lambda r: r.range("c4_fineweb_lorem_ipsum", "x", C4Quality, kwargs=(("variants", ("fineweb",)),)),
     "a range rule cannot read c4_fineweb_lorem_ipsum, a flag signal"),
    (lambda r: r.range("gopher_stop_words", "x", GopherQuality, default_min=2.5),
     "default bound 2.5 does not fit gopher_stop_words, a count"),
    (lambda r: r.range("gopher_dup_line_frac", "x", GopherQuality, default_max=3),
     "GopherQuality declares no signal 'gopher_dup_line_frac'"),
    (lambda r: r.flag("gopher_alpha_words_ratio", "x", GopherQuality),
     "a flag rule cannot read gopher_alpha_words_ratio, a fraction signal"),
])
def test_a_wrong_declaration_fails_when_the_registry_is_built(declare, message):
    with pytest.raises(RegistryError, match=message):
        declare(Registry())


def test_a_fraction_rule_with_an_impossible_default_fails():
    with pytest.raises(RegistryError, match="does not fit gopher_alpha_words_ratio, a fraction"):
        Registry().range("gopher_alpha_words_ratio", "x", GopherQuality, default_min=80)
