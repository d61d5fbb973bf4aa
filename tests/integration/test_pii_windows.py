"""Context lemmas in windows around the results (filters/pii_windows.py): on long real pages with numbers that
only a context word keeps at threshold 0.4, the findings are plain Presidio's while far less than the page is
lemmatized; the keywords a page's ":" tokens add hold in every window."""

from __future__ import annotations

import pytest

from cc_sieve.filters.pii import LANGUAGE, Finding, PiiDetector, naive_analyzer
from cc_sieve.filters.pii_windows import Span, merged, window_around
from tests.support.samples import sample_documents

THRESHOLD = 0.4
# 9 digits: Presidio's "very weak" SSN pattern (0.05), kept at 0.4 only with "social"/"security"/... near
NEAR = " Her social security number: 412345678 was on file. "
FAR = " The social club met. We sold many old red cars and blue bikes there today: 512345678 was the lot. "


@pytest.fixture(scope="module")
def detector():
    return PiiDetector(score_threshold=THRESHOLD)


@pytest.fixture(scope="module")
def naive():
    return naive_analyzer()


@pytest.fixture(scope="module")
def long_pages() -> list[str]:
    """Real pages over 8,000 characters with a near and a far context word planted in the middle, and a near one at
    the start."""
    texts = [doc["text"] for doc in sample_documents() if len(doc["text"]) > 8000][:12]
    planted = []
    for text in texts:
        middle = text.rfind(" ", 0, len(text) // 2)
        planted.append(NEAR.strip() + " " + text[:middle] + NEAR + FAR + text[middle:])
    return planted


def presidio(naive, detector, texts: list[str]) -> list[list[Finding]]:
    return [sorted(Finding(r.start, r.end, r.entity_type) for r in naive.analyze(text, language=LANGUAGE)
                   if r.entity_type in detector.entities and r.score >= THRESHOLD) for text in texts]


def test_lemmas_of_windows_give_presidios_findings_on_long_pages(detector, naive, long_pages):
    windows = detector.enhancer.windows
    windows.windows = windows.characters = detector.enhancer.whole_texts = 0
    found = detector.find(long_pages)
    assert found == presidio(naive, detector, long_pages)
    # each page: the two near numbers kept, the far one not
    assert all(sum(f.type == "US_SSN" for f in page) == 2 for page in found)
    assert detector.enhancer.whole_texts == 0 and windows.windows >= len(long_pages)
    assert windows.characters < sum(map(len, long_pages)) / 2


def test_the_keywords_that_colon_tokens_add_hold_in_every_window(detector, naive, long_pages):
    """A token with ":" adds its pieces as keywords to the whole text ("a:1" makes "a", a stop word, one): the
    windows use them too, so five "a" before a number hide a context word further back, as in Presidio."""
    windows = detector.enhancer.windows
    assert windows.colon_keywords("press a:1 now") == {"a"}
    assert windows.colon_keywords("open 10:30 to 18:00, see http://example.com") == set()
    hidden = " Her social security number a a a a 612345678 was on file. "
    texts = ["press a:1 now " + page + hidden for page in long_pages[:3]]
    without_colon = [page + hidden for page in long_pages[:3]]
    detector.enhancer.whole_texts = 0
    found = detector.find(texts)
    assert found == presidio(naive, detector, texts) and detector.enhancer.whole_texts == 0
    assert detector.find(without_colon) == presidio(naive, detector, without_colon)
    # the two near numbers planted in each page; without "a:1" the hidden number's context word counts too
    assert all(sum(f.type == "US_SSN" for f in page) == 2 for page in found)
    assert all(sum(f.type == "US_SSN" for f in page) == 3 for page in detector.find(without_colon))


def test_windows_begin_and_end_at_whitespace_and_overlapping_ones_merge():
    text = "alpha beta gamma\ndelta epsilon zeta eta\ntheta iota"
    span = window_around(text, text.index("zeta"), text.index("zeta") + 4, 8, 4)
    assert text[span.start:span.end] == "delta epsilon zeta eta"  # the line: its breaks are near enough
    span = window_around(text, text.index("zeta"), text.index("zeta") + 4, 3, 1)
    assert text[span.start:span.end] == "epsilon zeta eta"  # cut at spaces
    assert window_around(text, 0, 5, 100, 100) == Span(0, len(text))
    assert merged([Span(10, 20), Span(0, 5), Span(15, 30)]) == [Span(0, 5), Span(10, 30)]
