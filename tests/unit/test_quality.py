"""Quality rules (Gopher quality, Gopher repetition, FineWeb, C4): each signal on documents placed
exactly on its threshold (kept) and one step past it (removed), with the registry's defaults."""

from __future__ import annotations

from collections import Counter

import pytest

from cc_sieve.filters import quality
from cc_sieve.filters.base import batch_of
from cc_sieve.filters.quality import (
    C4_VARIANTS,
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
    batch_c4,
    c4_clean,
    line_counts,
)
from cc_sieve.filters.text import count_sentences, tokenize
from cc_sieve.jobs.config.recipes import RuleEntry, removes
from cc_sieve.jobs.reading.reader import read_documents
from tests.support.samples import DOLMA_JSONL


def annotate(annotator, text: str) -> dict:
    batch = {"doc_id": ["d"], "text": [text], "url": ["https://example.com/"], "language": [None]}
    return {name: values[0] for name, values in annotator.annotate(batch).items()}


def removed(rule: str, row: dict, **thresholds) -> bool:
    return removes(RuleEntry(rule=rule, **thresholds), row)


def check(rule: str, row: dict, value: float, is_removed: bool) -> None:
    """The signal has `value` and the rule, at its default threshold, removes the row or not."""
    assert row[rule] == pytest.approx(value)
    assert removed(rule, row) is is_removed, (rule, row[rule])


def word(index: int) -> str:
    """A distinct four-letter word per index ("kaaa", "kaab", ...), never a stop word."""
    letters = ""
    for _ in range(3):
        index, rest = divmod(index, 26)
        letters = chr(ord("a") + rest) + letters
    return "k" + letters


def filler(length: int) -> str:
    """Distinct words joined by spaces, exactly `length` characters (the last word pads with z)."""
    parts: list[str] = []
    while sum(map(len, parts)) + len(parts) + 5 < length - 6:
        parts.append(word(len(parts)))
    used = sum(map(len, parts)) + len(parts)
    parts.append("z" * (length - used))
    text = " ".join(parts)
    assert len(text) == length
    return text


def words(count: int, value: str = "word") -> str:
    return " ".join([value] * count)


@pytest.fixture(scope="module")
def gopher_quality():
    return GopherQuality()


@pytest.fixture(scope="module")
def repetition():
    return GopherRepetition()


@pytest.fixture(scope="module")
def fineweb():
    return FineWebQuality()


def kept_lines(text: str, variant: str) -> list[str]:
    cleaned, _ = c4_clean(text, C4_VARIANTS[variant])
    return cleaned.split("\n") if cleaned else []


def test_word_count_on_both_bounds(gopher_quality):
    for count, expected in ((49, True), (50, False), (100_000, False), (100_001, True)):
        row = annotate(gopher_quality, words(count))
        assert row["gopher_word_count"] == count
        assert removed("gopher_word_count", row) is expected, count


def test_punctuation_and_symbols_are_not_words(gopher_quality):
    row = annotate(gopher_quality, words(50) + " , . ; -- • € ...")
    assert row["gopher_word_count"] == 50
    assert row["gopher_hash_ratio"] == 0.0


def test_mean_word_length_on_both_bounds(gopher_quality):
    cases = ((words(100, "abc"), 3.0, False), (words(99, "abc") + " ab", 2.99, True),
             (words(100, "abcdefghij"), 10.0, False), (words(99, "abcdefghij") + " abcdefghijk", 10.01, True))
    for text, mean, expected in cases:
        row = annotate(gopher_quality, text)
        assert row["gopher_mean_word_length"] == pytest.approx(mean)
        assert removed("gopher_mean_word_length", row) is expected, mean


@pytest.mark.parametrize(("rule", "mark"), [("gopher_hash_ratio", "#"), ("gopher_ellipsis_ratio", "..."),
                                            ("gopher_ellipsis_ratio", "…")])
def test_symbol_ratio_on_threshold(gopher_quality, rule, mark):
    at = annotate(gopher_quality, words(90) + " " + " ".join([mark] * 10))  # 10 marks in 100 tokens
    past = annotate(gopher_quality, words(89) + " " + " ".join([mark] * 11))
    assert at[rule] == pytest.approx(0.1) and not removed(rule, at)
    assert past[rule] == pytest.approx(0.11) and removed(rule, past)


def test_bullet_lines_ratio_on_threshold(gopher_quality):
    at = "\n".join(["• a listed item"] * 5 + ["  - another item"] * 4 + ["a plain line"])
    past = "\n".join(["• a listed item"] * 19 + ["a plain line"])
    assert annotate(gopher_quality, at)["gopher_bullet_lines_ratio"] == pytest.approx(0.9)
    assert not removed("gopher_bullet_lines_ratio", annotate(gopher_quality, at))
    assert removed("gopher_bullet_lines_ratio", annotate(gopher_quality, past))


def test_ellipsis_lines_ratio_on_threshold(gopher_quality):
    at = "\n".join(["it trails off..."] * 2 + ["and so on…  "] + ["a full line."] * 7)
    past = "\n".join(["it trails off..."] * 4 + ["a full line."] * 6)
    assert annotate(gopher_quality, at)["gopher_ellipsis_lines_ratio"] == pytest.approx(0.3)
    assert not removed("gopher_ellipsis_lines_ratio", annotate(gopher_quality, at))
    assert removed("gopher_ellipsis_lines_ratio", annotate(gopher_quality, past))


def test_alpha_words_ratio_counts_words_not_punctuation(gopher_quality):
    at = annotate(gopher_quality, words(80) + " " + words(20, "2019") + " ," * 30)
    past = annotate(gopher_quality, words(79) + " " + words(21, "2019"))
    check("gopher_alpha_words_ratio", at, 0.8, False)
    check("gopher_alpha_words_ratio", past, 0.79, True)
    # datatrove's reading divides by all 130 tokens, the 30 commas included: 80 / 130 < 0.8
    check("gopher_alpha_tokens_ratio", at, 80 / 130, True)
    tokens_at = annotate(gopher_quality, words(80) + " ," * 20)
    assert tokens_at["gopher_alpha_tokens_ratio"] == pytest.approx(0.8)
    assert not removed("gopher_alpha_tokens_ratio", tokens_at)


def test_stop_words_on_threshold(gopher_quality):
    assert annotate(gopher_quality, filler(200) + " the of the")["gopher_stop_words"] == 2
    assert not removed("gopher_stop_words", annotate(gopher_quality, filler(200) + " the of the"))
    one = annotate(gopher_quality, filler(200) + " the the The Of")  # matched case-sensitively
    assert one["gopher_stop_words"] == 1 and removed("gopher_stop_words", one)


def test_empty_text_fails_every_quality_rule(gopher_quality):
    row = annotate(gopher_quality, "")
    assert row["gopher_word_count"] == 0 and row["gopher_mean_word_length"] is None
    for rule in ("gopher_word_count", "gopher_mean_word_length", "gopher_hash_ratio",
                 "gopher_alpha_words_ratio"):
        assert removed(rule, row), rule


@pytest.mark.parametrize(("rule", "separator"), [("gopher_dup_line_frac", "\n"),
                                                 ("gopher_dup_para_frac", "\n\n")])
def test_duplicate_fraction_on_threshold(repetition, rule, separator):
    at = separator.join(["the same text"] * 4 + [word(i) for i in range(6)])  # 3 repeats of 10
    past = separator.join(["the same text"] * 5 + [word(i) for i in range(5)])
    check(rule, annotate(repetition, at), 0.3, False)
    check(rule, annotate(repetition, past), 0.4, True)


@pytest.mark.parametrize(("rule", "separator"), [("gopher_dup_line_char_frac", "\n"),
                                                 ("gopher_dup_para_char_frac", "\n\n")])
def test_duplicate_character_fraction_on_threshold(repetition, rule, separator):
    repeated = "twenty characters ok"
    assert len(repeated) == 20

    def text(length):
        head = separator.join([repeated, repeated]) + separator
        return head + filler(length - len(head))

    at, past = annotate(repetition, text(100)), annotate(repetition, text(99))
    assert at[rule] == pytest.approx(0.2) and not removed(rule, at)
    assert past[rule] == pytest.approx(20 / 99) and removed(rule, past)


@pytest.mark.parametrize(("n", "limit", "gram", "times"), [(2, 0.20, "ab cd", 4), (3, 0.18, "abc de fg", 2),
                                                            (4, 0.16, "a b c de", 2)])
def test_top_ngram_character_fraction_on_threshold(repetition, n, limit, gram, times):
    rule = f"gopher_top_{n}gram_char_frac"
    assert len(gram) * times == round(limit * 100)

    def text(length):
        head = " ".join([gram] * times) + " "
        return head + filler(length - len(head))

    at, past = annotate(repetition, text(100)), annotate(repetition, text(99))
    assert at[rule] == pytest.approx(limit) and not removed(rule, at)
    assert past[rule] > limit and removed(rule, past)


@pytest.mark.parametrize(("n", "limit", "gram"), [
    (5, 0.15, "aaa bbb ccc ddd eee"), (6, 0.14, "aaa bbb cc dd ee ff"), (7, 0.13, "aa bb cc dd ee ff g"),
    (8, 0.12, "aa bb cc dd e f g h"), (9, 0.11, "aa bb c d e f g h i"), (10, 0.10, "a b c d e f g h i j")])
def test_duplicate_ngram_character_fraction_on_threshold(repetition, n, limit, gram):
    """The second occurrence of an n-gram counts its characters without spaces (datatrove's scan)."""
    rule = f"gopher_dup_{n}gram_char_frac"
    assert len(gram.split()) == n and len(gram.replace(" ", "")) == round(limit * 100)

    def text(length):
        head = f"{gram} {gram} "
        return head + filler(length - len(head))

    at, past = annotate(repetition, text(100)), annotate(repetition, text(99))
    assert at[rule] == pytest.approx(limit) and not removed(rule, at)
    assert past[rule] > limit and removed(rule, past)


def test_overlapping_repeats_are_counted_once(repetition):
    # "a b c d e" five times in a row: datatrove's scan jumps past each repeat, 4 repeats of 5 chars
    text = " ".join(["a b c d e"] * 5)
    assert annotate(repetition, text)["gopher_dup_5gram_char_frac"] == pytest.approx(20 / len(text))


def test_empty_text_has_no_repetition_signal(repetition):
    row = annotate(repetition, "")
    assert all(value is None for value in row.values())
    assert removed("gopher_dup_line_frac", row)


def test_line_punct_ratio_on_threshold(fineweb):
    at = "\n".join(["this line ends well."] * 3 + ["this one does not"] * 22 + ["", "   "])  # 3 of 25
    past = "\n".join(["this line ends well."] * 2 + ["a trailing space after the stop. "] + ["no stop"] * 22)
    assert annotate(fineweb, at)["fineweb_line_punct_ratio"] == pytest.approx(0.12)
    assert not removed("fineweb_line_punct_ratio", annotate(fineweb, at))
    assert annotate(fineweb, past)["fineweb_line_punct_ratio"] == pytest.approx(0.08)
    assert removed("fineweb_line_punct_ratio", annotate(fineweb, past))


def test_short_line_ratio_on_threshold(fineweb):
    short, long = "x" * 30, "a line that is longer than thirty characters"
    at = annotate(fineweb, "\n".join([short] * 67 + [long] * 33))
    past = annotate(fineweb, "\n".join([short] * 68 + [long] * 32))
    check("fineweb_short_line_ratio", at, 0.67, False)
    check("fineweb_short_line_ratio", past, 0.68, True)


def test_char_dup_ratio_on_threshold(fineweb):
    def text(repeated):
        return f"{repeated}\n{repeated}\n" + filler(1000 - 2 * len(repeated))  # 1,000 besides newlines

    at, past = annotate(fineweb, text("x" * 10)), annotate(fineweb, text("x" * 11))
    assert at["fineweb_char_dup_ratio"] == pytest.approx(0.01) and not removed("fineweb_char_dup_ratio", at)
    assert past["fineweb_char_dup_ratio"] == pytest.approx(0.011) and removed("fineweb_char_dup_ratio", past)


def test_newline_ratio_on_threshold(fineweb):
    at = annotate(fineweb, "w1 w2 w3\nw4 w5\nw6 w7 w8\nw9 w10")  # 3 newlines, 10 tokens
    past = annotate(fineweb, "w1 w2\nw3 w4\nw5 w6\nw7 w8\nw9 w10")
    assert at["fineweb_newline_ratio"] == pytest.approx(0.3) and not removed("fineweb_newline_ratio", at)
    assert past["fineweb_newline_ratio"] == pytest.approx(0.4) and removed("fineweb_newline_ratio", past)


def test_fineweb_after_c4_measures_the_cleaned_text():
    text = "\n".join(["Menu", "Home", "About us"] * 5 + ["This sentence has enough words to stay."] * 2)
    raw, cleaned = annotate(FineWebQuality(), text), annotate(FineWebQuality(after_c4=True), text)
    assert raw["fineweb_short_line_ratio"] == pytest.approx(15 / 17)
    assert cleaned["fineweb_c4_short_line_ratio"] == 0.0  # C4 (FineWeb's variant) dropped the 1-2 word lines
    assert cleaned["fineweb_c4_char_dup_ratio"] > 0.01


def test_empty_text_fails_fineweb_rules(fineweb):
    row = annotate(fineweb, "\n \n")
    assert all(value is None for value in row.values())
    assert removed("fineweb_line_punct_ratio", row)


def test_words_per_line_differ_between_tfds_and_datatrove():
    assert kept_lines("one two three four five.", "tfds") == ["one two three four five."]
    assert kept_lines("one two three four.", "tfds") == []
    assert kept_lines("one two three.", "datatrove") == ["one two three."]
    assert kept_lines("one two.", "datatrove") == []


def test_terminal_marks_per_variant():
    quoted, single, ellipsis, bare = ('He said "so it goes."', "It is known as 'so it goes'",
                                      "and then it goes on and on...", "a line with no mark at all")
    assert kept_lines("\n".join([quoted, single, ellipsis, bare]), "tfds") == [quoted]
    assert kept_lines("\n".join([quoted, single, ellipsis, bare]), "datatrove") == [quoted, single]
    assert kept_lines("\n".join([quoted, single, ellipsis, bare]), "fineweb") == [
        quoted, single, ellipsis, bare]


def test_line_removals_and_citations():
    text = "\n".join([
        "Please enable JavaScript to view this page properly.",
        "We use cookies to improve the service you get.",
        "Read our privacy policy before signing up today.",
        "The river rises in the hills[1] and flows west[citation needed].",
        "This line has a very " + "x" * 1001 + " long word.",
        "This line has a long " + "x" * 1000 + " word but no longer.",
    ])
    cleaned, stats = c4_clean(text)
    assert cleaned.split("\n") == ["The river rises in the hills and flows west.",
                                   "This line has a long " + "x" * 1000 + " word but no longer."]
    assert stats.lines_kept == 2 and stats.lines_removed == 4
    assert stats.chars == len(cleaned) and stats.words == len(cleaned.split())


def test_sentences_on_threshold():
    three = "The first sentence is here. The second one follows it. And a third one ends the line."
    two = "The first sentence is here. The second one follows it and ends the line."
    quality = C4Quality(variants=("tfds", "datatrove"))
    at, past = annotate(quality, three), annotate(quality, two)
    assert at["c4_tfds_sentences"] == 3 and not removed("c4_tfds_sentences", at)
    assert past["c4_tfds_sentences"] == 2 and removed("c4_tfds_sentences", past)
    five = " ".join(["This is sentence number one."] * 5)
    assert annotate(quality, five)["c4_datatrove_sentences"] == 5
    assert not removed("c4_datatrove_sentences", annotate(quality, five))
    assert removed("c4_datatrove_sentences", annotate(quality, " ".join(["This is one more sentence."] * 4)))


def test_sentences_do_not_split_at_abbreviations_or_numbers():
    assert count_sentences(tokenize("Mr. Smith paid 3.5 dollars in the U.S. yesterday.")) == 1
    assert count_sentences(tokenize('He said "stop." Then he left! Why? Nobody knows...')) == 4


def test_lorem_ipsum_and_curly_bracket_only_count_on_lines_that_pass():
    quality = C4Quality(variants=("tfds",))
    lorem = annotate(quality, "Lorem ipsum dolor sit amet, consectetur.")
    assert lorem["c4_tfds_lorem_ipsum"] and removed("c4_tfds_lorem_ipsum", lorem)
    short = annotate(quality, "Lorem ipsum dolor.\nThe { sign is on a short line")
    assert not short["c4_tfds_lorem_ipsum"] and not short["c4_tfds_curly_bracket"]
    assert not removed("c4_tfds_lorem_ipsum", short)
    code = annotate(quality, "function f() { return javascript.value; }.")
    assert not code["c4_tfds_curly_bracket"]  # a javascript line is dropped before the "{" check
    brace = annotate(quality, "The set {1, 2, 3} has exactly three members.")
    assert brace["c4_tfds_curly_bracket"] and removed("c4_tfds_curly_bracket", brace)


def test_c4_badwords_look_at_the_cleaned_text():
    quality = C4Quality(variants=("tfds",))
    assert annotate(quality, "The old sailor said bollocks to all of them.")["c4_tfds_badwords"]
    assert not annotate(quality, "The old sailor said bollocksed to all of them.")["c4_tfds_badwords"]
    assert not annotate(quality, "bollocks\nThe old sailor said nothing to them.")["c4_tfds_badwords"]


def test_c4_max_length_on_threshold():
    assert not removed("c4_max_length", {"text_chars": 190_000})
    assert removed("c4_max_length", {"text_chars": 190_001})


def test_unknown_c4_variant_is_refused():
    with pytest.raises(ValueError, match="unknown C4 variant"):
        C4Quality(variants=("t5",))


def test_c4_variants_of_a_batch_count_a_kept_lines_sentences_once(monkeypatch):
    """The variants of one batch share a memo of each kept line's sentences and tokens: the same cleaning and
    signals as `c4_clean` alone, with each distinct kept line tokenized once (real Common Crawl pages), and the
    cleaned text's tokens are its lines' (FineWeb's newline ratio after C4 reads their number)."""
    texts = [doc["text"] or "" for doc in read_documents(DOLMA_JSONL)[:200]]
    counted = Counter()

    def counting(line: str) -> quality.LineCounts:
        counted[line] += 1
        return line_counts(line)

    monkeypatch.setattr(quality, "line_counts", counting)
    batch = batch_of([{"doc_id": str(i), "text": text, "url": None, "language": None} for i, text in enumerate(texts)])
    alone = {variant: [c4_clean(text, C4_VARIANTS[variant], line_counts) for text in texts]
             for variant in ("tfds", "fineweb")}
    assert {variant: batch_c4(batch, variant) for variant in alone} == alone
    kept_lines = {variant: sum(stats.lines_kept for _, stats in results) for variant, results in alone.items()}
    assert set(counted.values()) == {1}
    assert all(stats.tokens == len(tokenize(cleaned)) for results in alone.values() for cleaned, stats in results)
    assert (kept_lines["tfds"], kept_lines["fineweb"], len(counted)) == (1238, 4694, 3707)
