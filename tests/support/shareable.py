"""Everything a benchmark puts where others can read it: MLflow params, metric names, tags and text artifacts
of its runs, and the report folder."""

from __future__ import annotations

import re
from pathlib import Path

from mlflow.tracking import MlflowClient

TEXT_SUFFIXES = {".json", ".csv", ".md", ".html", ".yaml", ".txt"}
EMBEDDED_IMAGE = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def file_texts(folder: Path) -> list[tuple[str, str]]:
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            texts.append((str(path), EMBEDDED_IMAGE.sub("", path.read_text(errors="replace"))))
    return texts


def logged_texts(client: MlflowClient, parent_run_id: str, download_to: Path) -> list[tuple[str, str]]:
    """(where, text) for every param, metric name, tag (MLflow's own included: run descriptions) and text
    artifact of the benchmark's run and its recipes' runs."""
    parent = client.get_run(parent_run_id)
    runs = [parent, *client.search_runs([parent.info.experiment_id],
                                        f"tags.`mlflow.parentRunId` = '{parent_run_id}'")]
    texts = []
    for run in runs:
        texts += [(f"param {k}", f"{k}={v}") for k, v in run.data.params.items()]
        texts += [(f"metric {k}", k) for k in run.data.metrics]
        texts += [(f"tag {k}", f"{k}={v}") for k, v in run.data.tags.items()]
        local = Path(client.download_artifacts(run.info.run_id, "", str(download_to / run.info.run_id)))
        texts += file_texts(local)
    return texts
