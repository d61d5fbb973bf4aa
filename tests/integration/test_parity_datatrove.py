"""Parity with datatrove 0.10.1 (test-only reference; FineWeb's own code) on the real samples.

The 716 documents are the 697 of the Dolma JSONL sample plus the 16 + 1 + 1 WARC responses and the
one WET record. datatrove runs with the same thresholds; per family (Gopher quality, Gopher
repetition, C4 in its three variants, FineWeb, the URL filter) at least 99% of the keep/drop
decisions must agree, and every disagreement must be one this file explains and checks:

- Gopher words: cc-sieve counts a token as a word when it holds a letter or digit; datatrove also
  counts symbol tokens ('·', '•', '€'). Checked by giving datatrove that definition of a word (its
  PUNCTUATION_SET patched), after which it decides as cc-sieve does.
- Gopher alphabetic words: cc-sieve's gopher_alpha_words_ratio follows the paper (share of words);
  datatrove divides by all tokens, punctuation included. Compensated: datatrove's reading is
  compared with cc-sieve's gopher_alpha_tokens_ratio, and the published reading is shown to differ
  from datatrove's only where punctuation tokens pull the share under 0.8.
- C4 as TFDS: datatrove's C4QualityFilter is configured to TFDS's 5 words a line and 3 sentences,
  with TFDS's end marks (its END_PUNCTUATION patched: TFDS has no "'").

Not compared here: the language rule (datatrove's LanguageFilter needs fastText's lid.176 model,
which cannot be fetched) and LDNOOBW (datatrove's C4BadWordsFilter downloads its lists);
tests/test_lexicons.py checks the bad-word matching against TFDS's own regex on these documents.
"""

from __future__ import annotations

import contextlib

import pytest

from cc_sieve.filters.base import batch_of
from cc_sieve.filters.quality import (
    C4_VARIANTS,
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
    c4_clean,
)
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.text import TERMINAL_PUNCTUATION, tokenize
from cc_sieve.filters.urls import UrlBannedWords, UrlBlocklist
from cc_sieve.jobs.config.recipes import RuleEntry, removes
from cc_sieve.jobs.reading.reader import read_documents
from tests.support.samples import DOLMA_JSONL, JWARC_2019_51, WARC_2020_34, WHIRLWIND_WARC, WHIRLWIND_WET

GOPHER_QUALITY = ["gopher_word_count", "gopher_mean_word_length", "gopher_hash_ratio",
                  "gopher_ellipsis_ratio", "gopher_bullet_lines_ratio", "gopher_ellipsis_lines_ratio",
                  "gopher_stop_words"]


GOPHER_REPETITION = ["gopher_dup_para_frac", "gopher_dup_para_char_frac", "gopher_dup_line_frac",
                     "gopher_dup_line_char_frac"] + [f"gopher_top_{n}gram_char_frac" for n in (2, 3, 4)] + [
                     f"gopher_dup_{n}gram_char_frac" for n in range(5, 11)]


FINEWEB = ["fineweb_line_punct_ratio", "fineweb_short_line_ratio", "fineweb_char_dup_ratio",
           "fineweb_newline_ratio"]


URL = ["url_ut1_adult", "url_banned_word", "url_banned_subword", "url_soft_banned_words"]


TFDS_END_MARKS = (".", "?", "!", '"')


# datatrove's URLFilter reads tldextract's deprecated registered_domain on every document
pytestmark = pytest.mark.filterwarnings("ignore:The 'registered_domain' property is deprecated")


def c4_rules(variant: str) -> list[str]:
    return [f"c4_{variant}_sentences", f"c4_{variant}_lorem_ipsum", f"c4_{variant}_curly_bracket"]


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    documents = []
    for path in (DOLMA_JSONL, WARC_2020_34, JWARC_2019_51, WHIRLWIND_WARC, WHIRLWIND_WET):
        documents += read_documents(path)
    assert len(documents) == 697 + 16 + 1 + 1 + 1
    return documents


@pytest.fixture(scope="module")
def rows(docs) -> list[dict]:
    annotators = [GopherQuality(), GopherRepetition(), C4Quality(variants=("tfds", "datatrove", "fineweb")),
                  FineWebQuality(), FineWebQuality(after_c4=True), UrlBlocklist(), UrlBannedWords()]
    rows: list[dict] = []
    for start in range(0, len(docs), 128):
        batch = batch_of(docs[start:start + 128])
        columns: dict[str, list] = {}
        for annotator in annotators:
            columns.update(annotator.annotate(batch))
        rows += [{name: values[i] for name, values in columns.items()} for i in range(len(batch["text"]))]
    return rows


@contextlib.contextmanager
def patched(module, name: str, value):
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


class NotAlphanumeric:
    """A stand-in for datatrove's PUNCTUATION_SET: every character without a letter or digit."""

    def __contains__(self, char: str) -> bool:
        return not char.isalnum()


def run(reference, text: str, url: str | None = None):
    """(kept, reason, text after the filter) for one datatrove filter on one document."""
    from datatrove.data import Document

    document = Document(text=text, id="d", metadata={"url": url})
    result = reference.filter(document)
    kept, reason = (result, None) if isinstance(result, bool) else result
    return bool(kept), reason, document.text


@pytest.fixture(scope="module")
def reference(docs) -> dict[str, list]:
    """Every datatrove decision, one pass over the documents (its tokenizer cache serves all filters)."""
    import datatrove.pipeline.filters.c4_filters as c4_module
    import datatrove.pipeline.filters.gopher_quality_filter as gopher_module
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        URLFilter,
    )
    from tldextract import TLDExtract

    url_filter = URLFilter()
    url_filter.tldextractor = TLDExtract(suffix_list_urls=())  # the bundled suffix list: no network
    filters = {
        "gopher_quality": GopherQualityFilter(max_non_alpha_words_ratio=None),
        "gopher_quality_alpha": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4_datatrove": C4QualityFilter(),
        "c4_fineweb": C4QualityFilter(filter_no_terminal_punct=False),
        "c4_tfds": C4QualityFilter(min_words_per_line=5, min_num_sentences=3),
        "fineweb": FineWebQualityFilter(),
        "url": url_filter,
    }
    out: dict[str, list] = {name: [] for name in [*filters, "fineweb_after_c4", "gopher_quality_alnum_words"]}
    for doc in docs:
        text = doc["text"] or ""
        for name, reference_filter in filters.items():
            if name == "c4_tfds":
                with patched(c4_module, "END_PUNCTUATION", TFDS_END_MARKS):
                    out[name].append(run(reference_filter, text))
            else:
                out[name].append(run(reference_filter, text, doc["url"]))
        kept, _, cleaned = out["c4_fineweb"][-1]
        out["fineweb_after_c4"].append(run(filters["fineweb"], cleaned) if kept else (False, "c4", cleaned))
        with patched(gopher_module, "PUNCTUATION_SET", NotAlphanumeric()):
            out["gopher_quality_alnum_words"].append(run(filters["gopher_quality"], text))
    return out


def kept_by(rows: list[dict], rules: list[str]) -> list[bool]:
    entries = [RuleEntry(rule=rule) for rule in rules]
    return [not any(removes(entry, row) for entry in entries) for row in rows]


def disagreements(ours: list[bool], theirs: list[tuple]) -> list[int]:
    return [i for i, (mine, (kept, _, _)) in enumerate(zip(ours, theirs, strict=True)) if mine != kept]


def assert_parity(ours: list[bool], theirs: list[tuple], explained: set[int] = frozenset()) -> list[int]:
    differ = disagreements(ours, theirs)
    assert 1 - len(differ) / len(ours) >= 0.99, f"{len(differ)} of {len(ours)} differ: {differ[:20]}"
    assert set(differ) <= set(explained), f"unexplained disagreements: {sorted(set(differ) - set(explained))}"
    return differ


def test_tokens_are_spacy_tokens(docs):
    """cc-sieve's tokenizer gives datatrove's split_into_words tokens; the one exception is a wiki
    page whose runs of five apostrophes spaCy's special-case matcher splits "''", "'", "'", "'"."""
    from datatrove.utils.text import split_into_words

    texts = [doc["text"] or "" for doc in docs]
    differ = [i for i, text in enumerate(texts) if tokenize(text) != split_into_words(text)]
    assert len(differ) <= 1
    for i in differ:
        ours, theirs = tokenize(docs[i]["text"]), split_into_words(docs[i]["text"])
        assert [t for t in ours if set(t) != {"'"}] == [t for t in theirs if set(t) != {"'"}]
        assert "".join(ours) == "".join(theirs)


def test_gopher_quality(rows, reference):
    """Without the alphabetic rule; the only disagreements are symbol tokens counted as words."""
    ours = kept_by(rows, GOPHER_QUALITY)
    alnum = [kept for kept, _, _ in reference["gopher_quality_alnum_words"]]
    explained = {i for i, (mine, theirs) in enumerate(zip(ours, alnum, strict=True)) if mine == theirs}
    differ = assert_parity(ours, reference["gopher_quality"], explained)
    assert len(differ) <= 2  # measured: 1 (50 words for datatrove, '·' among them; 49 here)


def test_gopher_alphabetic_rule_as_datatrove_reads_it(rows, reference):
    ours = kept_by(rows, GOPHER_QUALITY + ["gopher_alpha_tokens_ratio"])
    alnum = [kept for kept, _, _ in reference["gopher_quality_alnum_words"]]
    explained = {i for i, (mine, theirs) in enumerate(zip(kept_by(rows, GOPHER_QUALITY), alnum, strict=True))
                 if mine == theirs}
    assert_parity(ours, reference["gopher_quality_alpha"], explained)


def test_gopher_alphabetic_rule_as_published_differs_only_by_punctuation_tokens(rows, reference):
    published = RuleEntry(rule="gopher_alpha_words_ratio")
    datatrove = RuleEntry(rule="gopher_alpha_tokens_ratio")
    removed_by_datatrove = [i for i, (_, reason, _) in enumerate(reference["gopher_quality_alpha"])
                            if reason == "gopher_below_alpha_threshold"]
    kept_as_published = [i for i in removed_by_datatrove if not removes(published, rows[i])]
    assert len(removed_by_datatrove) > 100  # a third of the sample: why STACK-NOTES warns about it
    assert kept_as_published, "the published reading should keep some of them"
    for i in kept_as_published:  # punctuation tokens alone pull datatrove's share under 0.8
        assert removes(datatrove, rows[i]) and rows[i]["gopher_alpha_words_ratio"] >= 0.8


def test_gopher_repetition(rows, reference):
    assert assert_parity(kept_by(rows, GOPHER_REPETITION), reference["gopher_repetition"]) == []


@pytest.mark.parametrize("variant", ["datatrove", "fineweb", "tfds"])
def test_c4(rows, reference, docs, variant):
    assert assert_parity(kept_by(rows, c4_rules(variant)), reference[f"c4_{variant}"]) == []
    # the cleaned text itself: datatrove rewrites doc.text, c4_clean returns it
    for doc, (kept, _, cleaned) in zip(docs, reference[f"c4_{variant}"], strict=True):
        if kept:
            assert c4_clean(doc["text"] or "", C4_VARIANTS[variant])[0] == cleaned


def test_fineweb(rows, reference):
    assert assert_parity(kept_by(rows, FINEWEB), reference["fineweb"]) == []


def test_fineweb_after_c4_as_its_pipeline_ran(rows, reference):
    ours = kept_by(rows, c4_rules("fineweb") + [name.replace("fineweb_", "fineweb_c4_") for name in FINEWEB])
    assert assert_parity(ours, reference["fineweb_after_c4"]) == []


def test_url_filter(rows, reference):
    differ = assert_parity(kept_by(rows, URL), reference["url"])
    assert differ == [] and sum(not kept for kept, _, _ in reference["url"]) >= 1


def test_terminal_punctuation_is_datatroves():
    from datatrove.utils.text import TERMINAL_PUNCTUATION as DATATROVE_TERMINAL

    assert TERMINAL_PUNCTUATION == set(DATATROVE_TERMINAL)


def test_url_word_lists_are_datatroves():
    from datatrove.utils._import_utils import ASSETS_PATH

    for name in ("banned_words.txt", "banned_subwords.txt", "soft_banned_words.txt"):
        bundled = data_path(f"lexicons/fineweb-datatrove/{name}").read_bytes()
        assert bundled == open(f"{ASSETS_PATH}/{name}", "rb").read(), name
