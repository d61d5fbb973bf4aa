"""Harm detectors on real texts, real list entries and the real Common Crawl sample; pii_density in Spark."""

from __future__ import annotations

import tarfile

import pyarrow as pa
import pytest

from cc_sieve.filters.base import batch_of as documents_batch
from cc_sieve.filters.harm import (
    DETECTORS,
    HARM_LEXICON,
    HarmAnnotator,
    ProfanityScorer,
    load_davidson_lexicon,
    text_lines,
)
from cc_sieve.filters.lexicons import BadWords, load_words
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import UT1_BUNDLED_CATEGORIES, UrlBlocklist, ut1_adult_archive
from tests.support.samples import sample_documents

ENGLISH_FILLER = ("The committee met on Tuesday to discuss the budget for next year, and the members agreed "
                  "that the library should stay open later in the evenings during the winter months.")


GERMAN_FILLER = ("Der Ausschuss hat sich am Dienstag getroffen, um den Haushalt für das nächste Jahr zu "
                 "besprechen, und die Mitglieder waren sich einig, dass die Bibliothek länger geöffnet bleibt.")


@pytest.fixture(scope="module")
def annotator():
    return HarmAnnotator()


@pytest.fixture(scope="module")
def sample_annotations(annotator):
    docs = sample_documents()
    return docs, annotator.annotate(documents_batch(docs))


def batch_of(texts: list[str], urls: list[str | None] | None = None) -> dict[str, list]:
    return {"doc_id": [str(i) for i in range(len(texts))], "text": texts,
            "url": urls or [None] * len(texts), "language": [None] * len(texts)}


def first_entry(category: str, kind: str) -> str:
    if category == "adult" and kind == "domains":
        with tarfile.open(ut1_adult_archive(), "r:gz") as archive:
            return archive.extractfile("domains").read(4096).decode().split("\n", 1)[0].strip()
    return data_path(f"blocklists/ut1/{category}/{kind}").read_text(encoding="utf-8").split("\n", 1)[0].strip()


def test_davidson_lexicon_with_cr_line_endings():
    raw = data_path("lexicons/davidson-hatebase-refined/refined_ngram_dict.csv").read_bytes()
    assert b"\r" in raw and b"\n" not in raw  # old-Mac line ends: a reader that splits on "\n" sees one line
    lexicon = load_davidson_lexicon()
    assert len(lexicon) == 178  # every n-gram row of the file, header excluded
    assert lexicon["allah akbar"] == 0.87 and lexicon["be killed"] > 0
    assert not any("\r" in ngram or ngram != ngram.strip() for ngram in lexicon)
    assert min(lexicon.values()) == 0.462


def test_every_detector_writes_a_flag_and_a_score(annotator):
    names = [detector.name for detector in DETECTORS]
    assert {"ldnoobw", "url_adult", "url_mixed_adult", "davidson_hate", "profanity", "url_agressif", "url_dating",
            "url_gambling", "url_phishing", "url_sinfonietta", "pii_density"} == set(names)
    # a column named pii_* would be read as a PII entity count by jobs/spark/stages.measure_columns
    assert not any(d.column.startswith("pii_") or d.score_column.startswith("pii_") for d in DETECTORS)
    written = {field.name for field in annotator.schema()}
    for detector in DETECTORS:
        expected = detector.kind != "derived"
        assert (detector.column in written, detector.score_column in written) == (expected, expected), detector.name


def test_annotate_output_matches_the_schema(annotator):
    out = annotator.annotate(batch_of([ENGLISH_FILLER, "", GERMAN_FILLER], ["https://example.org/", None, ""]))
    batch = pa.RecordBatch.from_pydict(out, schema=pa.schema(annotator.schema()))
    assert batch.num_rows == 3
    assert set(out) == {field.name for field in annotator.schema()}


def test_ldnoobw_reads_the_newest_list_not_the_rules_list(annotator):
    newest, c4 = load_words(HARM_LEXICON, "en"), load_words("ldnoobw-c4-25e679f", "en")
    assert "viagra" in newest and "viagra" not in c4
    texts = [f"{ENGLISH_FILLER} Cheap viagra here.", f"{ENGLISH_FILLER} What bollocks, and more bollocks.",
             ENGLISH_FILLER]
    out = annotator.annotate(batch_of(texts))
    assert out["harm_ldnoobw"] == [True, True, False]
    assert out["harm_ldnoobw_score"] == [1, 2, 0]
    assert BadWords(language="en").annotate(batch_of(texts))["badwords_match"] == [False, True, False]


def test_ldnoobw_uses_the_list_of_the_detected_language(annotator):
    german = load_words(HARM_LEXICON, "de")
    word = sorted(w for w in german if w.isalpha() and w.islower())[0]
    out = annotator.annotate(batch_of([f"{GERMAN_FILLER} {word}.", f"{ENGLISH_FILLER} {word}."]))
    assert out["harm_ldnoobw"][0] is True  # the German list, for a German page
    assert word not in load_words(HARM_LEXICON, "en") and out["harm_ldnoobw"][1] is False


def test_davidson_ngrams_score_their_highest_prophate_in_english_only(annotator):
    lexicon = load_davidson_lexicon()
    english = f"{ENGLISH_FILLER} They will blame the weather, and some may be killed by the storm."
    out = annotator.annotate(batch_of([english, ENGLISH_FILLER, f"{GERMAN_FILLER} blame the"]))
    assert out["harm_davidson_hate"] == [True, False, None]  # None: not English, not read
    assert out["harm_davidson_hate_score"] == [max(lexicon["blame the"], lexicon["be killed"]), 0.0, None]


def test_profanity_scores_lines_and_flags_at_the_threshold(annotator):
    lines = ["Do What The Fuck You Want To Public License 2.0", ENGLISH_FILLER]
    out = annotator.annotate(batch_of(["\n".join(lines), ENGLISH_FILLER, GERMAN_FILLER]))
    assert out["harm_profanity"] == [True, False, None]
    assert out["harm_profanity_score"][0] >= annotator.profanity_threshold > out["harm_profanity_score"][1]


def test_batched_profanity_equals_one_line_per_call():
    scorer = ProfanityScorer()
    texts = [doc["text"] for doc in sample_documents()[440:460]]
    per_text = [max((float(scorer.predict_prob([line])[0]) for line in text_lines(text)), default=0.0)
                for text in texts]
    assert scorer.max_line_scores(texts) == pytest.approx(per_text, abs=1e-12)
    assert text_lines(" a \n\n  \r\nb") == ["a", "b"]


def test_a_line_repeated_across_texts_is_scored_once(monkeypatch):
    """The real pages of a batch repeat lines (menus, footers); each distinct line goes to the model once, and every
    text's score is the one of scoring all its lines."""
    scorer = ProfanityScorer()
    texts = [doc["text"] for doc in sample_documents()[:256]]
    lines = [line for text in texts for line in text_lines(text)]
    scored: list[str] = []
    predict_prob = scorer.predict_prob
    monkeypatch.setattr(scorer, "predict_prob", lambda batch: (scored.extend(batch), predict_prob(batch))[1])
    scores = scorer.max_line_scores(texts)
    assert sorted(scored) == sorted(set(lines)) and (len(lines), len(scored)) == (9114, 6749)
    everything = iter(predict_prob(lines))
    assert scores == [max((float(next(everything)) for _ in text_lines(text)), default=0.0) for text in texts]


@pytest.mark.parametrize("category", ["adult", "mixed_adult", "agressif", "dating", "gambling"])
def test_url_detectors_flag_a_listed_domain_and_its_subdomains(annotator, category):
    domain = first_entry(category, "domains")
    urls = [f"https://{domain}/page", f"http://shop.{domain}/", "https://example.org/", None]
    out = annotator.annotate(batch_of([ENGLISH_FILLER] * 4, urls))
    assert out[f"harm_url_{category}"] == [True, True, False, None]
    assert out[f"harm_url_{category}_score"] == [3, 2, 0, None]


def test_url_detector_flags_a_listed_phishing_url(annotator):
    listed = first_entry("phishing", "urls")
    out = annotator.annotate(batch_of([ENGLISH_FILLER] * 2, [f"https://{listed}", f"https://{listed}-other"]))
    assert out["harm_url_phishing"] == [True, False] and out["harm_url_phishing_score"] == [1, 0]


def test_the_recipes_blocklist_and_the_detectors_share_one_copy_per_process(annotator):
    recipe_rule = UrlBlocklist(categories=("adult", *UT1_BUNDLED_CATEGORIES))
    detector_lists = {blocklist.category: blocklist for blocklist in annotator.blocklists}
    assert all(blocklist is detector_lists[blocklist.category] for blocklist in recipe_rule.blocklists)


def test_rates_on_the_real_common_crawl_sample(sample_annotations):
    docs, out = sample_annotations

    def flagged(name: str) -> tuple[int, int]:
        column = out[f"harm_{name}"]
        return sum(1 for value in column if value), sum(1 for value in column if value is not None)

    # languages by fastText's lid.176 (py3langid before: 560 documents with a list, 288 English; ldnoobw flagged 30
    # and davidson_hate 8): lid.176 calls Spanish, Chinese or English some pages py3langid called Aragonese, Wu or
    # Latin, which have no list
    assert flagged("ldnoobw") == (31, 585)  # 585 documents in a language with a list
    assert flagged("davidson_hate") == (7, 292)  # 292 documents detected as English
    assert flagged("profanity") == (8, 292)
    assert flagged("url_mixed_adult") == (1, 697)
    for category in ("adult", "agressif", "dating", "gambling", "phishing"):
        assert flagged(f"url_{category}") == (0, 697)
    licence = next(i for i, doc in enumerate(docs) if "Do What The Fuck You Want" in doc["text"])
    assert out["harm_profanity"][licence] and out["harm_ldnoobw"][licence]
