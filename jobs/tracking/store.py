"""The MLflow store a reader means: where it is, whether it exists, and how to browse it.

MLflow opens any sqlite URI it is given and creates an empty database there, so a reader (the report command,
the notebook) started in the wrong folder would silently look at a new, empty store and leave a stray
mlflow.db behind. Readers check the store exists first (`check_store_exists`); the notebook finds the
repository's store from any folder inside it (`default_tracking_uri`).
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.config.presets import check_tracking_uri
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.redact import redact_uri

STORE_FILE = "mlflow.db"  # MLflow's default store in the working folder, where `make demo` writes
UI_PORT = 5000


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding a pyproject.toml, if any."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if (folder / "pyproject.toml").is_file()), None)


def default_tracking_uri(start: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI when set, else the repository's sqlite:///<repo>/mlflow.db, the repository found by
    walking up from `start` (the working folder) to its pyproject.toml."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    start = start or Path.cwd()
    root = repository_root(start)
    if root is None:
        raise ConfigError(f"no MLflow store: MLFLOW_TRACKING_URI is not set and no repository (pyproject.toml) "
                          f"contains {start}; set the tracking URI to the store a benchmark wrote")
    return f"sqlite:///{root / STORE_FILE}"


def local_store_path(uri: str) -> Path | None:
    """The file (sqlite) or folder (file store) a local tracking URI names; None for a server."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme.startswith("sqlite"):
        return Path(uri.split(":///", 1)[-1]).expanduser().resolve()
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path)).resolve()
    if parsed.scheme == "":
        return Path(uri).expanduser().resolve()
    return None


def check_store_exists(uri: str, source: str = "tracking URI") -> None:
    """A ConfigError when a local store does not exist (reading it would create an empty one) or a server does
    not answer; nothing is created."""
    path = local_store_path(uri)
    if path is None:
        check_tracking_uri(uri, source)
    elif not path.exists():
        raise ConfigError(f"{source} {redact_uri(uri)}: {path} does not exist; run a benchmark first (make demo) "
                          "or name the store a benchmark wrote")


def browse_hint(uri: str, experiment_id: str | None = None, run_id: str | None = None) -> str:
    """How to look at the store `uri` in MLflow's UI: a server's own URL, or the command that serves a local
    store on 127.0.0.1 (with `make mlflow-ui` when it is the repository's own store)."""
    page = f"#/experiments/{experiment_id}" + (f"/runs/{run_id}" if run_id else "") if experiment_id else ""
    path = local_store_path(uri)
    if path is None:
        return f"open {redact_uri(uri).rstrip('/')}/{page}"
    url = f"http://127.0.0.1:{UI_PORT}/{page}"
    if path == REPO_ROOT / STORE_FILE:
        return f"`make mlflow-ui`, then open {url}"
    server = f"--host 127.0.0.1 --port {UI_PORT}`, then open {url}"
    if uri.startswith("sqlite"):
        return f"`mlflow server --backend-store-uri sqlite:///{path} {server}"
    return f"`MLFLOW_ALLOW_FILE_STORE=true mlflow server --backend-store-uri {path.as_uri()} {server}"
