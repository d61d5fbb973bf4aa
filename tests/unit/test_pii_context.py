"""Credit cards and SSNs count only beside a word that says what the number is."""

from __future__ import annotations

from cc_sieve.filters.pii import Finding, PiiDetector
from cc_sieve.filters.pii_context import with_context
from cc_sieve.filters.pii_eval import labeled_sets


def finding(text: str, number: str, entity: str = "CREDIT_CARD") -> Finding:
    start = text.index(number)
    return Finding(start, start + len(number), entity)


def test_a_card_number_counts_beside_a_card_word_or_written_in_four_groups():
    for text in ("Please charge my credit card. Number is 5454639881222959", "Karte: 5454639881222959",
                 "cc 5454639881222959", "tarjeta 5454639881222959", "5454-6398-8122-2959"):
        number = text.split()[-1].split(":")[-1]
        assert with_context(text, [finding(text, number)]), text


def test_number_runs_bar_codes_and_creative_commons_pages_are_not_cards():
    run = "1120 1121 1122 1123 1124 1125 1126 1127"
    assert with_context(run, [finding(run, "1121 1122 1123 1124")]) == []
    barcode = "Licensed CC BY-SA 4.0. Item 31234567890128, shelf 4."
    assert with_context(barcode, [finding(barcode, "31234567890128")]) == []
    access = "Open access; call number 4485014643728345"
    assert with_context(access, [finding(access, "4485014643728345")]) == []


def test_an_ssn_needs_its_words_and_other_types_pass():
    isbn = "ISBN 978-1-56619-909-4, then 123-45-6789 on the back cover"
    assert with_context(isbn, [finding(isbn, "123-45-6789", "US_SSN")]) == []
    ssn = "His social security number is 455-99-6622"
    assert with_context(ssn, [finding(ssn, "455-99-6622", "US_SSN")])
    email = "write to a@example.org"
    assert with_context(email, [finding(email, "a@example.org", "EMAIL_ADDRESS")])


def test_the_labeled_sentences_keep_their_cards_and_ssns():
    items = labeled_sets()
    found = PiiDetector.shared("regex").find([item.text for item in items])
    for entity, kept_at_least in (("CREDIT_CARD", 214), ("US_SSN", 46)):
        kept = sum(1 for item, findings in zip(items, found, strict=True) for f in with_context(item.text, findings)
                   if f.type == entity and any(s[2] == entity and s[0] < f.end and f.start < s[1] for s in item.spans))
        assert kept >= kept_at_least, entity
