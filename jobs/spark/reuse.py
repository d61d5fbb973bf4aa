"""A rerun into the same output folder reuses a stage's finished tables when nothing they depend on changed.

When a stage finishes it writes, beside its tables, `OUTPUT/<stage>.stage.json`: the fingerprint of what the
tables were made from (the files of the tables it read, by name, size and modification time; its settings; the
code of the package), every file it wrote (name, size, modification time), and the seconds it took. A rerun
reuses the tables only when the fingerprint is the same and every file is still there as written; another
setting, an input that changed, a table a killed run left half-written, or a file truncated, replaced or
removed runs the stage again, and so every stage after it (their fingerprints hold its files). The record is
removed before a stage writes and written after it finished, so a partial table is never reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cc_sieve.filters import resources

RECORD_SUFFIX = ".stage.json"
PACKAGE_FOLDERS = (Path(resources.__file__).resolve().parent, Path(__file__).resolve().parents[1])  # filters, jobs


@dataclass(frozen=True)
class Reuse:
    """A stage a rerun reused: when its tables were made and how many seconds that took."""

    finished: str
    seconds: float
    details: dict[str, Any]

    def line(self, stage: str, what: str) -> str:
        return (f"[{stage}] reused {what} of {self.finished} (computed in {self.seconds:,.1f} s; inputs, settings "
                "and code unchanged)")


@cache
def code_fingerprint() -> str:
    """sha256 of every Python file of the package (cc_sieve.filters and cc_sieve.jobs): changed code, new tables."""
    digest = hashlib.sha256()
    for root in PACKAGE_FOLDERS:
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def local_path(file: str | Path) -> Path:
    """A path from a local path or a file: URI (as Spark's inputFiles gives them)."""
    text = str(file)
    return Path(urllib.parse.unquote(urllib.parse.urlparse(text).path)) if text.startswith("file:") else Path(text)


def file_listing(paths: list[Path]) -> list[list]:
    """[path, size, mtime_ns] of every file under `paths` (files or folders), sorted; a missing path is listed
    as missing, so it never matches a listing where it was present."""
    listing = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            try:
                stat = os.stat(file)
            except FileNotFoundError:
                listing.append([str(file), None, None])
                continue
            listing.append([str(file), stat.st_size, stat.st_mtime_ns])
    return sorted(listing, key=lambda item: item[0])


def fingerprint(stage: str, inputs: dict[str, Any]) -> str:
    """One hash of the stage, what it read and its settings (JSON-able; tuples as lists), and the code."""
    text = json.dumps({"stage": stage, "inputs": inputs, "code": code_fingerprint()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class StageRecord:
    """The record of one stage's tables (folders or files under `out`)."""

    out: Path
    stage: str
    tables: tuple[str, ...]

    @property
    def path(self) -> Path:
        return self.out / f"{self.stage}{RECORD_SUFFIX}"

    def table_paths(self) -> list[Path]:
        return [self.out / table for table in self.tables]

    def read(self) -> dict[str, Any]:
        try:
            record = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def details(self) -> dict[str, Any]:
        """What the last finished run of the stage recorded beside its fingerprint (settings it read with)."""
        return self.read().get("details", {})

    def reusable(self, stage_fingerprint: str) -> Reuse | None:
        """The reuse when the record matches `stage_fingerprint` and the tables are as the stage wrote them."""
        record = self.read()
        if not record or record.get("fingerprint") != stage_fingerprint \
                or record.get("files") != file_listing(self.table_paths()):
            return None
        return Reuse(record["finished"], record["seconds"], record.get("details", {}))

    def start(self, details: dict[str, Any] | None = None) -> None:
        """Before the stage writes: a record without a fingerprint, which no rerun reuses (a stage that dies
        halfway leaves nothing to reuse), holding what the stage reads with."""
        self.write({"stage": self.stage, "details": details or {}})

    def finish(self, stage_fingerprint: str, seconds: float, details: dict[str, Any] | None = None) -> None:
        """After the stage wrote every table: the record of its fingerprint and files."""
        self.write({"stage": self.stage, "fingerprint": stage_fingerprint, "tables": list(self.tables),
                    "files": file_listing(self.table_paths()), "seconds": seconds,
                    "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"), "details": details or {}})

    def write(self, record: dict[str, Any]) -> None:
        """Under a temporary name, then renamed: a reader sees the old record or the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        temporary.write_text(json.dumps(record, indent=1, sort_keys=True))
        os.replace(temporary, self.path)
