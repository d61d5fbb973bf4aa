"""Resolve `--input` specs to a list of shard URIs, on the driver.

A spec is a local path or glob, a directory, `s3://bucket/key`, `s3://bucket/prefix/`, an
`https://` URL, or a Common Crawl manifest (`*.paths.gz` / `*.paths`, local, s3 or https) whose
entries are resolved against a base (`s3://commoncrawl/` or `https://data.commoncrawl.org/`).

Local names are kept as the OS gives them (bytes that are not UTF-8 as surrogate escapes, so the file
still opens); an existing path is taken literally before it is read as a glob (`odd[1].warc.gz`), and
`**` does not follow symlinked folders (a link back up the tree would list the same files forever).
A manifest's entries must stay inside the base: no absolute path, no `..` past it, no other scheme or
host, unless `allow_outside_base` is set.
"""

from __future__ import annotations

import glob
import os
import posixpath
import random
import re
import zlib
from urllib.parse import unquote, urlsplit

from cc_sieve.jobs.config.presets import CC_HTTPS_BASE, CC_S3_BASE, InputConfig
from cc_sieve.jobs.errors import InputError
from cc_sieve.jobs.reading.report import classify_error
from cc_sieve.jobs.reading.s3 import S3Options, list_s3_prefix
from cc_sieve.jobs.reading.sources import open_shard
from cc_sieve.jobs.redact import redact_uri

GLOB_CHARS = set("*?[")
REMOTE_SCHEMES = ("s3://", "https://", "http://")
MAX_MANIFEST_BYTES = 512 * 1024 * 1024  # Common Crawl's largest manifests are ~10 MB inflated
SURROGATE = re.compile("[\udc80-\udcff]")


def is_manifest(spec: str) -> bool:
    name = spec.rstrip("/").rsplit("/", 1)[-1]
    return name.endswith((".paths.gz", ".paths"))


def manifest_text(spec: str, s3: S3Options) -> str:
    """A manifest's lines (gzip or not), inflated up to MAX_MANIFEST_BYTES."""
    try:
        with open_shard(spec, s3) as raw:
            data = raw.read(MAX_MANIFEST_BYTES + 1)
    except Exception as error:  # the manifest is the run's input: no manifest, no run
        raise InputError(f"--input {redact_uri(spec)}: cannot read the manifest ({classify_error(error)[1]})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            data = inflater.decompress(data, MAX_MANIFEST_BYTES + 1)
        except zlib.error as error:
            raise InputError(f"--input {redact_uri(spec)}: the manifest is not valid gzip ({error})") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(f"--input {redact_uri(spec)}: the manifest is over {MAX_MANIFEST_BYTES} bytes")
    return data.decode("utf-8", "surrogateescape")


def resolve_entry(entry: str, base: str, remote: bool) -> str | None:
    """The entry joined to the base, or None when it would leave the base: an absolute path, `..` past the
    base, another scheme or host, a link out of a local base. URL paths are checked as a server decodes
    them (%2e%2e is `..`, `\\` is `/`); an absolute URL inside the base is accepted."""
    if remote:
        if "://" not in entry and entry.startswith("/"):
            return None
        uri = entry if "://" in entry else base + entry
        root, target = urlsplit(base), urlsplit(uri)
        if (target.scheme, target.netloc) != (root.scheme, root.netloc):
            return None
        path = posixpath.normpath("/" + unquote(target.path).replace("\\", "/"))
        base_path = posixpath.normpath("/" + unquote(root.path))
        return uri if path == base_path or path.startswith(base_path.rstrip("/") + "/") else None
    if "://" in entry or os.path.isabs(entry):
        return None
    path = os.path.normpath(os.path.join(base, entry))
    real, real_base = os.path.realpath(path), os.path.realpath(base)
    return path if os.path.commonpath([real, real_base]) == real_base else None


def outside_entry(entry: str, base: str, remote: bool) -> str:
    """Where an entry points when the user allowed entries outside the base."""
    if "://" in entry or os.path.isabs(entry):
        return entry
    return base + entry if remote else os.path.join(base, entry)


def read_manifest(spec: str, base: str, s3: S3Options, allow_outside_base: bool = False) -> list[str]:
    """Entries of a CC manifest joined to `base`; an entry outside the base is an InputError unless allowed."""
    remote = base.startswith(REMOTE_SCHEMES)
    if remote:
        base = base if base.endswith("/") else base + "/"
    else:
        base = os.path.abspath(base[7:] if base.startswith("file://") else base)
    uris = []
    for number, line in enumerate(manifest_text(spec, s3).splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        uri = resolve_entry(entry, base, remote)
        if uri is None and allow_outside_base:
            uri = outside_entry(entry, base, remote)
        if uri is None:
            raise InputError(f"--input {redact_uri(spec)} line {number}: entry '{redact_uri(entry)[:200]}' is "
                             f"outside --manifest-base {redact_uri(base)}; pass --allow-outside-base to read it")
        if uri.startswith(REMOTE_SCHEMES) and SURROGATE.search(uri):
            raise InputError(f"--input {redact_uri(spec)} line {number}: the entry is not UTF-8")
        uris.append(uri)
    return uris


def component_pattern(part: str) -> str:
    """A regex for one path component of a glob pattern (`*`, `?`, `[...]` stay inside the component)."""
    out, index = [], 0
    while index < len(part):
        char = part[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in part[index + 2:]:
            end = part.index("]", index + 2)
            members = part[index + 1:end]
            out.append("[" + ("^" + members[1:] if members.startswith("!") else members).replace("\\", "\\\\") + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def recursive_glob(pattern: str) -> list[str]:
    """Files matching a pattern with `**`, walking real folders only (symlinked folders are not followed)."""
    parts = pattern.split(os.sep)
    first = next(index for index, part in enumerate(parts) if part == "**")
    root_pattern = os.sep.join(parts[:first]) or (os.sep if pattern.startswith(os.sep) else os.curdir)
    rest = parts[first:]
    folders = "".join("(?:[^/]+/)*" if part == "**" else component_pattern(part) + "/" for part in rest[:-1])
    last = "(?:[^/]+/)*[^/]+" if rest[-1] == "**" else component_pattern(rest[-1])
    matcher = re.compile(folders + last, re.DOTALL)
    roots = glob.glob(root_pattern) if any(c in GLOB_CHARS for c in root_pattern) else [root_pattern]
    show_hidden = rest[-1].startswith(".")
    found = []
    for root in sorted(roots):
        for folder, dirs, files in os.walk(root):  # followlinks=False: a symlinked folder is listed, not entered
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            relative = os.path.relpath(folder, root)
            for name in sorted(files):
                path = name if relative == os.curdir else os.path.join(relative, name)
                if (show_hidden or not name.startswith(".")) and matcher.fullmatch(path.replace(os.sep, "/")):
                    found.append(os.path.join(root, path))
    return found


def expand_local(spec: str) -> list[str]:
    path = os.path.expanduser(spec[7:] if spec.startswith("file://") else spec)
    if not os.path.lexists(path) and any(c in GLOB_CHARS for c in path):
        matches = recursive_glob(path) if "**" in path.split(os.sep) else glob.glob(path)
        matches = sorted(p for p in matches if os.path.isfile(p))
        if not matches:
            raise InputError(f"--input {redact_uri(spec)}: the pattern matched no files")
        return [os.path.abspath(p) for p in matches]
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, f) for f in sorted(files)
                         if not f.startswith(".") and not f.lower().endswith((".md", ".txt")))
        if not found:
            raise InputError(f"--input {redact_uri(spec)}: the directory holds no files")
        return [os.path.abspath(p) for p in found]
    # A plain path that does not exist is kept: the read records it as a failed shard.
    return [os.path.abspath(path)]


def default_manifest_base(spec: str) -> str:
    """Where a manifest's entries are when no base is given: Common Crawl over https for a manifest fetched over
    https from Common Crawl (as its users outside AWS do), else Common Crawl's S3 bucket."""
    return CC_HTTPS_BASE if spec.startswith(CC_HTTPS_BASE) else CC_S3_BASE


def expand_spec(spec: str, options: InputConfig, s3: S3Options) -> list[str]:
    if is_manifest(spec):
        base = options.manifest_base or default_manifest_base(spec)
        return read_manifest(spec, base, s3, options.allow_outside_base)
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
        raise InputError(f"--input {' '.join(redact_uri(spec) for spec in specs)}: resolved to no shards")
    return uris
