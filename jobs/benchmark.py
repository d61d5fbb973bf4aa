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

from jobs.compare import BenchmarkResult, log_benchmark
from jobs.config import BenchmarkConfig, check_tracking_uri, load_benchmark_config
from jobs.errors import UserError
from jobs.inputs import InputOptions, resolve_inputs
from jobs.options import ReadOptions
from jobs.s3 import S3Options


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cc-sieve benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="benchmark preset (default conf/benchmark/default.yaml)")
    parser.add_argument("--input", action="append", help="overrides input.specs of the preset (repeatable)")
    parser.add_argument("--recipes", help="comma-separated recipe names or YAML paths (overrides the preset)")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: sqlite:///mlflow.db here)")
    parser.add_argument("--experiment", help="MLflow experiment name")
    parser.add_argument("--master", help="Spark master (overrides spark.master)")
    parser.add_argument("--output", help="working folder for the tables (overrides output)")
    parser.add_argument("--no-report", action="store_true", help="skip the transparency report")
    return parser.parse_args(argv)


def apply_overrides(config: BenchmarkConfig, args: argparse.Namespace) -> BenchmarkConfig:
    updates: dict = {}
    if args.input:
        updates["input"] = config.input.model_copy(update={"specs": args.input})
    if args.recipes:
        updates["recipes"] = [r.strip() for r in args.recipes.split(",") if r.strip()]
    if args.tracking_uri or args.experiment:
        updates["tracking"] = config.tracking.model_copy(update={
            k: v for k, v in {"uri": args.tracking_uri, "experiment": args.experiment}.items() if v})
    if args.master:
        updates["spark"] = config.spark.model_copy(update={"master": args.master})
    if args.output:
        updates["output"] = args.output
    if args.no_report:
        updates["report"] = False
    return BenchmarkConfig.model_validate({**config.model_dump(), **{k: (v.model_dump() if hasattr(
        v, "model_dump") else v) for k, v in updates.items()}})


def main(argv: list[str] | None = None) -> int:
    from jobs.recipes import load_recipes
    from jobs.spark import get_spark
    from jobs.stages import check_measurements

    args = parse_args(argv)
    config = apply_overrides(load_benchmark_config(args.config), args)
    recipes = load_recipes(config.recipes)  # every recipe validated before Spark starts
    check_measurements(config, recipes)
    check_tracking_uri(config.tracking.uri)
    uris = resolve_inputs(config.input.specs, InputOptions(
        manifest_base=config.input.manifest_base, limit=config.input.limit, sample=config.input.sample,
        seed=config.input.seed))
    spark = get_spark(f"cc-sieve benchmark {config.name}", master=config.spark.master,
                      overrides=config.spark.conf)
    result = run_benchmark(spark, config, recipes, uris)
    print(comparison_table(result))
    print(where_to_look(result))
    return 0


def run_benchmark(spark, config: BenchmarkConfig, recipes, uris: list[str]) -> BenchmarkResult:
    """The whole benchmark on an existing Spark session; returns what was logged."""
    from jobs.stages import annotate_stage, dedup_stage, ingest_stage

    out = Path(config.output).resolve()
    stage_seconds: dict[str, float] = {}
    read_options = ReadOptions(engine=config.input.engine, s3=S3Options.from_env())
    ingest = ingest_stage(spark, uris, out, read_options, stage_seconds)
    documents = spark.read.parquet(str(out / "ingest" / "documents"))
    annotations, measures, specs = annotate_stage(spark, documents, config, recipes, out, stage_seconds)
    table = dedup_stage(spark, annotations, config, measures, out, stage_seconds)
    result = log_benchmark(spark, config, recipes, uris, ingest, documents, table, measures, specs,
                           stage_seconds, out)
    if config.report:
        from jobs.report import write_report

        index = write_report(result.parent_run_id, out / "report", config.tracking.uri)
        result.report_dir = str(index.parent)
    return result


def comparison_table(result: BenchmarkResult) -> str:
    """One row per recipe; a harm column reads "rate among kept (change against raw)". Detectors that
    flag no input document are named under the table instead of filling it with zeros."""
    baseline = result.recipes[0].metrics if result.recipes else {}
    raw = next((r.metrics for r in result.recipes if r.name == "raw"), baseline)
    shown = [h for h in result.harm_detectors if raw.get(f"harm_rate.{h}", 0) > 0]
    silent = [h for h in result.harm_detectors if h not in shown]
    header = ["recipe", "docs kept", "retention", "dup rate", "PII/1k docs", *shown, "collateral"]
    rows = [header]
    for recipe in result.recipes:
        m = recipe.metrics
        row = [recipe.name, f"{m['docs_kept']:,.0f}", f"{m['retention_docs']:.1%}",
               f"{m.get('duplicate_rate', 0):.1%}", f"{m.get('pii_per_1k_docs', 0):,.0f}"]
        for h in shown:
            change = -m.get(f"reduction_vs_raw.harm_rate.{h}", 0.0)
            row.append(f"{m.get(f'harm_rate.{h}', 0):.1%}" + ("" if recipe.name == "raw" else f" ({change:+.0%})"))
        row.append(f"{m['collateral']:.1%}" if "collateral" in m and m["docs_removed"] else "-")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(
        r, widths, strict=True))) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    lines.append("harm columns: share of kept documents the detector flags (relative change against raw); "
                 "collateral: share of removed documents no detector flags")
    if silent:
        lines.append(f"no input document flagged by: {', '.join(silent)}")
    return "\n".join(lines)


def where_to_look(result: BenchmarkResult) -> str:
    lines = [f"MLflow: experiment '{result.experiment}' in {result.tracking_uri} "
             f"(parent run {result.parent_run_id}); browse with `make mlflow-ui` -> http://127.0.0.1:5000"]
    if result.report_dir:
        lines.append(f"transparency report: {result.report_dir}/index.html")
    lines.append(f"tables (documents, annotations, dedup): {result.output}")
    return "\n".join(lines)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as error:
        print(f"cc-sieve benchmark: {error}", file=sys.stderr)
        sys.exit(2)
