"""Entity types that count only beside a word that says what the number is.

On web pages, Presidio's credit-card recognizer fires on any Luhn-valid run of digits (page-number runs, bar
codes, DOIs, number tables; 88 of the 88 found in data/eval/web are none of them cards), and its SSN recognizer
on ISBN-like groups. A finding of these types is kept only when one of its context words stands within
WINDOW characters before it or after it (or, for a card, it is written as four groups of four). On the labeled
PII sentences (data/eval/pii) this keeps 214 of the 215 cards and 46 of the 47 SSNs: the ones lost are bare
numbers with nothing around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar


class Located(Protocol):
    """A finding: filters/pii.py Finding."""

    start: int
    end: int
    type: str


Found = TypeVar("Found", bound=Located)

# Presidio scores a phone number 0.4 when no context word is beside it: at 0.5 most are missed (web-page recall
# 0.07 against 0.82 at 0.4, data/eval/web/calibration.json), so 0.4 everywhere unless a preset says otherwise.
SCORE_THRESHOLD = 0.4

WINDOW = 80
CONTEXT_REQUIRED: dict[str, tuple[str, ...]] = {
    "CREDIT_CARD": ("card", "credit", "debit", "visa", "mastercard", "amex", "american express", "discover",
                    "maestro", "jcb", "diners", "kreditkarte", "karte", "carte", "tarjeta", "cartão",
                    "carta", "kaart", "karta", "kort", "кредит", "карт", "卡", "カード", "카드"),
    "US_SSN": ("ssn", "social security", "security number", "social sec"),
}


def context_pattern(words: tuple[str, ...]) -> re.Pattern:
    """A word in Latin script starts a word ("cc" is not inside "access"; "cards" counts); others anywhere."""
    latin = [re.escape(word) for word in words if word.isascii()]
    other = [re.escape(word) for word in words if not word.isascii()]
    return re.compile("|".join([rf"(?<![a-z0-9])(?:{'|'.join(latin)})", *other]))


PATTERNS = {entity: context_pattern(words) for entity, words in CONTEXT_REQUIRED.items()}


# A card number written alone as four groups of four with one separator needs no context word; a run of such
# groups (a list of page numbers "1120 1121 1122 ...") is not one.
GROUPED_CARD = re.compile(r"\d{4}([ -])\d{4}\1\d{4}\1\d{4}")
NEXT_GROUP = re.compile(r"[ -]?\d")
# "cc" says card only right before the number ("cc 5506 ...", "cc#5506..."); elsewhere on a page it is mostly
# Creative Commons ("CC BY-SA").
CC_BEFORE = re.compile(r"(?<![a-z0-9])cc\s*[#:.]?\s*$")


def in_context(text: str, finding: Located) -> bool:
    pattern = PATTERNS.get(finding.type)
    if pattern is None:
        return True
    if finding.type == "CREDIT_CARD" and GROUPED_CARD.fullmatch(text[finding.start:finding.end]) \
            and not NEXT_GROUP.match(text[finding.end:finding.end + 2]) \
            and not NEXT_GROUP.match(text[max(0, finding.start - 2):finding.start][::-1]):
        return True
    if finding.type == "CREDIT_CARD" and CC_BEFORE.search(text[max(0, finding.start - 8):finding.start].lower()):
        return True
    return pattern.search(text[max(0, finding.start - WINDOW):finding.end + WINDOW].lower()) is not None


def with_context(text: str, findings: Iterable[Found]) -> list[Found]:
    """The findings of a text without the credit cards and SSNs that no context word accompanies."""
    return [finding for finding in findings if in_context(text, finding)]
