"""Where bundled data files (lexicons, blocklists, labeled sets, samples) are found.

Search order: $CC_SIEVE_DATA, the repository's data/ folder, then ../shared/data beside the
repository (the team's larger copies). A file found nowhere is an error naming every place tried.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository folder (conf/, data/). Imported from the zip that spark-submit ships (--py-files),
    this file's folder is inside the zip: the driver then takes CC_SIEVE_HOME, which `cc-sieve submit` sets."""
    here = Path(__file__).resolve().parent.parent
    if here.is_dir():
        return here
    return Path(os.environ.get("CC_SIEVE_HOME") or os.getcwd())


REPO_ROOT = project_root()


def data_roots() -> list[Path]:
    roots = []
    if os.environ.get("CC_SIEVE_DATA"):
        roots.append(Path(os.environ["CC_SIEVE_DATA"]))
    roots += [REPO_ROOT / "data", REPO_ROOT.parent / "shared" / "data"]
    return roots


def data_path(relative: str) -> Path:
    """Absolute path of a data file or folder given relative to a data root."""
    candidate = Path(relative).expanduser()
    if candidate.is_absolute():
        if candidate.exists():
            return candidate
        raise FileNotFoundError(f"{relative}: no such file")
    for root in data_roots():
        if (root / relative).exists():
            return root / relative
    tried = ", ".join(str(root) for root in data_roots())
    raise FileNotFoundError(f"{relative}: not found under any data folder ({tried})")
