"""LDNOOBW bad words, matched as TFDS's C4 matches them (lower-cased text, word flanks, ja/th/zh
substrings, the allow-list), on the lists at C4's commit 25e679f."""

from __future__ import annotations

import re

import pytest

from cc_sieve.filters.lexicons import (
    BadWords,
    BadWordsMatcher,
    available_languages,
    load_words,
    normalise_language,
    trie_pattern,
)
from cc_sieve.jobs.config.recipes import RuleEntry, removes
from tests.support.samples import sample_documents

LEXICON = "ldnoobw-c4-25e679f"


def tfds_regex(words: set[str], language: str) -> re.Pattern:
    """The regex exactly as TFDS c4_utils.get_badwords_filter_fn writes it (a plain alternation)."""
    alternatives = "|".join(re.escape(word) for word in words)
    if language in ("ja", "th", "zh"):
        return re.compile(alternatives)
    return re.compile(rf"(?:\W|^)({alternatives})(?:\W|$)")


@pytest.fixture(scope="module")
def english():
    return BadWordsMatcher.load(LEXICON, "en")


def annotate(annotator, texts, languages=None):
    batch = {"doc_id": list(range(len(texts))), "text": texts, "url": [None] * len(texts),
             "language": languages or [None] * len(texts)}
    return annotator.annotate(batch)


def test_lists_at_c4_commit():
    assert "en" in available_languages(LEXICON) and "fil" not in available_languages(LEXICON)
    assert len(load_words(LEXICON, "en")) == 377  # one entry a line
    assert "fil" in available_languages("ldnoobw-head-5faf2ba")


def test_word_must_stand_alone(english):
    assert english.search("He said BOLLOCKS, twice.")  # the text is lower-cased
    assert english.search("bollocks")  # flanked by the text's ends
    assert not english.search("the bollocksed plan")
    assert not english.search("a classic assessment of glasses")  # "ass" inside words never matches


def test_multi_word_entries_match_only_as_written(english):
    assert english.search("see 2 girls 1 cup now")
    assert not english.search("see 2 girls-1 cup now")
    assert not english.search("see 2 girls  1 cup now")


def test_capitalised_entries_never_match_as_in_tfds():
    spanish = BadWordsMatcher.load(LEXICON, "es")
    capitalised = sorted(word for word in load_words(LEXICON, "es") if word != word.lower())
    assert capitalised  # TFDS lower-cases the page, not the list: these entries are dead, and stay dead
    assert not spanish.search(capitalised[0]) and not spanish.search(capitalised[0].lower())


def test_languages_without_spaces_match_substrings_minus_the_allow_list():
    chinese, japanese = BadWordsMatcher.load(LEXICON, "zh"), BadWordsMatcher.load(LEXICON, "ja")
    listed = sorted(load_words(LEXICON, "zh"))[0]
    assert chinese.search(f"前{listed}后")
    assert not chinese.search("性别")  # 性 is on TFDS's allow-list for zh
    assert not japanese.search("smart")  # "sm" is on TFDS's allow-list for ja


def test_trie_regex_decides_exactly_as_tfds_alternation_on_real_documents():
    texts = [(doc["text"] or "").lower() for doc in sample_documents()]
    for language in ("en", "de", "es", "fr", "ja", "zh"):
        words = load_words(LEXICON, language)
        ours, reference = BadWordsMatcher(words, language).pattern, tfds_regex(words, language)
        decisions = [ours.search(text) is not None for text in texts]
        assert decisions == [reference.search(text) is not None for text in texts], language
        if language == "en":
            assert sum(decisions) == 40  # real sample pages with an English list word


def test_trie_pattern_is_the_same_language():
    words = {"a", "ab", "abc", "b.c", "x"}
    pattern = re.compile(f"(?:{trie_pattern(words)})$")
    for candidate in ["a", "ab", "abc", "b.c", "x", "abd", "bxc", "", "abcd"]:
        assert bool(pattern.match(candidate)) is (candidate in words), candidate


def test_annotator_with_a_fixed_language():
    out = annotate(BadWords(language="en"), ["you absolute bollocks", "a clean sentence", ""])
    assert out == {"badwords_match": [True, False, False], "badwords_count": [1, 0, 0],
                   "badwords_language": ["en", "en", "en"]}


def test_annotator_with_detected_language():
    out = annotate(BadWords(language="detected"), [
        "This is an English sentence about the weather, and it says bollocks.",
        "Dies ist ein ganz normaler deutscher Satz über das Wetter von morgen.",
        "Ez egy magyar mondat az időjárásról, semmi különös nincs benne.", ""])
    assert out["badwords_language"][:3] == ["en", "de", "hu"]
    assert out["badwords_match"][:3] == [True, False, False]
    assert out["badwords_match"][3] is None  # no text, no language, no list: never removed
    assert not removes(RuleEntry(rule="badwords_ldnoobw"), {"badwords_match": None})


def test_annotator_with_declared_language():
    out = annotate(BadWords(language="declared"), ["bollocks"] * 3, ["eng", "eng,fra", "xho"])
    assert out["badwords_language"] == ["en", "en", None]
    assert out["badwords_match"] == [True, True, None]


def test_normalise_language():
    assert [normalise_language(code) for code in ("en", "eng", "spa,eng", "en-US", "pt_BR", None, "")] == [
        "en", "en", "es", "en", "pt", None, None]


def test_unknown_language_names_the_available_lists():
    with pytest.raises(ValueError, match="has no list for language 'xx'; it has: ar, cs"):
        BadWordsMatcher.load(LEXICON, "xx")


def test_adjacent_words_are_all_counted(english):
    assert english.count("bollocks bollocks bollocks") == 3  # the flanks are lookarounds, not consumed
    assert english.count("Bollocks\nbollocks, bollocks.") == 3
