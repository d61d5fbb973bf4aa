"""Offline language identification with a probability: py3langid 0.4.0 (its model ships in the wheel).

FineWeb keeps English documents whose fastText lid.176 score is at least 0.65; that threshold
reads a probability. py3langid's raw output is an unnormalised naive-Bayes log score, so the
identifier is built with `norm_probs=True`: a softmax over its 140 languages with the temperature
sqrt(text bytes) that py3langid 0.4 uses to keep probabilities comparable across text lengths.
The numbers are a different model's and not fastText's, so the same 0.65 does not remove exactly
the documents FineWeb removed (filters/rules.py says so next to the rule).
"""

from __future__ import annotations

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal
from cc_sieve.filters.text import per_batch


class LanguageIdentifier:
    """py3langid with normalised probabilities, one per Python process (`shared()`)."""

    _shared: LanguageIdentifier | None = None

    def __init__(self, max_chars: int | None = 20_000):
        from py3langid.langid import MODEL_FILE
        from py3langid.langid import LanguageIdentifier as Py3LangId

        self.model = Py3LangId.from_model_file(MODEL_FILE, norm_probs=True)
        self.max_chars = max_chars

    @classmethod
    def shared(cls) -> LanguageIdentifier:
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def classify(self, text: str | None) -> tuple[str | None, float | None]:
        """(ISO 639-1 code, probability), or (None, None) for a text with nothing but whitespace.
        Only the first `max_chars` characters are read (py3langid walks the bytes in Python)."""
        if not text or text.isspace():
            return None, None
        language, probability = self.model.classify(text[: self.max_chars] if self.max_chars else text)
        return language, probability

    def classify_batch(self, batch: Batch) -> list[tuple[str | None, float | None]]:
        """`classify` for every text of an annotate batch, once per batch (cc_sieve.filters.text.per_batch),
        so LanguageId and BadWords(language="detected") share the work."""
        return per_batch(batch, "_languages", lambda texts: [self.classify(text) for text in texts])


class LanguageId(DeclaredAnnotator):
    """Columns `language` (ISO 639-1, e.g. "en") and `language_score` (its probability, 0..1)."""

    name = "language_id"

    def __init__(self):
        super().__init__()
        self.identifier = LanguageIdentifier.shared()

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("language", "label", "ISO 639-1 code of the detected language"),
                Signal("language_score", "fraction", "its probability"))

    def annotate(self, batch: Batch) -> dict[str, list]:
        results = self.identifier.classify_batch(batch)
        return {"language": [language for language, _ in results],
                "language_score": [score for _, score in results]}


# Language groups the benchmark reports rates by, and standardises a recipe's language mix to: a detector
# that reads one language (or one script) reads one group, and groups are large enough to give a rate.
LANGUAGE_GROUPS = ("en", "latin", "cyrillic", "cjk", "other", "unknown")
LATIN_SCRIPT = frozenset(
    "af an br bs ca co cs cy da de eo es et eu fi fo fr fy ga gd gl hr ht hu id is it jv la lb lt lv mg ms mt "
    "nb nl nn no oc pl pt qu rm ro rw sk sl sq sv sw tl tr vi vo wa xh zu".split())
CYRILLIC_SCRIPT = frozenset("be bg kk ky mk mn ru sr tg tt uk".split())
CJK = frozenset("ja ko zh".split())


def language_group(code: str | None) -> str:
    """The group of an ISO 639-1 code ("unknown" for none)."""
    if not code:
        return "unknown"
    if code == "en":
        return "en"
    for group, codes in (("latin", LATIN_SCRIPT), ("cyrillic", CYRILLIC_SCRIPT), ("cjk", CJK)):
        if code in codes:
            return group
    return "other"
