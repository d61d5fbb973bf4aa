"""make-shards: CC-like shards that both parsers read, and planted truth that is really there.

The shards are made from the real bundled samples (Dolma texts, presidio-research PII sentences,
Davidson/Jigsaw toxic sentences, UT1 adult domains) and every check reads them back the way the
ingest does (cc_sieve.jobs.reading.reader), then compares with the recorded truth.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from cc_sieve.filters.planting import (
    find_truth,
    insert_paragraph,
    near_duplicate,
    shingle_words,
    text_jaccard,
    word_shingles,
)
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import UrlBlocklist
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.generator.make_shards import DAVIDSON_SET, JIGSAW_SET, PII_SET, ShardOptions, make_shards, parse_args
from tests.support.planted import RATES, read_all
from tests.support.samples import DOLMA_JSONL


def real_texts() -> list[str]:
    with gzip.open(DOLMA_JSONL, "rt", encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


@pytest.fixture(scope="module")
def warc(shards) -> dict[str, dict]:
    return read_all(shards, "warc")[0]


def test_shingle_words_lowercase_and_drop_punctuation():
    assert shingle_words("Don't STOP!  «Ça» va — bien.") == ["dont", "stop", "ça", "va", "bien"]
    assert word_shingles(["a", "b"]) == {("a", "b")}
    assert len(word_shingles("one two three four five six".split())) == 2


@pytest.mark.parametrize("target", [0.5, 0.7, 0.8, 0.9, 0.95])
def test_near_duplicate_lands_on_the_level_and_reports_the_exact_jaccard(target):
    texts = [t for t in real_texts() if len(shingle_words(t)) >= 300][:6]
    vocabulary = shingle_words(" ".join(texts))
    rng = random.Random(target)
    for text in texts:
        copy = near_duplicate(text, target, rng, vocabulary)
        assert copy.jaccard == text_jaccard(text, copy.text)
        assert abs(copy.jaccard - target) < 0.01
        assert copy.edits > 0


def test_insert_paragraph_returns_the_offset_of_the_inserted_line():
    rng = random.Random(3)
    sentence = "Call Ana at 212-555-0101."
    for text in real_texts()[:50]:
        inserted = insert_paragraph(text, sentence, rng)
        assert inserted.text[inserted.start:inserted.start + len(sentence)] == sentence
        lines = inserted.text.split("\n")
        lines.remove(sentence)
        assert "\n".join(lines) == text


def test_layout_manifests_and_summary(shards):
    summary = json.loads((shards / "make-shards.json").read_text())
    for format_name, suffix in (("warc", ".warc.gz"), ("wet", ".warc.wet.gz")):
        entries = gzip.decompress((shards / f"{format_name}.paths.gz").read_bytes()).decode().split()
        assert len(entries) == 2
        for entry in entries:
            assert entry.startswith("crawl-data/CC-MAIN-2024-22/segments/") and f"/{format_name}/" in entry
            assert entry.endswith(suffix) and (shards / entry).stat().st_size > 0
    assert [s["documents"] for s in summary["shards"]] == [250, 250]
    assert summary["planted"] == {"near_duplicates": 50, "exact_duplicates": 20, "pii": 50, "toxic": 30,
                                  "blocklisted": 20}


@pytest.mark.parametrize("engine", ["fastwarc", "warcio"])
def test_both_parsers_read_every_record(shards, engine):
    for format_name in ("warc", "wet"):
        documents, reports = read_all(shards, format_name, engine)
        assert len(documents) == 500
        for report in reports:
            assert not report.failures
            assert report.crawl_id == "CC-MAIN-2024-22"
            records = dict(report.records_by_type)
            if format_name == "warc":
                assert records == {"warcinfo": 1, "request": 250, "response": 250, "metadata": 250}
            else:
                assert records == {"warcinfo": 1, "conversion": 250}
        assert all(d["doc_id"].startswith("urn:uuid:") for d in documents.values())


def test_wet_declares_the_language_and_warc_pages_carry_the_same_lines(warc, wet):
    wet_by_url = {d["url"]: d for d in wet.values()}
    assert {d["language"] for d in wet.values()} <= {"eng", "spa", "ita"}
    for document in warc.values():
        page_lines = [" ".join(line.split()) for line in document["text"].split("\n") if line.strip()]
        text_lines = [" ".join(line.split()) for line in wet_by_url[document["url"]]["text"].split("\n")]
        assert page_lines == [line for line in text_lines if line]


def test_truth_ids_are_the_ingested_ids_of_each_format(truth, warc, wet):
    by_format = {"warc": warc, "wet": wet}
    for row in truth:
        documents = by_format[row["format"]]
        assert row["doc_id"] in documents
        assert documents[row["doc_id"]]["url"] == row["url"]
        for key in ("near_dup_of", "exact_dup_of"):
            if key in row:
                assert documents[row[key]]["source_shard"] == documents[row["doc_id"]]["source_shard"]
    assert len([r for r in truth if r["format"] == "warc"]) == len([r for r in truth if r["format"] == "wet"])


def test_planted_near_duplicates_have_the_recorded_jaccard(truth, wet):
    rows = [r for r in truth if r["format"] == "wet" and "near_dup_of" in r]
    assert len(rows) == 50
    assert {r["jaccard_target"] for r in rows} == {0.5, 0.7, 0.8, 0.9, 0.95}
    for row in rows:
        actual = text_jaccard(wet[row["doc_id"]]["text"], wet[row["near_dup_of"]]["text"])
        assert actual == pytest.approx(row["jaccard"], abs=1e-6)
        assert abs(row["jaccard"] - row["jaccard_target"]) < 0.02


def test_exact_duplicates_have_the_same_text_under_another_url(truth, wet, warc):
    rows = [r for r in truth if "exact_dup_of" in r]
    assert len(rows) == 40
    for row in rows:
        documents = wet if row["format"] == "wet" else warc
        copy, original = documents[row["doc_id"]], documents[row["exact_dup_of"]]
        assert copy["text"] == original["text"] and copy["url"] != original["url"]


def test_planted_pii_is_at_the_recorded_offsets(truth, wet, warc):
    labeled = json.loads(data_path(PII_SET).read_text())
    rows = [r for r in truth if r.get("pii")]
    assert len(rows) == 100
    for row in rows:
        sentence = labeled[int(row["pii_source"].rsplit("#", 1)[1])]
        expected = sorted((s["entity_type"], s["entity_value"]) for s in sentence["spans"])
        if row["format"] == "wet":
            text = wet[row["doc_id"]]["text"]
            found = sorted((s["entity_type"], text[s["start"]:s["end"]]) for s in row["pii_spans"])
            assert found == expected
        else:  # the page's extracted text holds the same values (whitespace collapsed by extraction)
            page = " ".join(warc[row["doc_id"]]["text"].split())
            assert all(" ".join(value.split()) in page for _, value in expected)
    assert "entity_value" not in (json.dumps(truth))


def test_planted_toxic_sentences_are_at_the_recorded_offsets(truth, wet):
    davidson = {}
    with open(data_path(DAVIDSON_SET), newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            davidson[row[""]] = (row["class"], " ".join(html.unescape(row["tweet"]).split()))
    with open(data_path(JIGSAW_SET), newline="", encoding="utf-8") as handle:
        jigsaw = {row["id"]: ("toxic", " ".join(row["comment_text"].split())) for row in csv.DictReader(handle)
                  if row["toxic"] == "1"}
    rows = [r for r in truth if r.get("toxic") and r["format"] == "wet"]
    assert len(rows) == 30
    for row in rows:
        name, key = row["toxic_source"].rsplit("#", 1)
        label, sentence = davidson[key] if name == Path(DAVIDSON_SET).name else jigsaw[key]
        assert row["toxic_label"] == {"0": "hate", "1": "offensive", "toxic": "toxic"}[label]
        start, end = row["toxic_span"]
        assert wet[row["doc_id"]]["text"][start:end] == sentence


def test_blocklisted_urls_are_on_the_ut1_adult_list(truth, warc):
    rows = [r for r in truth if r.get("blocklisted") and r["format"] == "warc"]
    assert len(rows) == 20
    matches = UrlBlocklist(categories=("adult",)).annotate({"url": [warc[r["doc_id"]]["url"] for r in rows]})
    assert matches["url_ut1_adult_match"] == [True] * len(rows)


def test_documents_not_planted_are_not_near_duplicates_of_each_other(truth, wet):
    planted_copies = {r["doc_id"] for r in truth if "near_dup_of" in r or "exact_dup_of" in r}
    shingles = {doc_id: word_shingles(shingle_words(d["text"])) for doc_id, d in wet.items()
                if doc_id not in planted_copies}
    holders = defaultdict(list)
    for doc_id, grams in shingles.items():
        for gram in grams:
            holders[gram].append(doc_id)
    shared = defaultdict(int)
    for ids in holders.values():
        for i, first in enumerate(ids):
            for second in ids[i + 1:]:
                shared[first, second] += 1
    worst = max((count / len(shingles[a] | shingles[b]) for (a, b), count in shared.items()), default=0.0)
    assert worst < 0.5  # below the lowest planted level: any pair a deduper finds above it was planted


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    def make(folder: str, seed: int) -> dict[str, bytes]:
        out = tmp_path / folder
        make_shards(ShardOptions(output=str(out), docs=120, shards=2, seed=seed, workers=2, **RATES))
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    first, again, other = make("a", 11), make("b", 11), make("c", 12)
    assert first == again
    assert len(first) == 8  # 2 WARC + 2 WET shards, 2 manifests, truth.jsonl, make-shards.json
    assert first.keys() != other.keys() or any(first[k] != other[k] for k in first)


def test_the_benchmark_finds_the_truth_beside_the_manifest(shards):
    assert find_truth([str(shards / "warc.paths.gz")], None) == ([shards / "truth.jsonl"], [])


def test_options_are_checked_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="fewer than --shards"):
        parse_args(["--output", str(tmp_path), "--docs", "2", "--shards", "3"])
    with pytest.raises(ConfigError, match="--crawl-id"):
        parse_args(["--output", str(tmp_path), "--crawl-id", "2024-22"])
    with pytest.raises(ConfigError, match="--jaccard-levels"):
        parse_args(["--output", str(tmp_path), "--jaccard-levels", "0.5,1"])
    with pytest.raises(ConfigError, match="known: adult"):
        parse_args(["--output", str(tmp_path), "--blocklist-categories", "nope"])
    assert not any(tmp_path.iterdir())


def test_a_truth_file_of_another_schema_is_left_out_with_a_note(tmp_path):
    (tmp_path / "truth.jsonl").write_text('{"id": 1, "label": "toxic"}\n')
    found, notes = find_truth([str(tmp_path)], None)
    assert found == [] and notes == [f"{tmp_path / 'truth.jsonl'}: not make-shards' planted truth (line 1 has no "
                                     "doc_id and format of make-shards' truth); left out"]
    (tmp_path / "truth.jsonl").write_bytes(b"\xff\xfe not json")
    assert "not readable as JSON lines" in find_truth([str(tmp_path)], None)[1][0]
