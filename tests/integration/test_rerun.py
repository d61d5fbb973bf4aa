"""A rerun of the benchmark into the same output folder reuses the stages that finished there when their inputs,
settings and code are unchanged, logs new runs with the same metrics, and reruns a stage (and every stage after
it) when something it depends on changed: a setting, an input file, or its own table."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil

import pytest
from mlflow.tracking import MlflowClient

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.benchmark import apply_overrides, parse_args, run_benchmark, where_to_look
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipes
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark import reuse
from cc_sieve.jobs.spark.stages import annotate_stage, dedup_stage, ingest_stage
from cc_sieve.jobs.tracking.benchmark_log import TAG_REUSED
from tests.support.samples import JWARC_2019_51, WARC_2020_34, WHIRLWIND_WET

RECIPES = "raw,gopher,pii-dolma"


def printed(work):
    """What `work()` prints, and its result."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = work()
    return out.getvalue(), result


@pytest.fixture(scope="module")
def rerun(spark, tmp_path_factory):
    """The benchmark twice into one output folder, on copies of three real samples (18 documents)."""
    folder = tmp_path_factory.mktemp("rerun")
    inputs = folder / "inputs"
    inputs.mkdir()
    for name, sample in (("a.warc.gz", WARC_2020_34), ("b.warc.wet.gz", WHIRLWIND_WET), ("c.warc.gz", JWARC_2019_51)):
        shutil.copy(sample, inputs / name)
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    args = parse_args(["--input", str(inputs), "--recipes", RECIPES, "--tracking-uri", tracking_uri, "--output",
                       str(folder / "out"), "--experiment", "rerun", "--no-report"])
    config = apply_overrides(load_benchmark_config(), args)
    recipes, uris = load_recipes(config.recipes), resolve_inputs(config.input)
    first = printed(lambda: run_benchmark(spark, config, recipes, uris))
    second = printed(lambda: run_benchmark(spark, config, recipes, uris))
    return {"first": first, "second": second, "config": config, "recipes": recipes, "uris": uris,
            "out": folder / "out", "inputs": inputs, "client": MlflowClient(tracking_uri=tracking_uri)}


def test_a_rerun_reuses_every_finished_stage_and_logs_the_same_metrics_as_new_runs(rerun):
    (first_output, first), (second_output, second) = rerun["first"], rerun["second"]
    assert "reused" not in first_output
    assert "[ingest] reused the documents of 3 shards of " in second_output
    assert "[annotate] reused the annotations (" in second_output
    assert "[dedup] reused the clusters (" in second_output
    assert "[ingest] shards 3 (0 failed, 3 resumed) | records " in second_output and "| documents 18 |" in second_output
    assert first.parent_run_id != second.parent_run_id
    assert [r.name for r in second.recipes] == RECIPES.split(",")
    for before, after in zip(first.recipes, second.recipes, strict=True):
        assert after.metrics == before.metrics, after.name
        assert before.metrics[M.DOCS_IN] == 18
    assert second.baseline == first.baseline
    client = rerun["client"]
    runs = [client.get_run(result.parent_run_id) for result in (first, second)]
    assert TAG_REUSED not in runs[0].data.tags
    assert runs[1].data.tags[TAG_REUSED] == "ingest,annotate,dedup"
    assert runs[0].info.run_name != runs[1].info.run_name
    # a reused stage reports the seconds it took when it was computed, so throughput stays comparable
    for stage in ("annotate", "dedup"):
        assert runs[1].data.metrics[M.seconds(stage)] == runs[0].data.metrics[M.seconds(stage)]
    # the footer names the store the runs went to, and how to browse that store
    store = rerun["out"].parent / "mlflow.db"
    assert where_to_look(second).splitlines()[:2] == [
        f"MLflow: experiment 'rerun' in sqlite:///{store} (benchmark run {second.parent_run_id})",
        f"browse it: `mlflow server --backend-store-uri sqlite:///{store} --host 127.0.0.1 --port 5000`, then open "
        f"http://127.0.0.1:5000/#/experiments/{runs[1].info.experiment_id}/runs/{second.parent_run_id}"]


def stages(spark, rerun, config, uris=None):
    """Ingest, annotate and dedup on the rerun's output folder; what they printed."""
    out, recipes = rerun["out"], rerun["recipes"]
    text, ingested = printed(lambda: ingest_stage(spark, uris or rerun["uris"], out,
                                                  ReadOptions.from_input(config.input)))
    documents = spark.read.parquet(*ingested.document_files)
    annotated = printed(lambda: annotate_stage(spark, documents, config, recipes, out))
    deduplicated = printed(lambda: dedup_stage(spark, annotated[1].table, config, out))
    return text + annotated[0] + deduplicated[0]


def changed(config, **sections):
    values = config.model_dump()
    for section, settings in sections.items():
        values[section].update(settings)
    return type(config).model_validate(values)


def test_a_changed_setting_reruns_its_stage_and_those_after_it(rerun, spark):
    config = rerun["config"]
    assert stages(spark, rerun, config).count(" reused ") == 3
    # dedup's own setting: annotate is reused, dedup runs
    looser = stages(spark, rerun, changed(config, dedup={"verify_threshold": 0.6}))
    assert "[annotate] reused" in looser and "[dedup] reused" not in looser
    assert "[dedup] reused" in stages(spark, rerun, changed(config, dedup={"verify_threshold": 0.6}))
    # an annotator's setting (the PII measurement's): annotate and dedup run, the ingest is reused
    stricter = stages(spark, rerun, changed(config, pii={"score_threshold": 0.7}))
    assert "[ingest] reused" in stricter
    assert "[annotate] reused" not in stricter and "[dedup] reused" not in stricter
    # back to the first settings: nothing to reuse any more (the tables there are the last run's)
    back = stages(spark, rerun, config)
    assert "[annotate] reused" not in back and "[dedup] reused" not in back
    assert stages(spark, rerun, config).count(" reused ") == 3


def test_a_damaged_table_or_a_changed_input_is_never_reused(rerun, spark):
    config, out = rerun["config"], rerun["out"]
    stages(spark, rerun, config)
    part = sorted((out / "annotations").glob("part-*.parquet"))[0]
    with open(part, "r+b") as handle:  # truncated, as a full disk or a killed copy leaves it
        handle.truncate(part.stat().st_size // 2)
    damaged = stages(spark, rerun, config)
    assert "[ingest] reused" in damaged and "[annotate] reused" not in damaged and "[dedup] reused" not in damaged
    # one input file changed (here: touched): that shard is read again, and everything after it runs
    shard = rerun["inputs"] / "b.warc.wet.gz"
    stat = shard.stat()
    os.utime(shard, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = stages(spark, rerun, config)
    assert "[ingest] shards 3 (0 failed, 2 resumed)" in touched
    assert " reused " not in touched
    # another parser: every shard is read again
    reparsed = stages(spark, rerun, changed(config, input={"engine": "warcio"}))
    assert "[ingest] shards 3 (0 failed, 0 resumed)" in reparsed and " reused " not in reparsed
    # a run on fewer shards reads only those shards' documents, though the folder holds all three
    fewer = [uri for uri in rerun["uris"] if not uri.endswith("c.warc.gz")]
    text, ingested = printed(lambda: ingest_stage(spark, fewer, out, ReadOptions.from_input(config.input)))
    assert spark.read.parquet(*ingested.document_files).count() == 17


def test_after_a_code_change_resumed_shards_keep_the_seconds_their_read_took(rerun, spark, monkeypatch):
    config, out = rerun["config"], rerun["out"]
    stages(spark, rerun, config)
    read_seconds = json.loads((out / "ingest.stage.json").read_text())["seconds"]
    monkeypatch.setattr(reuse, "code_fingerprint", lambda: "the next version")  # nothing reusable as a stage
    text, ingested = printed(lambda: ingest_stage(spark, rerun["uris"], out, ReadOptions.from_input(config.input)))
    assert " reused " not in text and "[ingest] shards 3 (0 failed, 3 resumed)" in text  # each shard resumed
    assert read_seconds > 0 and ingested.seconds == read_seconds  # 0.30 s in one CI run; the bug logged 0.0
    assert json.loads((out / "ingest.stage.json").read_text())["seconds"] == read_seconds
