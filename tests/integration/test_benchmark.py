"""The benchmark end to end on the real samples: MLflow store, notebook, MLflow server, report, no PII out."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cc_sieve.filters.pii import PiiAnnotator, in_sample, ner_salt
from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.benchmark import apply_overrides, parse_args, run_benchmark
from cc_sieve.jobs.config.presets import load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipe, load_recipes
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.redact import mlflow_markdown_text
from cc_sieve.jobs.tracking import plots
from cc_sieve.jobs.tracking.runs import dashboard_url
from tests.support.browser import ARTIFACTS, screenshot
from tests.support.s3server import ACCESS_KEY, SECRET_KEY, free_port
from tests.support.samples import CC_SAMPLES
from tests.support.shareable import logged_texts

RECIPES = ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords", "pii-dolma"]


@pytest.fixture(scope="module")
def benchmark_run(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmark")
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    # Beside the real samples: a file that is not a crawl file and a shard that does not exist. Both are
    # recorded as failures and counted in MLflow while the six real shards finish.
    broken = folder / "broken"
    broken.mkdir()
    (broken / "not-a-warc.warc.gz").write_bytes(b"this is not a WARC file\n" * 40)
    args = parse_args(["--input", str(CC_SAMPLES), "--input", str(broken / "not-a-warc.warc.gz"),
                       "--input", str(broken / "missing.warc.gz"),
                       "--recipes", ",".join(RECIPES), "--tracking-uri", tracking_uri,
                       "--output", str(folder / "out"), "--experiment", "cc-sieve-test"])
    config = apply_overrides(load_benchmark_config(), args)
    result = run_benchmark(spark, config, load_recipes(config.recipes), resolve_inputs(config.input))
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    return {"result": result, "client": client, "tracking_uri": tracking_uri, "folder": folder,
            "annotations": spark.read.parquet(str(folder / "out" / "annotations")),
            "table_path": folder / "out"}


def children(run):
    client = run["client"]
    parent = client.get_run(run["result"].parent_run_id)
    return parent, client.search_runs([parent.info.experiment_id],
                                      f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")


def every_logged_text(benchmark_run) -> list[tuple[str, str]]:
    return logged_texts(benchmark_run["client"], benchmark_run["result"].parent_run_id, benchmark_run["folder"])


CONTACT_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"]


def input_pii(benchmark_run, spark) -> set[str]:
    """The contact details the benchmark itself found in the input texts (from its spans)."""
    out = benchmark_run["table_path"]
    documents = spark.read.parquet(str(out / "ingest" / "documents")).select("doc_id", "text")
    rows = spark.read.parquet(str(out / "annotations")).where("pii_total > 0").select(
        "doc_id", "pii_spans").join(documents, "doc_id").collect()
    return {row["text"][span["start"]:span["end"]] for row in rows for span in row["pii_spans"]
            if span["type"] in CONTACT_TYPES}


class SectionParser(HTMLParser):
    """The page's section headings (h2, h3) and every number with the run and metric it says it came from."""

    def __init__(self):
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.numbers: list[tuple[str, str, float]] = []
        self.anchors: set[str] = set()
        self.links: set[str] = set()
        self._heading: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("h2", "h3"):
            self._heading = tag
        if "id" in attributes:
            self.anchors.add(attributes["id"])
        if tag == "a":
            self.links.add(attributes.get("href", ""))
        if "data-metric" in attributes:
            self.numbers.append((attributes["data-run"], attributes["data-metric"], float(attributes["data-value"])))

    def handle_endtag(self, tag):
        if tag == self._heading:
            self._heading = None

    def handle_data(self, data):
        if self._heading and data.strip():
            self.headings.append((self._heading, data.strip()))


def test_one_parent_and_one_child_per_recipe_with_every_metric(benchmark_run):
    parent, recipe_runs = children(benchmark_run)
    assert parent.data.tags["cc_sieve.role"] == "benchmark"
    assert sorted(r.data.tags["cc_sieve.recipe"] for r in recipe_runs) == sorted(RECIPES)
    assert parent.data.metrics[M.SHARDS] == 8 and parent.data.metrics[M.DOCUMENTS] == 716
    assert parent.data.metrics[M.SHARDS_FAILED] == 2 and parent.data.metrics[M.FAILURES] == 2
    assert parent.data.params["input.crawl_ids"] == "CC-MAIN-2019-30,CC-MAIN-2019-51,CC-MAIN-2020-34,CC-MAIN-2024-22"
    profanity_change = M.change(M.harm("profanity", "readable_rate"))
    required = {M.DOCS_IN, M.DOCS_KEPT, M.RETENTION_DOCS, M.CHARS_KEPT, M.WORDS_KEPT, M.NEAR_DUP_RATE,
                M.EXACT_DUP_RATE, M.PII_PER_1K_DOCS, M.PII_DOC_RATE, M.interval(M.PII_DOC_RATE, "ci_low"),
                M.COLLATERAL, M.interval(M.COLLATERAL, "ci_high"), profanity_change, M.measurable(profanity_change),
                M.headline_change("profanity")}  # adult_url: no URL list is calibrated on web pages (not estimable)
    for run in recipe_runs:
        metrics = run.data.metrics
        expected = required - {M.COLLATERAL, M.interval(M.COLLATERAL, "ci_high")} if metrics[M.DOCS_KEPT] == 716 \
            else required  # a recipe that removes nothing has no collateral share
        assert expected <= set(metrics), expected - set(metrics)
        assert metrics[M.DOCS_IN] == 716
        for name, value in metrics.items():
            if M.interval(name, "ci_low") in metrics:
                assert metrics[M.interval(name, "ci_low")] <= value <= metrics[M.interval(name, "ci_high")], name
    assert parent.data.params["input.text_source_mixed"] == "true"
    assert "WET: Common Crawl's extracted text" in parent.data.params["input.text_source"]


def test_failed_shards_are_an_artifact_of_the_benchmark_run(benchmark_run, tmp_path):
    parent, _ = children(benchmark_run)
    local = benchmark_run["client"].download_artifacts(parent.info.run_id, "failures.csv", str(tmp_path))
    failures = {Path(row["source_shard"]).name: row["error_class"]
                for row in csv.DictReader(open(local, newline=""))}
    assert failures == {"not-a-warc.warc.gz": "not_a_shard", "missing.warc.gz": "missing"}


def test_counts_equal_a_direct_count_over_the_annotations(benchmark_run, spark):
    _, recipe_runs = children(benchmark_run)
    annotations = benchmark_run["annotations"]
    by_name = {r.data.tags["cc_sieve.recipe"]: r for r in recipe_runs}
    assert by_name["raw"].data.metrics[M.DOCS_KEPT] == annotations.count() == 716
    for name in ["gopher", "badwords", "url-blocklist"]:
        predicates = load_recipe(name).removal_predicates()
        removed = " OR ".join(f"coalesce(({sql}), false)" for sql in predicates.values())
        direct = annotations.where(f"NOT ({removed})").count()
        assert by_name[name].data.metrics[M.DOCS_KEPT] == direct, name


def test_ner_types_on_the_ner_sample_with_intervals_and_their_web_page_precision(benchmark_run, tmp_path):
    parent, recipe_runs = children(benchmark_run)
    annotations = benchmark_run["annotations"]
    config = load_benchmark_config()
    read = annotations.where("pii_ner_scanned")
    sampled = read.count()
    assert sampled == sum(in_sample(row["doc_id"], config.pii.ner_sample, ner_salt(config.pii.ner_seed))
                          for row in annotations.select("doc_id").collect())
    assert 40 < sampled < 110  # about 10 % of 716
    assert annotations.where("NOT pii_ner_scanned AND pii_PERSON IS NOT NULL").count() == 0
    raw = {r.data.tags["cc_sieve.recipe"]: r.data.metrics for r in recipe_runs}["raw"]
    assert raw[M.PII_NER_SCANNED] == sampled and raw[M.PII_SCANNED] == 716
    people = read.where(" OR ".join(f"pii_{e} > 0" for e in ("PERSON", "LOCATION", "DATE_TIME", "EMAIL_ADDRESS",
                                                              "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE")))
    assert raw[M.PII_PEOPLE_RATE] == pytest.approx(people.count() / sampled, rel=1e-3)  # logged to 4 digits
    assert raw[M.pii_doc_share("PERSON")] == pytest.approx(read.where("pii_PERSON > 0").count() / sampled, rel=1e-3)
    # raw keeps every document: entities per 1,000 documents is the sample's per word, times the words per group
    assert raw[M.pii_per_1k_docs("PERSON")] > 1000
    for run in recipe_runs:
        metrics = run.data.metrics
        for entity in ("PERSON", "LOCATION", "NRP", "DATE_TIME"):
            for name in (M.pii_per_1k_docs(entity), M.pii_doc_share(entity)):
                if metrics[M.PII_NER_SCANNED]:
                    assert {name, M.interval(name, "ci_low"), M.interval(name, "ci_high"), M.change(name),
                            M.interval(M.change(name), "ci_high")} <= set(metrics), (run.info.run_name, name)
        assert {M.PII_PEOPLE_RATE, M.interval(M.PII_PEOPLE_RATE, "ci_low")} <= set(metrics)
        # the run's description gives it beside the pattern-found PII (they can move apart: fineweb, gopher)
        assert (f"| documents with PII about people (NER sample) | {raw[M.PII_PEOPLE_RATE]:.1%} | "
                f"{metrics[M.PII_PEOPLE_RATE]:.1%} [") in run.data.tags["mlflow.note.content"]
    # and the benchmark run's comparison has its column, one cell per recipe
    lines = parent.data.tags["mlflow.note.content"].splitlines()
    column = [cell.strip() for cell in lines[2].split("|")].index("documents with PII about people (NER sample)")
    for run in recipe_runs:
        recipe = mlflow_markdown_text(run.data.tags["cc_sieve.recipe"])  # url\\-blocklist
        cell = next(line for line in lines if line.startswith(f"| {recipe} |")).split("|")[column].strip()
        said = M.says(run.data.metrics, M.PII_PEOPLE_RATE) or "n/a"  # from the logged metrics: 4 digits
        if " pts" in said:
            assert float(cell.split(" pts")[0]) == pytest.approx(float(said.split(" pts")[0]), abs=0.11), recipe
        else:
            assert cell == said, recipe
    # each type's web-page precision is logged (web_calibration.json) and shown beside its count in the report
    local = benchmark_run["client"].download_artifacts(parent.info.run_id, "web_calibration.json", str(tmp_path))
    precision = json.loads(Path(local).read_text())["pii_entities"]["PERSON"]["precision"]
    page = (Path(benchmark_run["result"].report_dir) / "index.html").read_text()
    assert (f"PERSON per 1,000 documents (NER sample); web-page precision {precision['value']:.2f} "
            f"[{precision['ci_low']:.2f}, {precision['ci_high']:.2f}]") in page
    # a count from too few sampled documents would say that its bracket is no interval (none on this input)
    thin = sum(M.sampled_per_1k_too_thin(run.data.metrics, entity) for run in recipe_runs
               for entity in ("PERSON", "LOCATION", "NRP", "DATE_TIME"))
    assert page.count("after recipe: too few sampled documents hold it for an interval") == thin
    # every recipe's count rests on fewer documents than its intervals were seen to hold at: the report says so
    assert all(run.data.metrics[M.PII_NER_SCANNED] < M.SAMPLED_PER_1K_CHECKED_READ for run in recipe_runs)
    assert page.count("documents NER read. Half of these entities sit in") == len(recipe_runs) == 7
    assert f"rest on the {raw[M.PII_NER_SCANNED]:,.0f} kept documents NER read" in page


def test_recipes_that_target_a_harm_do_not_raise_it(benchmark_run):
    _, recipe_runs = children(benchmark_run)
    by_name = {r.data.tags["cc_sieve.recipe"]: r.data.metrics for r in recipe_runs}
    raw = by_name["raw"]
    assert by_name["badwords"][M.harm("ldnoobw")] < raw[M.harm("ldnoobw")]
    assert by_name["url-blocklist"][M.harm("url_adult")] <= raw[M.harm("url_adult")]
    assert by_name["pii-dolma"][M.PII_DOC_RATE] < raw[M.PII_DOC_RATE]
    assert by_name["pii-dolma"][M.harm("pii_density")] < raw[M.harm("pii_density")]
    # A recipe raises the rate of a harm it does not target when it removes other documents: the
    # blocklist recipe keeps the one page on UT1's mixed_adult list and removes another page.
    assert by_name["url-blocklist"][M.harm("url_mixed_adult")] > raw[M.harm("url_mixed_adult")] > 0


def test_a_recipe_is_graded_only_by_detectors_independent_of_its_lists(benchmark_run):
    """badwords filters with LDNOOBW: the ldnoobw detector is circular for it, and its collateral counts the
    removed documents that none of the other detectors flags (a direct count over the annotations)."""
    _, recipe_runs = children(benchmark_run)
    badwords = next(r for r in recipe_runs if r.data.tags["cc_sieve.recipe"] == "badwords")
    assert badwords.data.params["graders.ldnoobw"] == "circular"
    assert badwords.data.params["graders.profanity"] == "independent"
    annotations = benchmark_run["annotations"]
    predicate = load_recipe("badwords").removal_predicates()["badwords_ldnoobw"]
    graders = [name for name, verdict in badwords.data.params.items() if name.startswith("graders.")
               and verdict == "independent" and f"harm_{name.split('.', 1)[1]}" in annotations.columns]
    flagged = " OR ".join(f"coalesce(harm_{name.split('.', 1)[1]}, false)" for name in graders)
    direct = annotations.where(f"coalesce(({predicate}), false) AND NOT ({flagged})").count()
    assert badwords.data.metrics[M.REMOVED_UNFLAGGED] == direct > 0


NOTEBOOKS = REPO_ROOT / "notebooks"


def executed_notebook(experiment: str):
    """notebooks/compare_recipes.ipynb run headless from notebooks/, where Jupyter starts, with EXPERIMENT set as
    a parameter (papermill's way: a cell after the parameters cell) and the store from the environment."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / "compare_recipes.ipynb", as_version=4)
    parameters = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    notebook.cells.insert(parameters + 1, nbformat.v4.new_code_cell(f"EXPERIMENT = {experiment!r}"))
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def test_notebook_finds_the_store_from_its_folder_and_shows_the_whole_comparison(benchmark_run, monkeypatch):
    from nbconvert import HTMLExporter

    monkeypatch.setenv("MLFLOW_TRACKING_URI", benchmark_run["tracking_uri"])
    before = sorted(NOTEBOOKS.iterdir())
    notebook = executed_notebook("cc-sieve-test")
    assert sorted(NOTEBOOKS.iterdir()) == before  # no stray mlflow.db or mlruns/ beside the notebook
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.get("name") == "stderr"]
    html = "\n".join(output.get("data", {}).get("text/html", "") for output in outputs)
    text = "\n".join(output.get("data", {}).get("text/markdown", "") for output in outputs)
    assert "716 documents from 8 shards (2 failed), 7 recipes" in text
    parent, recipe_runs = children(benchmark_run)
    assert f"/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}" in text
    by_name = {run.data.tags["cc_sieve.recipe"]: run.data.metrics for run in recipe_runs}
    for recipe, metrics in by_name.items():  # every recipe, with its colour, its rates as percentages
        assert f"{recipe}</th>" in html and plots.recipe_colour(recipe) in html
        assert f">{metrics[M.RETENTION_DOCS]:.1%}</td>" in html
        assert f">{M.says(metrics, M.PII_DOC_RATE) or '-'}</td>" in html
        assert f">{metrics[M.PII_PEOPLE_RATE]:.1%}</td>" in html
        assert f">{M.says(metrics, M.PII_PEOPLE_RATE)}</td>" in html
    assert "PII about people</th>" in html and "NER read</th>" in html
    assert html.count("not estimable") >= 7 and "collateral</th>" in html
    assert html.count("<img alt='what each recipe keeps against what it leaves'") == 1  # the headline chart
    page = ARTIFACTS / "compare_recipes.html"  # the executed notebook as a page, beside its screenshot
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(HTMLExporter().from_notebook_node(notebook)[0])
    screenshot(page, "notebook.png", benchmark_run["folder"] / "chromium-notebook", width=1300, height=6400)


def test_notebook_refuses_a_store_that_does_not_exist(tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    missing = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    with pytest.raises(CellExecutionError, match=f"{missing} does not exist; run a benchmark first"):
        executed_notebook("cc-sieve")
    assert not missing.exists()


@pytest.fixture(scope="module")
def mlflow_server(benchmark_run):
    """`mlflow server` over the benchmark's store, on 127.0.0.1 for this module's tests."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri",
                               benchmark_run["tracking_uri"], "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})  # no job workers
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_mlflow_server_on_loopback_serves_the_runs_over_rest(benchmark_run, mlflow_server):
    experiment_id = children(benchmark_run)[0].info.experiment_id
    request = urllib.request.Request(f"{mlflow_server}/api/2.0/mlflow/runs/search", method="POST",
                                     headers={"Content-Type": "application/json"},
                                     data=json.dumps({"experiment_ids": [experiment_id],
                                                      "max_results": 100}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = json.load(response)["runs"]
    parent = children(benchmark_run)[0]
    assert sorted(r["info"]["run_name"] for r in runs) == sorted([*RECIPES, parent.info.run_name])
    served = {r["info"]["run_id"]: r for r in runs}[parent.info.run_id]
    assert {m["key"]: m["value"] for m in served["data"]["metrics"]}[M.DOCUMENTS] == 716


def test_the_dashboard_in_a_browser_shows_the_headline_the_descriptions_and_the_report(benchmark_run,
                                                                                        mlflow_server):
    """What a reviewer sees in MLflow's UI, in headless Chromium: the saved headline view (the benchmark's run
    expanded to its recipes, with their colours and headline columns), a recipe's run with its description,
    and the report inside MLflow's artifact viewer. Screenshots go to build/test-artifacts/."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: `make test` installs the Debian package chromium"
    parent, recipe_runs = children(benchmark_run)
    experiment = parent.info.experiment_id
    fineweb = next(r for r in recipe_runs if r.data.tags["cc_sieve.recipe"] == "fineweb")
    shots = REPO_ROOT / "build" / "test-artifacts"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1700, "height": 1000})
        page.goto(dashboard_url(mlflow_server, experiment))
        page.get_by_text(parent.info.run_name).wait_for(timeout=60_000)
        for column in (M.RETENTION_DOCS, M.NEAR_DUP_RATE, M.PII_DOC_RATE, M.COLLATERAL):
            assert page.get_by_test_id(f"sort-header-{column}").is_visible(), column
        page.get_by_role("button", name="Close").last.click()  # MLflow's assistant panel, beside the table
        page.get_by_role("row").filter(has_text=parent.info.run_name).get_by_role("button").first.click()
        for recipe in RECIPES:
            page.get_by_role("link", name=recipe, exact=True).wait_for(timeout=30_000)
        for run in recipe_runs:  # logged with 4 significant digits, so shown whole (as JavaScript prints them)
            retention = format(run.data.metrics[M.RETENTION_DOCS], "g")
            assert len(retention) <= 6 and page.get_by_role("gridcell", name=retention, exact=True).count() >= 1
        page.screenshot(path=shots / "mlflow-runs.png")

        page.goto(f"{mlflow_server}/#/experiments/{experiment}/runs/{fineweb.info.run_id}")
        kept = fineweb.data.metrics[M.DOCS_KEPT]
        page.get_by_text(f"fineweb keeps {kept:,.0f} of 716 documents").wait_for(timeout=60_000)
        page.screenshot(path=shots / "mlflow-recipe-run.png", full_page=True)

        page.goto(f"{mlflow_server}/#/experiments/{experiment}/runs/{parent.info.run_id}")  # the comparison
        page.get_by_role("columnheader", name="documents with PII about people (NER sample)").wait_for(timeout=60_000)
        page.get_by_text("Show more").first.click()  # MLflow folds a long description
        page.screenshot(path=shots / "mlflow-benchmark-run.png", full_page=True)

        page.goto(f"{mlflow_server}/#/experiments/{experiment}/runs/{parent.info.run_id}/artifacts/report/index.html")
        report = page.frame_locator("iframe").first
        report.get_by_role("heading", name="Summary").wait_for(timeout=60_000)
        report.get_by_role("link", name="fineweb").first.click()  # an in-page anchor, inside MLflow's viewer
        report.get_by_role("heading", name="Recipe fineweb").wait_for()
        page.screenshot(path=shots / "mlflow-report.png")
        browser.close()
    for name in ("mlflow-runs.png", "mlflow-recipe-run.png", "mlflow-benchmark-run.png", "mlflow-report.png"):
        assert (shots / name).stat().st_size > 30_000, name


def test_no_pii_from_the_input_in_params_metrics_or_artifacts(benchmark_run, spark):
    found_in_input = input_pii(benchmark_run, spark)
    assert len(found_in_input) > 20  # the real samples hold e-mail addresses, phone and IP numbers
    texts = every_logged_text(benchmark_run)
    # at the default threshold 0.4 Presidio keeps phone numbers without a context word, some of 4-5 digits
    # ("1693", valid in Germany), which any count in a logged table can spell: those are not searched for
    identifying = {value for value in found_in_input if len(value) >= 6}
    leaks = [(where, value) for where, text in texts for value in identifying if value in text]
    assert not leaks, leaks[:5]
    # The excerpts of removed documents are real text: the detector finds no contact detail in them.
    excerpts = [sample["excerpt"] for where, text in texts if where.endswith("removed_samples.json")
                for sample in json.loads(text)]
    assert len(excerpts) > 50
    found = PiiAnnotator(mode="regex", entities=CONTACT_TYPES, score_threshold=0.4).annotate(
        {"doc_id": list(range(len(excerpts))), "text": excerpts, "url": [None] * len(excerpts),
         "language": [None] * len(excerpts)})
    assert sum(found["pii_total"]) == 0


def test_report_has_every_section_and_its_numbers_are_the_logged_ones(benchmark_run):
    report_dir = Path(benchmark_run["result"].report_dir)
    parent, recipe_runs = children(benchmark_run)
    page = SectionParser()
    page.feed((report_dir / "index.html").read_text())
    recipes = [run.data.tags["cc_sieve.recipe"] for run in sorted(recipe_runs, key=lambda r: r.info.start_time)]
    top = [text for level, text in page.headings if level == "h2"]
    assert top == ["Summary", *[f"Recipe {name}" for name in recipes], "Sources", "Uncertainty"]
    subsections = [text for level, text in page.headings if level == "h3"]
    for section in ["What it does", "What it keeps", "What it removes", "What it changes", "Who loses text",
                    "Examples"]:
        assert subsections.count(section) == len(recipes), section
    assert {link for link in page.links if link.startswith("#")} <= {f"#{a}" for a in page.anchors}
    assert not {link for link in page.links if not link.startswith("#")}  # nothing leaves the page
    markdown = (report_dir / "index.md").read_text()
    assert markdown.count("\n## ") == len(recipes) + 3
    runs = {run.info.run_id: run for run in [parent, *recipe_runs]}
    assert len(page.numbers) > 40 * len(recipes)
    for run_id, metric, value in page.numbers:
        assert value == pytest.approx(runs[run_id].data.metrics[metric], rel=1e-12, abs=1e-12), metric
    artifacts = {a.path for a in benchmark_run["client"].list_artifacts(parent.info.run_id, "report")}
    assert {"report/index.html", "report/index.md"} <= artifacts
    for run in recipe_runs:
        assert [a.path for a in benchmark_run["client"].list_artifacts(run.info.run_id, "report")] == [
            "report/index.html"]


def test_report_summary_and_headline_chart_show_pii_about_people_from_the_ner_sample(benchmark_run):
    """The Summary table and the headline chart carry PII about people (NER sample) beside the pattern-found PII:
    fineweb lowers the one and raises the other on the real samples, which pattern PII alone would hide."""
    parent, recipe_runs = children(benchmark_run)
    html_page = (Path(benchmark_run["result"].report_dir) / "index.html").read_text()
    summary = SectionParser()
    summary.feed(html_page.split("<h2 id='recipe-", 1)[0])
    shown = {(run_id, metric): value for run_id, metric, value in summary.numbers}
    for header in ("documents with pattern-found PII", "documents with PII about people (NER sample)",
                   "PII about people: change", "documents NER read"):
        assert f"<th>{header}</th>" in html_page
    by_name = {run.data.tags["cc_sieve.recipe"]: run for run in recipe_runs}
    for run in recipe_runs:
        metrics, run_id = run.data.metrics, run.info.run_id
        for name in (M.PII_DOC_RATE, M.PII_PEOPLE_RATE, M.change(M.PII_PEOPLE_RATE), M.PII_NER_SCANNED):
            assert shown[(run_id, name)] == metrics[name], (run.info.run_name, name)
    fineweb = by_name["fineweb"].data.metrics
    assert fineweb[M.change(M.PII_DOC_RATE)] < 0 < fineweb[M.interval(M.change(M.PII_PEOPLE_RATE), "ci_low")]
    people_change = M.change(M.PII_PEOPLE_RATE)
    cell = html_page.split(f"data-run='{by_name['fineweb'].info.run_id}' data-metric='{people_change}'", 1)[1]
    low, high = (100 * fineweb[M.interval(people_change, part)] for part in ("ci_low", "ci_high"))
    assert cell.split("</td>", 1)[0].endswith(
        f">{100 * fineweb[people_change]:+.2f} pts<span class='ci'>[{low:+.2f} pts, {high:+.2f} pts]</span>")
    raw_cell = html_page.split(f"data-run='{by_name['raw'].info.run_id}' data-metric='{people_change}'", 1)[1]
    assert ">no measurable change<span" in raw_cell.split("</td>", 1)[0]  # raw removes nothing
    baseline = {name.removeprefix(M.unfiltered("")): value for name, value in parent.data.metrics.items()
                if name.startswith(M.unfiltered(""))}
    panels = plots.headline_panels(baseline)
    assert [panel.metric for panel in panels[:3]] == [M.NEAR_DUP_RATE, M.PII_DOC_RATE, M.PII_PEOPLE_RATE]
    read = by_name["raw"].data.metrics[M.PII_NER_SCANNED]
    assert panels[2].title == f"PII about people (NER sample: {read:,.0f} of 716 docs)"


def test_report_opens_in_headless_chromium_and_is_screenshotted(benchmark_run):
    report_dir = Path(benchmark_run["result"].report_dir)
    screenshot(report_dir / "index.html", "report.png", benchmark_run["folder"] / "chromium-profile")


def test_credentials_never_reach_params_metrics_tags_or_artifacts(benchmark_run):
    for where, text in every_logged_text(benchmark_run):
        assert SECRET_KEY not in text and ACCESS_KEY not in text, where
