"""The real Common Crawl samples the tests read, and small helpers over them.

../shared/data is the team's copy (PROVENANCE.md); the repository's data/ holds the same files for a
machine without it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import BinaryIO

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.reading.reader import read_documents

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BUNDLED_DATA = REPO_ROOT / "data"
CC_SAMPLES = (SHARED_DATA if SHARED_DATA.is_dir() else BUNDLED_DATA) / "commoncrawl"
WARC_2020_34 = CC_SAMPLES / "CC-MAIN-2020-34" / "resiliparse-warcfile.warc.gz"
WHIRLWIND_WARC = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.gz"
WHIRLWIND_WET = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.wet.gz"
WHIRLWIND_WAT = CC_SAMPLES / "CC-MAIN-2024-22" / "whirlwind.warc.wat.gz"
JWARC_2019_51 = CC_SAMPLES / "CC-MAIN-2019-51" / "jwarc-cc.warc.gz"
DOLMA_JSONL = CC_SAMPLES / "CC-MAIN-2019-30" / "dolma-CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
# warcio's and jwarc's own test files, and warcio's view of each (warcio-reference.jsonl)
WARC_CONFORMANCE = (SHARED_DATA if SHARED_DATA.is_dir() else BUNDLED_DATA) / "warc-conformance"
WARCIO_REFERENCE = {row["file"]: row for row in map(json.loads, (WARC_CONFORMANCE / "warcio-reference.jsonl").open())}


@cache
def _sample_documents() -> tuple[dict, ...]:
    return tuple(read_documents(DOLMA_JSONL))


def sample_documents() -> list[dict]:
    """The 697 real Common Crawl documents of the Dolma JSONL sample (fresh copies of the rows)."""
    return [dict(document) for document in _sample_documents()]


def bytes_opener(data: bytes) -> Callable[[int], BinaryIO]:
    """`open_at(offset)` over bytes in memory, as the reader opens a shard."""
    return lambda offset: io.BytesIO(data[offset:])


def repeated_warc(path: Path, megabytes: float) -> Path:
    """A gzip WARC of at least `megabytes` MB made by repeating the real sample's members."""
    data = WARC_2020_34.read_bytes()
    copies = int(megabytes * 1e6 // len(data)) + 1
    if not path.exists() or path.stat().st_size != copies * len(data):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for _ in range(copies):
                out.write(data)
    return path
