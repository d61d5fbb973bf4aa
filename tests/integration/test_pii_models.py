"""PII with spaCy's NER model at work (seconds per test, so not among the unit tests): the NER sample's counts
against full mode's, and what excerpt redaction leaves of Presidio's generated sentences."""

from __future__ import annotations

import pyarrow as pa

from cc_sieve.filters.pii import PiiAnnotator, in_sample, ner_salt, redact_excerpts
from cc_sieve.filters.pii_eval import load_presidio_generated
from cc_sieve.jobs.reading.reader import read_documents
from tests.support.samples import DOLMA_JSONL


def test_excerpt_redaction_on_presidio_generated_sentences():
    """The measured residue redact_excerpts' docstring states: lower-case names and places; no identifier. The
    excerpts are analyzed in one batch, and each is what it would be alone."""
    left: dict[str, int] = {}
    items = load_presidio_generated()
    excerpts = redact_excerpts([(item.text, None) for item in items], 10_000)
    assert [redact_excerpts([(item.text, None)], 10_000)[0] for item in items[:150]] == excerpts[:150]
    for item, excerpt in zip(items, excerpts, strict=True):
        for start, end, entity in item.spans:
            if item.text[start:end] in excerpt:
                left[entity] = left.get(entity, 0) + 1
    assert left.get("PERSON", 0) <= 90 and left.get("LOCATION", 0) <= 60  # of 1,411 and 1,663 (with addresses)
    assert set(left) <= {"PERSON", "LOCATION", "URL"}, left


NER_SAMPLE_ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "LOCATION", "DATE_TIME"]


def test_ner_sample_counts_ner_types_on_a_seeded_sample_and_the_patterns_everywhere():
    docs = read_documents(DOLMA_JSONL)[:60]
    batch = {key: [doc[key] for doc in docs] for key in ("doc_id", "text", "url", "language")}
    annotator = PiiAnnotator(mode="regex", entities=NER_SAMPLE_ENTITIES, score_threshold=0.4, ner_sample=0.25,
                             ner_seed=7)
    out = annotator.annotate(batch)
    read = [in_sample(doc["doc_id"], 0.25, ner_salt(7)) for doc in docs]
    assert out["pii_ner_scanned"] == read and 5 < sum(read) < 25
    # another seed draws another sample; the same seed the same one whatever the batches
    assert read != [in_sample(doc["doc_id"], 0.25, ner_salt(8)) for doc in docs]
    halves = [annotator.annotate({key: values[part] for key, values in batch.items()})
              for part in (slice(0, 31), slice(31, None))]
    assert out == {key: halves[0][key] + halves[1][key] for key in out}
    # the pattern types, pii_total and the spans are regex mode's on every document, untouched by the sample
    plain = PiiAnnotator(mode="regex", entities=NER_SAMPLE_ENTITIES[:2], score_threshold=0.4).annotate(batch)
    assert {key: out[key] for key in plain} == plain
    # NER types: full mode's counts where NER read the document, NULL elsewhere
    full = PiiAnnotator(mode="full", entities=NER_SAMPLE_ENTITIES, score_threshold=0.4).annotate(batch)
    for entity in ("PERSON", "LOCATION", "DATE_TIME"):
        column = f"pii_{entity}"
        assert out[column] == [count if chosen else None for count, chosen in zip(full[column], read, strict=True)]
    assert sum(out["pii_PERSON"][i] for i, chosen in enumerate(read) if chosen) > 0
    schema = pa.schema(annotator.schema())
    assert pa.RecordBatch.from_pydict(out, schema=schema).num_rows == 60
    assert [f.name for f in schema][-1] == "pii_ner_scanned"
