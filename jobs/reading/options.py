"""How executors read shards (parser, extraction, size cap, S3 access), from the input settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.reading.reader import MAX_PAYLOAD_BYTES
from cc_sieve.jobs.reading.s3 import S3Options


@dataclass(frozen=True)
class ReadOptions:
    """Shipped to every task, so it holds no secret."""

    engine: str = "fastwarc"
    main_content: bool = True
    max_payload: int = MAX_PAYLOAD_BYTES
    s3: S3Options = field(default_factory=S3Options)

    @classmethod
    def from_input(cls, config: InputConfig) -> ReadOptions:
        return cls(engine=config.engine, s3=S3Options.from_config(config.s3))
