"""Resolve `--input` specs to a list of shard URIs, on the driver.

A spec is a local path or glob, a directory, `s3://bucket/key`, `s3://bucket/prefix/`, an
`https://` URL, or a Common Crawl manifest (`*.paths.gz` / `*.paths`, local, s3 or https) whose
entries are resolved against a base (`s3://commoncrawl/` or `https://data.commoncrawl.org/`).
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import random

from cc_sieve.jobs.config.presets import InputConfig
from cc_sieve.jobs.errors import InputError
from cc_sieve.jobs.reading.s3 import S3Options, list_s3_prefix
from cc_sieve.jobs.reading.sources import open_shard

CC_HTTPS_BASE = "https://data.commoncrawl.org/"
GLOB_CHARS = set("*?[")


def is_manifest(spec: str) -> bool:
    name = spec.rstrip("/").rsplit("/", 1)[-1]
    return name.endswith((".paths.gz", ".paths"))


def read_manifest(spec: str, base: str, s3: S3Options) -> list[str]:
    """Entries of a CC manifest, joined to `base` unless they are already absolute."""
    with open_shard(spec, s3) as raw:
        data = raw.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    base = base if base.endswith("/") else base + "/"
    uris = []
    for line in io.StringIO(data.decode("utf-8")):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if "://" in entry:
            uris.append(entry)
        elif base.startswith(("s3://", "https://", "http://", "file://")):
            uris.append(base + entry)
        else:
            uris.append(os.path.join(os.path.abspath(base), entry))
    return uris


def expand_local(spec: str) -> list[str]:
    path = os.path.expanduser(spec[7:] if spec.startswith("file://") else spec)
    if any(c in GLOB_CHARS for c in path):
        matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not matches:
            raise InputError(f"--input {spec}: the pattern matched no files")
        return [os.path.abspath(p) for p in matches]
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, f) for f in sorted(files)
                         if not f.startswith(".") and not f.lower().endswith((".md", ".txt")))
        if not found:
            raise InputError(f"--input {spec}: the directory holds no files")
        return [os.path.abspath(p) for p in found]
    # A plain path that does not exist is kept: the read records it as a failed shard.
    return [os.path.abspath(path)]


def expand_spec(spec: str, options: InputConfig, s3: S3Options) -> list[str]:
    if is_manifest(spec):
        return read_manifest(spec, options.manifest_base, s3)
    if spec.startswith("s3://"):
        return list_s3_prefix(spec, s3) if spec.endswith("/") else [spec]
    if spec.startswith(("https://", "http://")):
        return [spec]
    return expand_local(spec)


def resolve_inputs(options: InputConfig, s3: S3Options | None = None) -> list[str]:
    """All shards named by `options.specs`, in order, without repeats; then seeded sample, then limit."""
    specs = options.specs
    if not specs:
        raise InputError("no --input given: name a shard, a directory, an s3:// prefix or a paths.gz manifest")
    s3 = s3 or S3Options.from_config(options.s3)
    uris: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        for uri in expand_spec(spec, options, s3):
            if uri not in seen:
                seen.add(uri)
                uris.append(uri)
    if options.sample is not None:
        rng = random.Random(options.seed)
        keep = max(1, round(len(uris) * options.sample))
        chosen = set(rng.sample(range(len(uris)), keep))
        uris = [u for i, u in enumerate(uris) if i in chosen]
    if options.limit is not None:
        uris = uris[: options.limit]
    if not uris:
        raise InputError(f"--input {' '.join(specs)}: resolved to no shards")
    return uris
