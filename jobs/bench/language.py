"""How often fastText's lid.176 (the annotate pass's language identifier) agrees with py3langid (used before) on
the real samples, and how fast each is, one core, CPU seconds.

Per set: documents, the share with the same top language, the share both call English, the share of English
documents (either identifier) on which the FineWeb rule (English >= 0.65) and the C4 rule (English >= 0.99)
decide the same, and the documents the two call differently (the most frequent pairs).

    python -m cc_sieve.jobs.bench.language        # the bundled Common Crawl samples and the labeled toxicity sets
"""

from __future__ import annotations

import sys
from collections import Counter

from cc_sieve.filters.calibration import davidson_tweets, jigsaw_sample
from cc_sieve.filters.language import FastTextLanguageIdentifier, Py3LangIdentifier
from cc_sieve.filters.resources import data_path
from cc_sieve.jobs.bench.timing import Measurement, cpu_timed, megabytes, ratio_table
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.reader import read_documents

ENGLISH = "en"
RULES = {"fineweb": 0.65, "c4": 0.99}
SAMPLES = ("commoncrawl/CC-MAIN-2019-30/dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
           "commoncrawl/CC-MAIN-2020-34/resiliparse-warcfile.warc.gz",
           "commoncrawl/CC-MAIN-2019-51/jwarc-cc.warc.gz",
           "commoncrawl/CC-MAIN-2024-22/whirlwind.warc.wet.gz")


def real_sets() -> dict[str, list[str]]:
    """The Common Crawl pages of the bundled samples, and the tweets and comments of the labeled sets."""
    pages = [document["text"] for sample in SAMPLES for document in read_documents(data_path(sample))
             if (document["text"] or "").strip()]
    return {"Common Crawl pages (bundled samples)": pages,
            "Davidson tweets": davidson_tweets().texts,
            "Jigsaw comments (train + test samples)": [text for name in ("jigsaw-train-sample", "jigsaw-test-sample")
                                                       for text in jigsaw_sample(name).texts]}


def english_at(result: tuple[str | None, float | None], threshold: float) -> bool:
    language, score = result
    return language == ENGLISH and score is not None and score >= threshold


def agreement(ours: list[tuple], reference: list[tuple]) -> dict:
    """Shares of documents on which the two identifiers agree (top language; each rule's decision)."""
    pairs = list(zip(ours, reference, strict=True))
    english = [(a, b) for a, b in pairs if ENGLISH in (a[0], b[0])]
    row = {"documents": len(pairs), "same_language": sum(a[0] == b[0] for a, b in pairs) / len(pairs),
           "english_lid176": sum(a[0] == ENGLISH for a, _ in pairs),
           "english_py3langid": sum(b[0] == ENGLISH for _, b in pairs)}
    for rule, threshold in RULES.items():
        row[f"{rule}_rule_same_on_english"] = (sum(english_at(a, threshold) == english_at(b, threshold)
                                                   for a, b in english) / len(english)) if english else None
        row[f"{rule}_rule_keeps_lid176"] = sum(english_at(a, threshold) for a, _ in pairs)
        row[f"{rule}_rule_keeps_py3langid"] = sum(english_at(b, threshold) for _, b in pairs)
    row["differing_pairs"] = Counter(f"{a[0]}/{b[0]}" for a, b in pairs if a[0] != b[0]).most_common(8)
    return row


def bench_language(sets: dict[str, list[str]]) -> tuple[list[Measurement], dict[str, dict]]:
    lid176, py3langid = FastTextLanguageIdentifier.shared(), Py3LangIdentifier.shared()
    measurements, rows = [], {}
    for name, texts in sets.items():
        ours, ours_seconds = cpu_timed(lambda texts=texts: [lid176.classify(text) for text in texts])
        reference, reference_seconds = cpu_timed(lambda texts=texts: [py3langid.classify(text) for text in texts])
        on = f"{name}, 1 core, CPU seconds"
        measurements += [Measurement("language", "fastText lid.176 (lid.176.ftz)", False, len(texts),
                                     megabytes(texts), ours_seconds, on),
                         Measurement("language", "py3langid 0.4 (first 20,000 chars)", True, len(texts),
                                     megabytes(texts), reference_seconds, on)]
        rows[name] = agreement(ours, reference)
    return measurements, rows


def format_agreement(rows: dict[str, dict]) -> str:
    lines = []
    for name, row in rows.items():
        lines.append(f"{name}: {row['documents']:,} texts; same top language {row['same_language']:.1%}; English by "
                     f"lid.176 {row['english_lid176']:,}, by py3langid {row['english_py3langid']:,}")
        for rule, threshold in RULES.items():
            same = row[f"{rule}_rule_same_on_english"]
            lines.append(f"  {rule} rule (English >= {threshold}): kept by lid.176 {row[f'{rule}_rule_keeps_lid176']:,}"
                         f", by py3langid {row[f'{rule}_rule_keeps_py3langid']:,}; same decision on "
                         f"{'-' if same is None else f'{same:.1%}'} of the texts either calls English")
        lines.append("  differing (lid.176/py3langid): " + ", ".join(f"{pair} {count}"
                                                                     for pair, count in row["differing_pairs"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    measurements, rows = bench_language(real_sets())
    print(ratio_table(measurements))
    print(format_agreement(rows))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.language"))
