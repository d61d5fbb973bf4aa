"""MLflow logging for benchmark runs: one parent run per benchmark, one child run per recipe.

Only aggregate numbers, recipe settings, redacted input URIs and redacted excerpts leave the
job: no raw PII, no credentials (S3 keys live in the environment and are never read here).
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from importlib.metadata import version
from pathlib import Path

import mlflow

from cc_sieve.filters.resources import REPO_ROOT

PARAM_LIMIT = 6000
TAG_ROLE = "cc_sieve.role"
TAG_RECIPE = "cc_sieve.recipe"
TAG_BENCHMARK = "cc_sieve.benchmark"
TAG_RUN_COLOUR = "mlflow.runColor"  # the colour MLflow's UI draws the run in (runs table, charts)
BENCHMARK_COLOUR = "#24292f"  # the benchmark's own run, beside its recipes' colours (plots.recipe_colour)
# MLflow's UI opens an experiment tagged as model development on its runs table (not the GenAI overview), and
# loads a view saved in an experiment tag `mlflow.sharedViewState.<key>` from `#/experiments/<id>/runs?
# viewStateShareKey=<key>`: the view below shows the headline metrics as columns.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
DASHBOARD_VIEW = "cc-sieve-headline"


def dashboard_view_tag(headline_metrics: list[str]) -> tuple[str, str]:
    """The experiment tag that saves the reviewer's view: the headline metrics as columns, newest run first."""
    columns = [f"metrics.`{name}`" for name in headline_metrics]
    state = {"orderByKey": "attributes.start_time", "orderByAsc": False, "selectedColumns": columns,
             "columnOrder": columns}
    return f"mlflow.sharedViewState.{DASHBOARD_VIEW}", json.dumps(state)


def dashboard_url(server: str, experiment_id: str) -> str:
    return f"{server.rstrip('/')}/#/experiments/{experiment_id}/runs?viewStateShareKey={DASHBOARD_VIEW}"


def flatten(value, prefix: str = "") -> dict[str, str]:
    """Nested dicts and lists -> {"a.b.0": "v"} with string values, as MLflow params want."""
    flat: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list | tuple) and any(isinstance(v, dict | list | tuple) for v in value):
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}.{index}"))
    else:
        text = json.dumps(value) if isinstance(value, list | tuple) else str(value)
        flat[prefix] = text[:PARAM_LIMIT]
    return flat


def code_version() -> str:
    """The git commit of the code (with '+dirty' when the tree has changes), or the package version."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"cc-sieve {version('cc-sieve')}"


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def metric_name(name: str) -> str:
    """MLflow allows letters, digits, _ - . / and spaces in metric names."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


SIGNIFICANT_DIGITS = 4


def readable(value: float) -> float:
    """A metric as MLflow's UI shows it whole: 4 significant digits (0.1341, not 0.13407821229050279);
    counts stay exact. Four digits are more than the intervals support."""
    value = float(value)
    return value if value.is_integer() or not math.isfinite(value) else float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def log_metrics(metrics: dict[str, float]) -> None:
    mlflow.log_metrics({metric_name(k): readable(v) for k, v in metrics.items()})


def log_params(params: dict[str, str]) -> None:
    items = list(params.items())
    for start in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
        mlflow.log_params(dict(items[start:start + 100]))


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path
