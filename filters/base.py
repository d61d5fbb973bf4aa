"""The one interface every annotator implements, so the annotate pass can compose them.

An annotator looks at a batch of documents and returns signal values, never keep/drop
decisions: thresholds live in recipes (conf/recipes/*.yaml), so moving a threshold never
re-reads text. A batch is a dict of equal-length lists, as `pyarrow.RecordBatch.to_pydict()`
gives it: at least "doc_id", "text", "url", "language" (the declared one, often None).

Annotators are built once per Python worker (their models and lists are loaded in
`__init__`) and reused for every batch; they must be picklable or cheap to rebuild.
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa

Batch = dict[str, list[Any]]


class Annotator(Protocol):
    name: str

    def schema(self) -> list[pa.Field]:
        """The columns `annotate` returns, with Arrow types (no raw PII may be in any of them)."""
        ...

    def annotate(self, batch: Batch) -> dict[str, list[Any]]:
        """One value per document for every column of `schema()`."""
        ...
