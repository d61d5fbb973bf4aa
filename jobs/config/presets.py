"""Settings of every command as pydantic models, and the benchmark presets (conf/benchmark/*.yaml).

A preset names only what differs from the default preset (conf/benchmark/default.yaml): a key it leaves out,
at any depth, takes the default preset's value, and a preset without a name is named after its file. Every
mistake is one line naming the file (or flag) and the key, e.g.
`conf/benchmark/x.yaml: dedup.bands: Input should be a valid integer`.
The input settings (InputConfig) are shared by every command that reads shards.
"""

from __future__ import annotations

import socket
import urllib.parse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cc_sieve.filters.harm import PII_PER_1K_WORDS_THRESHOLD, PROFANITY_THRESHOLD
from cc_sieve.filters.pii_context import SCORE_THRESHOLD
from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.config.loading import read_yaml_mapping, validate
from cc_sieve.jobs.config.spark_conf import master_problem
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.redact import redact_uri

BENCHMARK_DIR = REPO_ROOT / "conf" / "benchmark"
DEFAULT_PRESET = BENCHMARK_DIR / "default.yaml"
CC_S3_BASE = "s3://commoncrawl/"
CC_HTTPS_BASE = "https://data.commoncrawl.org/"
Survivor = Literal["smallest_doc_id", "longest", "oldest"]  # who survives in a duplicate cluster (jobs/spark/dedup.py)
DEFAULT_RECIPES = ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords", "pii-dolma"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3Config(Strict):
    """How to reach S3 (unset: CC_SIEVE_S3_* variables, then boto3's defaults). Never credentials."""

    endpoint: str | None = None
    region: str | None = None
    profile: str | None = None
    unsigned: bool | None = None


class InputConfig(Strict):
    """What to read and how: the same for ingest, benchmark, dedup and pii."""

    specs: list[str] = Field(default_factory=lambda: ["data/commoncrawl"], min_length=1)
    manifest_base: str | None = None  # None: CC_HTTPS_BASE for a manifest read from there, else CC_S3_BASE
    allow_outside_base: bool = False  # manifest entries may leave manifest_base (absolute, `..`, other hosts)
    limit: int | None = Field(default=None, ge=1)
    sample: float | None = Field(default=None, gt=0, le=1)
    seed: int = 0
    engine: Literal["fastwarc", "warcio"] = "fastwarc"
    truth: str | None = None  # planted truth (truth.jsonl); found beside the input when not named
    s3: S3Config = Field(default_factory=S3Config)


class DedupConfig(Strict):
    enabled: bool = True
    num_perm: int = Field(default=112, ge=8)
    bands: int = Field(default=14, ge=1)
    rows: int = Field(default=8, ge=1)
    ngram: int = Field(default=5, ge=1)
    unit: Literal["word", "char"] = "word"  # shingles: word n-grams or character n-grams of the normalised text
    threshold: float | None = Field(default=None, gt=0, lt=1,
                                    description="derive bands x rows from a Jaccard threshold instead")
    scope: Literal["global", "crawl", "shard"] = "global"
    survivor: Survivor = "smallest_doc_id"
    # Candidate pairs are kept when their signatures agree in this share of positions. 0.75, the
    # similarity FineWeb's 14 x 8 targets, lifts F1 on planted copies from 0.86 to 0.96 (tests/test_dedup.py).
    verify_threshold: float | None = Field(default=0.75, gt=0, le=1)

    @model_validator(mode="after")
    def bands_fit_signature(self) -> DedupConfig:
        if self.threshold is None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm {self.num_perm}")
        return self


class PiiConfig(Strict):
    enabled: bool = True
    mode: Literal["regex", "full"] = "regex"
    entities: list[str] | None = None
    score_threshold: float = Field(default=SCORE_THRESHOLD, ge=0, le=1)
    sample: float = Field(default=1.0, gt=0, le=1)
    # regex mode: spaCy's NER also reads this share of the scanned documents (a hash of doc_id salted with
    # ner_seed), for the NER types of `entities`; 0: none (docs/measurement.md)
    ner_sample: float = Field(default=0.0, ge=0, le=1)
    ner_seed: int = Field(default=0, ge=0, lt=2**63)


class HarmConfig(Strict):
    """The harm detectors (filters/harm.py); their calibration is measured at these thresholds."""

    enabled: bool = True
    profanity_threshold: float = Field(default=PROFANITY_THRESHOLD, gt=0, lt=1,
                                       description="alt-profanity-check probability of a line that flags")
    pii_per_1k_words: float = Field(default=PII_PER_1K_WORDS_THRESHOLD, gt=0,
                                    description="PII entities per 1,000 words that flag a document")


class TrackingConfig(Strict):
    uri: str | None = None  # None: MLflow's default, sqlite:///mlflow.db in the working directory
    experiment: str = "cc-sieve"


class SparkConfig(Strict):
    master: str | None = None
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("master")
    @classmethod
    def known_master(cls, master: str | None) -> str | None:
        problem = master_problem(master) if master is not None else None
        if problem:
            raise ValueError(problem)
        return master


class BenchmarkConfig(Strict):
    name: str = "benchmark"
    input: InputConfig = Field(default_factory=InputConfig)
    recipes: list[str] = Field(default_factory=lambda: list(DEFAULT_RECIPES), min_length=1)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    harm: HarmConfig = Field(default_factory=HarmConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    spark: SparkConfig = Field(default_factory=SparkConfig)
    output: str = "build/benchmark"
    report: bool = True
    # stop (exit 1, nothing logged) when every shard failed, or when more than this share did
    max_failed_share: float = Field(default=1.0, ge=0, le=1)


PRESET_KEYS = "benchmark settings (name, input, recipes, ...)"


def merged(base: dict, preset: dict) -> dict:
    """`base` with the preset's values on top; sections (mappings) merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in preset.items():
        out[key] = merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def load_benchmark_config(path: str | Path | None = None) -> BenchmarkConfig:
    """A preset by path or by name (conf/benchmark/NAME.yaml) over the default preset; the default preset
    without one."""
    path = Path(path) if path else DEFAULT_PRESET
    if not path.is_file() and (BENCHMARK_DIR / f"{path}.yaml").is_file():
        path = BENCHMARK_DIR / f"{path}.yaml"
    if not path.is_file():
        raise ConfigError(f"--config {path}: no such file (presets: "
                          f"{', '.join(p.stem for p in sorted(BENCHMARK_DIR.glob('*.yaml')))})")
    preset = read_yaml_mapping(path, PRESET_KEYS)
    if path.resolve() != DEFAULT_PRESET.resolve():
        preset = merged({**read_yaml_mapping(DEFAULT_PRESET, PRESET_KEYS), "name": path.stem}, preset)
    return validate(BenchmarkConfig, preset, str(path))


def check_tracking_uri(uri: str | None, source: str = "tracking.uri") -> None:
    """Fail before Spark starts when the MLflow store cannot be reached or created."""
    if uri is None:
        return
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in {"http", "https"}:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=3):
                return
        except OSError as error:
            raise ConfigError(f"{source} {redact_uri(uri)}: MLflow server unreachable "
                              f"({type(error).__name__}); start it with `make mlflow-ui` or fix the URI") from None
    elif parsed.scheme.startswith("sqlite"):
        folder = Path(uri.split(":///", 1)[-1]).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"{source} {uri}: folder {folder} does not exist")
    elif parsed.scheme in {"", "file"}:
        return
    else:
        raise ConfigError(f"{source} {redact_uri(uri)}: unsupported scheme {parsed.scheme!r} "
                          "(use sqlite:///path.db, http://host:port or a folder)")
