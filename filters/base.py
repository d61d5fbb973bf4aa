"""The one interface every annotator implements, so the annotate pass can compose them.

An annotator looks at a batch of documents and returns signal values, never keep/drop
decisions: thresholds live in recipes (conf/recipes/*.yaml), so moving a threshold never
re-reads text. A batch is a dict of equal-length lists, as `pyarrow.RecordBatch.to_pydict()`
gives it: at least "doc_id", "text", "url", "language" (the declared one, often None).

Every annotator declares its columns once, as Signals (`signals(**config)`, a classmethod, so the
rule registry and the recipes read them without loading a model); its Arrow schema is derived from
them. Annotators are built once per Python worker (models and lists are loaded in `__init__`) and
reused for every batch; an AnnotatorSpec names one by its class and keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import pyarrow as pa

Batch = dict[str, list[Any]]

# What values a signal takes; thresholds are checked against it (a count takes whole numbers, a fraction
# lies in [0, 1], a ratio is any number >= 0).
Domain = Literal["count", "fraction", "ratio", "flag", "label", "data"]
ARROW_TYPES: dict[str, pa.DataType] = {"count": pa.int64(), "fraction": pa.float64(), "ratio": pa.float64(),
                                       "flag": pa.bool_(), "label": pa.string()}


@dataclass(frozen=True)
class Signal:
    """One column an annotator (or a stage of the pipeline) writes."""

    name: str
    domain: Domain
    description: str = ""
    arrow_type: pa.DataType | None = None  # only for "data" columns (spans, signatures)

    def __post_init__(self) -> None:
        if (self.domain == "data") != (self.arrow_type is not None):
            raise TypeError(f"signal {self.name}: give an arrow_type for a 'data' signal, and only for one")

    @property
    def type(self) -> pa.DataType:
        return self.arrow_type if self.arrow_type is not None else ARROW_TYPES[self.domain]

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.type)


class Annotator(Protocol):
    name: str

    @classmethod
    def signals(cls, **config: Any) -> tuple[Signal, ...]:
        """The columns an annotator built with these keyword arguments writes (no raw PII in any)."""
        ...

    def schema(self) -> list[pa.Field]:
        ...

    def annotate(self, batch: Batch) -> dict[str, list[Any]]:
        """One value per document for every declared signal."""
        ...


class DeclaredAnnotator:
    """Base of the annotators: keeps the keyword arguments it was built with and derives its schema from
    the signals declared for them."""

    name: ClassVar[str]

    def __init__(self, **config: Any):
        self.config = config

    @classmethod
    def signals(cls, **config: Any) -> tuple[Signal, ...]:
        raise NotImplementedError

    def schema(self) -> list[pa.Field]:
        return [signal.field for signal in self.signals(**self.config)]


def freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def thaw(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class AnnotatorSpec:
    """An annotator class and its keyword arguments: hashable, picklable (the class pickles by reference),
    built once per worker."""

    factory: type
    kwargs: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, factory: type, **kwargs: Any) -> AnnotatorSpec:
        return cls(factory, tuple(sorted((k, freeze(v)) for k, v in kwargs.items())))

    @property
    def name(self) -> str:
        return self.factory.__name__

    def arguments(self) -> dict[str, Any]:
        return {key: thaw(value) for key, value in self.kwargs}

    def signals(self) -> tuple[Signal, ...]:
        return self.factory.signals(**self.arguments())

    def build(self) -> Annotator:
        return self.factory(**self.arguments())


def batch_of(documents: list[dict[str, Any]]) -> Batch:
    """Document rows (as the reader yields them) as an annotate batch."""
    return {key: [document.get(key) for document in documents] for key in ("doc_id", "text", "url", "language")}
