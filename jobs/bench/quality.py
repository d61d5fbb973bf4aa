"""Throughput of the quality + URL + lexicon annotators beside datatrove's filters, in the same run.

`bench_quality(docs)` times, on the same documents and one core: cc-sieve's GopherQuality,
GopherRepetition, C4Quality, FineWebQuality, UrlBlocklist (UT1 adult), UrlBannedWords and
BadWords, then datatrove 0.10.1's GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter,
FineWebQualityFilter and URLFilter. Loading (lists, spaCy rules) is timed apart from the documents.
The work is not identical: datatrove stops at a document's first failing check, cc-sieve computes
every signal of every document (it cannot know the thresholds); cc-sieve also matches bad words,
which has no datatrove counterpart here (its C4BadWordsFilter downloads its lists). No Spark.

    python -m cc_sieve.jobs.bench.quality            # the 697 JSONL sample documents, a JSON summary
"""

from __future__ import annotations

import gc
import json
import resource
import time

import psutil

from cc_sieve.filters.base import batch_of
from cc_sieve.filters.language import LanguageId
from cc_sieve.filters.lexicons import BadWords
from cc_sieve.filters.quality import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from cc_sieve.filters.resources import data_path
from cc_sieve.filters.urls import Blocklist, UrlBannedWords, UrlBlocklist
from cc_sieve.jobs.bench.timing import timed
from cc_sieve.jobs.reading.reader import read_documents

SAMPLE_JSONL = "commoncrawl/CC-MAIN-2019-30/dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"


def sample_documents() -> list[dict]:
    """The 697 real Common Crawl documents of the bundled Dolma JSONL sample."""
    return read_documents(data_path(SAMPLE_JSONL))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    """The process's highest RSS so far (Linux reports ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def bench_blocklist() -> dict:
    """Load time and memory of the UT1 adult list (4.6 M domains) as a worker loads it."""
    gc.collect()
    before, peak_before = rss_mb(), peak_rss_mb()
    blocklist, seconds = timed(lambda: Blocklist.load("adult"))
    gc.collect()
    return {"domains": len(blocklist.domains), "urls": len(blocklist.urls), "load_seconds": seconds,
            "rss_delta_mb": rss_mb() - before, "array_mb": blocklist.domains.hashes.nbytes / 1e6,
            "peak_rss_growth_mb": max(0.0, peak_rss_mb() - peak_before)}


def bench_ours(docs: list[dict], batch_size: int = 256) -> dict:
    # building them reads spaCy's English rules and the lists, as a worker does once
    annotators, load_seconds = timed(lambda: [
        GopherQuality(), GopherRepetition(), C4Quality(variants=("datatrove",)), FineWebQuality(),
        UrlBlocklist(categories=("adult",)), UrlBannedWords(), BadWords(language="en")])
    per_annotator = {annotator.name: 0.0 for annotator in annotators}

    def one_pass() -> float:
        started = time.perf_counter()
        for start in range(0, len(docs), batch_size):
            batch = batch_of(docs[start:start + batch_size])
            for annotator in annotators:
                _, seconds = timed(lambda annotator=annotator, batch=batch: annotator.annotate(batch))
                per_annotator[annotator.name] += seconds
        return time.perf_counter() - started

    seconds = one_pass()
    per_first_pass = dict(per_annotator)
    # again, with every word chunk already tokenized: an upper bound for long runs over one language
    second_pass = one_pass()
    language_id = LanguageId()
    _, language_seconds = timed(lambda: [language_id.annotate(batch_of(docs[i:i + batch_size]))
                                         for i in range(0, len(docs), batch_size)])
    return {"seconds": seconds, "docs_per_second": len(docs) / seconds, "load_seconds": load_seconds,
            "per_annotator_seconds": per_first_pass,
            "docs_per_second_second_pass": len(docs) / second_pass,
            "language_id_docs_per_second": len(docs) / language_seconds}


def bench_datatrove(docs: list[dict]) -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        URLFilter,
    )
    from tldextract import TLDExtract

    filters = [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter(),
               URLFilter()]
    filters[-1].tldextractor = TLDExtract(suffix_list_urls=())  # its bundled suffix list: no network
    _, load_seconds = timed(lambda: filters[-1].download_data())  # extracts and reads the UT1 lists
    per_filter = {type(f).__name__: 0.0 for f in filters}
    started = time.perf_counter()
    for doc in docs:
        for reference in filters:
            document = Document(text=doc["text"] or "", id=doc["doc_id"], metadata={"url": doc["url"]})
            _, seconds = timed(lambda reference=reference, document=document: reference.filter(document))
            per_filter[type(reference).__name__] += seconds
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "docs_per_second": len(docs) / seconds, "load_seconds": load_seconds,
            "per_filter_seconds": per_filter}


def bench_quality(docs: list[dict]) -> dict:
    """docs/s of cc-sieve's quality + URL + lexicon annotators and of datatrove's filters on `docs`."""
    blocklist = bench_blocklist()
    ours = bench_ours(docs)
    reference = bench_datatrove(docs)
    return {"documents": len(docs), "megabytes": sum(len((d["text"] or "").encode()) for d in docs) / 1e6,
            "ours": ours, "datatrove": reference,
            "ratio_ours_over_datatrove": ours["docs_per_second"] / reference["docs_per_second"],
            "blocklist": blocklist}


if __name__ == "__main__":
    print(json.dumps(bench_quality(sample_documents()), indent=2))
