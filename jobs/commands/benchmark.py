"""`cc-sieve benchmark`: ingest -> annotate once -> dedup -> evaluate every recipe -> MLflow.

One parent MLflow run per benchmark (input manifest as a dataset, crawl ids, shard counts and
failures, Spark master and parallelism, code version, config hash, stage times) and one child
run per recipe (the recipe's params, retention, removals per rule, duplicates, PII and harm
rates with their reduction against the unfiltered baseline, collateral), with artifacts.
Run as `cc-sieve benchmark --config conf/benchmark/default.yaml` or with spark-submit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow.parquet as pq
from mlflow.tracking import MlflowClient

from cc_sieve.filters.planting import find_truth
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.args import (
    add_input_arguments,
    add_spark_arguments,
    check_local_inputs,
    input_config,
    log_file,
    spark_config,
)
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.loading import validate
from cc_sieve.jobs.config.measurements import check_measurements
from cc_sieve.jobs.config.presets import BenchmarkConfig, check_tracking_uri, load_benchmark_config
from cc_sieve.jobs.config.recipes import Recipe, load_recipes
from cc_sieve.jobs.errors import RunFailure, run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.redact import printable, redact_uri
from cc_sieve.jobs.spark.ingest import IngestSummary
from cc_sieve.jobs.spark.session import get_spark
from cc_sieve.jobs.spark.stages import Timed, annotate_stage, dedup_stage, evaluate_stage, ingest_stage
from cc_sieve.jobs.tracking.benchmark_log import (
    BenchmarkResult,
    BenchmarkRun,
    log_benchmark,
    mark_failed,
    quiet_tracking,
)
from cc_sieve.jobs.tracking.report import write_report
from cc_sieve.jobs.tracking.store import browse_hint


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("cc-sieve benchmark", __doc__)
    defaults = load_benchmark_config()
    parser.add_argument("--config", help="benchmark preset, a path or a name in conf/benchmark "
                                         "(default conf/benchmark/default.yaml)")
    parser.add_argument("--recipes", help="comma-separated recipe names or YAML paths (default: the preset's "
                                          f"recipes; default.yaml: {','.join(defaults.recipes)})")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: the preset's tracking.uri, else "
                                               "MLflow's sqlite:///mlflow.db in the working folder)")
    parser.add_argument("--experiment", help="MLflow experiment name (default: the preset's tracking.experiment; "
                                             f"default.yaml: {defaults.tracking.experiment})")
    parser.add_argument("--output", help="working folder for the tables; a rerun into it reuses finished stages "
                                         f"(default: the preset's output; default.yaml: {defaults.output})")
    parser.add_argument("--no-report", action="store_true", help="skip the transparency report")
    parser.add_argument("--max-failed-share", type=float,
                        help="stop when more than this share of the shards failed (default: only when all did)")
    add_input_arguments(parser, required=False, preset=True)
    add_spark_arguments(parser)
    return parser.parse_args(argv)


def apply_overrides(config: BenchmarkConfig, args: argparse.Namespace) -> BenchmarkConfig:
    """The preset with the flags that were given on top."""
    values = config.model_dump()
    values["input"] = input_config(args, config.input).model_dump()
    values["spark"] = spark_config(args, config.spark).model_dump()
    if args.recipes:
        values["recipes"] = [r.strip() for r in args.recipes.split(",") if r.strip()]
    values["tracking"].update({k: v for k, v in {"uri": args.tracking_uri, "experiment": args.experiment}.items() if v})
    if args.output:
        values["output"] = args.output
    if args.no_report:
        values["report"] = False
    if args.max_failed_share is not None:
        values["max_failed_share"] = args.max_failed_share
    return validate(BenchmarkConfig, values, "command line")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = apply_overrides(load_benchmark_config(args.config), args)
    recipes = load_recipes(config.recipes)  # every recipe validated before Spark starts
    check_measurements(config, recipes)
    check_tracking_uri(config.tracking.uri)
    uris = resolve_inputs(config.input)
    check_local_inputs(uris)
    truth, notes = find_truth(config.input.specs, config.input.truth)
    for note in notes:
        print(f"[truth] {note}", file=sys.stderr)
    spark = get_spark(f"cc-sieve benchmark {config.name}", master=config.spark.master,
                      conf_file=args.spark_conf, overrides=config.spark.conf,
                      log_file=log_file(args, Path(config.output)))
    quiet_tracking(args.verbose)
    result = run_benchmark(spark, config, recipes, uris, truth)
    print(comparison_table(result))
    print(where_to_look(result))
    return 0


def run_benchmark(spark, config: BenchmarkConfig, recipes: list[Recipe], uris: list[str],
                  truth: list[Path] | None = None) -> BenchmarkResult:
    """The whole benchmark on an existing Spark session; returns what was logged. `truth`: make-shards' planted
    truth files to score the recipes against (found beside the input when not given)."""
    out = Path(config.output).resolve()
    if truth is None:
        truth = find_truth(config.input.specs, config.input.truth)[0]
    timed = Timed(spark)
    ingested = timed.run("ingest", lambda: ingest_stage(spark, uris, out, ReadOptions.from_input(config.input)),
                         progress=False)  # the ingest prints shards and documents done itself
    ingest = ingested.summary
    check_failures(ingest, config.max_failed_share)
    documents = spark.read.parquet(*ingested.document_files)
    annotated = timed.run("annotate", lambda: annotate_stage(spark, documents, config, recipes, out),
                          ingest.documents)
    deduplicated = timed.run("dedup", lambda: dedup_stage(spark, annotated.table, config, out), ingest.documents)
    evaluation = timed.run("evaluate", lambda: evaluate_stage(spark, deduplicated, documents, config, recipes,
                                                              annotated.measures, truth), ingest.documents)
    stage_seconds = {**timed.seconds, **{f"annotate.{name}": seconds
                                         for name, seconds in annotated.annotator_seconds.items()}}
    result = log_benchmark(BenchmarkRun(config, recipes, ingest, annotated.specs, evaluation, stage_seconds, out,
                                        spark.sparkContext.master, spark.sparkContext.defaultParallelism,
                                        timed.reused, annotated.failed_documents))
    if config.report:
        try:
            index = write_report(result.parent_run_id, out / "report", config.tracking.uri)
        except Exception as error:
            mark_failed(MlflowClient(tracking_uri=config.tracking.uri),
                        [result.parent_run_id, *result.recipe_run_ids.values()], error)
            raise
        result.report_dir = str(index.parent)
    return result


def check_failures(ingest: IngestSummary, max_failed_share: float) -> None:
    """Stop before anything is annotated or logged when every shard failed, or more than the share allowed."""
    if ingest.shards_failed and (ingest.shards_failed == ingest.shards
                                 or ingest.shards_failed / ingest.shards > max_failed_share):
        failures = pq.read_table(Path(ingest.output) / "failures.parquet").to_pylist()
        first = next((f for f in failures if f["fatal"]), failures[0])
        raise RunFailure(f"{ingest.shards_failed} of {ingest.shards} shards failed (first: "
                         f"{printable(redact_uri(first['source_shard']))}: {first['error_class']}: "
                         f"{printable(first['message'])}); nothing was logged; every failure is in "
                         f"{ingest.output}/failures.parquet")


def harm_cell(metrics: dict[str, float], detector: str, circular: bool, baseline: bool = False) -> str:
    """The rate among the documents the detector reads, and its within-language change against the
    unfiltered input ("no change" when the interval holds 0); "c" marks a detector circular for the recipe."""
    rate = metrics.get(M.harm(detector, "readable_rate"), 0.0)
    change_name = M.change(M.harm(detector, "readable_rate"))
    if baseline or change_name not in metrics:
        return f"{rate:.1%}"
    moved = M.points(metrics[change_name]) if metrics.get(M.measurable(change_name)) else "no change"
    return f"{rate:.1%} {moved}" + (" c" if circular else "")


def comparison_table(result: BenchmarkResult) -> str:
    """One row per recipe. Harm columns: the share of the kept documents a detector reads that it flags,
    and the within-language change against the unfiltered input (points; "no change" when its 95 % interval
    holds 0). Detectors that flag no input document are named under the table instead of filling it."""
    baseline = result.baseline
    shown = [h for h in result.harm_detectors if baseline.get(M.harm(h, "rate"), 0) > 0]
    silent = [h for h in result.harm_detectors if h not in shown]
    rates = {M.NEAR_DUP_RATE: "near-dup >= 0.8", M.PII_DOC_RATE: "PII docs"}
    if M.PII_PEOPLE_RATE in baseline:
        rates[M.PII_PEOPLE_RATE] = "PII about people"
    header = ["recipe", "docs kept", "retention", *rates.values(), *shown, "collateral"]
    rows = [header, ["(unfiltered)", f"{baseline[M.DOCS_KEPT]:,.0f}", "100.0%",
                     *[f"{baseline[name]:.1%}" if name in baseline else "-" for name in rates],
                     *[harm_cell(baseline, h, False, baseline=True) for h in shown], "-"]]
    for recipe in result.recipes:
        m = recipe.metrics
        row = [recipe.name, f"{m[M.DOCS_KEPT]:,.0f}", f"{m[M.RETENTION_DOCS]:.1%}"]
        for name in rates:
            change_name = M.change(name)
            moved = (M.points(m[change_name]) if m.get(M.measurable(change_name)) else "no change") \
                if change_name in m else ""
            row.append(f"{m[name]:.1%} {moved}".strip() if name in m else "-")
        row += [harm_cell(m, h, recipe.graders.get(h) == "circular") for h in shown]
        row.append(f"{m[M.COLLATERAL]:.1%}" if M.COLLATERAL in m and m[M.DOCS_REMOVED] else "-")
        rows.append(row)
    lines = text_table(rows)
    lines.append("harm columns: share of the kept documents the detector reads that it flags, and the change against "
                 "the unfiltered input within each language group (points; no change: its 95 % interval holds 0); "
                 "c: the detector reads a list the recipe filters with, so it does not grade it")
    people = ("PII about people: among the kept documents spaCy's NER read (a seeded sample), those naming a "
              "person, place or date or holding a contact identifier; " if M.PII_PEOPLE_RATE in rates else "")
    lines.append("near-dup: kept documents with another kept document at estimated Jaccard >= 0.8; PII docs: kept "
                 f"documents with a pattern-found identifier (e-mail, phone, ...); {people}collateral: removed "
                 "documents none of the recipe's independent detectors flags")
    if silent:
        lines.append(f"no input document flagged by: {', '.join(silent)}")
    return "\n".join(lines + [""] + headline_table(result) + truth_table(result))


def text_table(rows: list[list[str]]) -> list[str]:
    """Rows of cells as aligned lines, the first column left-aligned, a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(
        row, widths, strict=True))) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return lines


def headline_table(result: BenchmarkResult) -> list[str]:
    """Each kind of harm's headline change per recipe, in words (metrics.says_headline)."""
    kinds = list(M.KIND_GRADERS)
    rows = [["headline change", *[kind.replace("_", " ") for kind in kinds]]]
    rows += [[recipe.name, *[M.says_headline(recipe.metrics, kind) for kind in kinds]] for recipe in result.recipes]
    return text_table(rows) + [
        "headline change: the kind's rate corrected for its detector's web-page errors, recipe minus unfiltered "
        "within each language group; not estimable: no independent detector with a usable calibration grades it"]


TRUTH_KINDS = {"near_dup": "near-dup", "exact_dup": "exact dup", "pii_docs": "PII", "toxic_docs": "toxic",
               "blocklisted_docs": "blocklisted"}


def truth_table(result: BenchmarkResult) -> list[str]:
    """When the input had planted truth (make-shards' truth.jsonl): the share of each kind of planted document
    that each recipe leaves in, and how many were planted; nothing otherwise."""
    kinds = [kind for kind in TRUTH_KINDS if any(M.truth(f"{kind}_planted") in r.metrics for r in result.recipes)]
    if not kinds:
        return []
    first = result.recipes[0].metrics
    rows = [["planted truth left", "retention",
             *[f"{TRUTH_KINDS[kind]} ({first.get(M.truth(f'{kind}_planted'), 0):,.0f})" for kind in kinds]]]
    for recipe in result.recipes:
        shares = [recipe.metrics.get(M.truth(f"{kind}_remaining_share")) for kind in kinds]
        rows.append([recipe.name, f"{recipe.metrics[M.RETENTION_DOCS]:.1%}",
                     *[f"{share:.1%}" if share is not None else "-" for share in shares]])
    return ["", *text_table(rows),
            "planted truth: the share of the documents make-shards planted (how many in brackets) that the recipe "
            "keeps; a duplicate is left when the recipe keeps both it and its original (lower is better)"]


def where_to_look(result: BenchmarkResult) -> str:
    """Where the runs, the report and the tables are, and how to browse the store the runs went to."""
    experiment_id = MlflowClient(tracking_uri=result.tracking_uri).get_run(result.parent_run_id).info.experiment_id
    lines = [f"MLflow: experiment '{result.experiment}' in {redact_uri(result.tracking_uri)} (benchmark run "
             f"{result.parent_run_id})",
             f"browse it: {browse_hint(result.tracking_uri, experiment_id, result.parent_run_id)}"]
    if result.report_dir:
        lines.append(f"transparency report: {result.report_dir}/index.html")
    lines.append(f"tables (documents, annotations, dedup): {result.output}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve benchmark"))
