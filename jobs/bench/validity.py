"""`make bench-validity`: do the benchmark's corrected prevalences and changes tell the truth? A simulation on the
labeled web pages, where the truth is known.

The population is the labeled web set (data/eval/web: 601 real Common Crawl passages and pages, each with its
labels and its weight back to the pool it was drawn from). For each seed, its strata are split at random in
two halves: one calibrates the detectors (web-page recall and specificity, as `cc-sieve calibrate` does on the
whole set), the other is the corpus a benchmark measures. Every shipped recipe is applied to the corpus (its
rules on each unit's annotations, as the annotate pass computes them), and the corpus's counters go through the
benchmark's own arithmetic (jobs/metrics.py Evaluator: buckets, bootstrap, Rogan-Gladen, within-language
standardisation). The truth is the labels: the weighted share of units holding a kind of harm a detector
grades, in the whole population, among the units the detector reads. Two checks:

- coverage: how often the corrected prevalence's 95 % interval (unfiltered input, and after each recipe) holds
  the population's true prevalence;
- sign: wherever a recipe's change of a detector's rate is measurable (its interval excludes 0), whether the
  true prevalence moves the same way (within each language group, at the unfiltered mix, as the headline).

The Spark path computes the same counters (tests/integration/test_evaluate.py checks them against direct
counts); this bench runs in one process, a few seconds per seed.

    python -m cc_sieve.jobs.bench.validity --seeds 20
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.harm import DETECTORS_BY_NAME, HarmAnnotator
from cc_sieve.filters.language import LANGUAGE_GROUPS, LanguageId, language_group
from cc_sieve.filters.web_calibration import LABEL_OF_KIND, web_units, weight_of
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.config.presets import DedupConfig
from cc_sieve.jobs.config.recipes import Recipe, load_recipes, required_annotators
from cc_sieve.jobs.errors import run_command
from cc_sieve.jobs.spark.evaluate import RecipePlan

RECIPES = ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords"]
DETECTORS = ["ldnoobw", "davidson_hate", "profanity"]
BUCKETS = 50


@dataclass
class Population:
    """The labeled units with what the benchmark would know of them (signals, flags) and the truth (labels)."""

    units: list[dict]
    rows: list[dict]  # annotation columns per unit
    weights: np.ndarray
    groups: np.ndarray  # language group index per unit
    strata: np.ndarray

    def positive(self, detector: str) -> np.ndarray:
        labels = {LABEL_OF_KIND[kind] for kind in DETECTORS_BY_NAME[detector].grades if kind in LABEL_OF_KIND}
        return np.array([bool(labels.intersection(unit["labels"])) for unit in self.units])

    def readable(self, detector: str) -> np.ndarray:
        return np.array([row[DETECTORS_BY_NAME[detector].column] is not None for row in self.rows])

    def flagged(self, detector: str) -> np.ndarray:
        return np.array([bool(row[DETECTORS_BY_NAME[detector].column]) for row in self.rows])


def population(recipes: list[Recipe]) -> Population:
    """Every unit annotated once by the annotators the recipes and the harm detectors need."""
    units = web_units()
    batch = {"doc_id": [u["id"] for u in units], "text": [u["text"] for u in units],
             "url": [u["url"] for u in units], "language": [None] * len(units)}
    columns: dict[str, list] = {"text_chars": [len(u["text"]) for u in units],
                                "words": [len(u["text"].split()) for u in units]}
    for spec in [*required_annotators(recipes), AnnotatorSpec.of(HarmAnnotator), AnnotatorSpec.of(LanguageId)]:
        columns.update(spec.build().annotate(batch))
    rows = [{name: values[index] for name, values in columns.items()} for index in range(len(units))]
    groups = np.array([LANGUAGE_GROUPS.index(language_group(row["language"])) for row in rows])
    return Population(units, rows, np.array([weight_of(u) for u in units]), groups,
                      np.array([u["stratum"] for u in units]))


def halves(strata: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask: True for the corpus half, False for the calibration half, split within each stratum."""
    corpus = np.zeros(len(strata), dtype=bool)
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        corpus[members[: len(members) // 2 + rng.integers(0, 2) * (len(members) % 2)]] = True
    return corpus


def counts(pop: Population, members: np.ndarray, kept: np.ndarray, weights: np.ndarray,
           buckets: np.ndarray) -> M.Counts:
    """The benchmark's counters of a corpus (the units in `members`, each counted with its weight)."""
    def grid(values: np.ndarray) -> np.ndarray:
        array = np.zeros((BUCKETS, len(LANGUAGE_GROUPS)))
        np.add.at(array, (buckets[members], pop.groups[members]), (values * weights)[members])
        return array

    chars = np.array([row["text_chars"] for row in pop.rows], dtype=float)
    words = np.array([row["words"] for row in pop.rows], dtype=float)
    ones = np.ones(len(pop.rows))
    out = {M.DOCS: grid(ones), M.CHARS: grid(chars), M.WORDS: grid(words), M.kept(M.DOCS): grid(kept * 1.0),
           M.kept(M.CHARS): grid(kept * chars), M.kept(M.WORDS): grid(kept * words)}
    for detector in DETECTORS:
        readable = pop.readable(detector)
        out[M.flagged(detector)] = grid(kept & readable & pop.flagged(detector))
        out[M.readable(detector)] = grid(kept & readable)
    return out


def true_prevalence(pop: Population, detector: str, kept: np.ndarray, mix_of: np.ndarray | None = None) -> float:
    """The population's weighted share of positives among the kept units the detector reads; with `mix_of`
    (the unfiltered readable units), each language group weighted by the unfiltered mix."""
    readable = pop.readable(detector) & kept
    positive = pop.positive(detector)
    if mix_of is None:
        return float((pop.weights * positive * readable).sum() / (pop.weights * readable).sum())
    flagged = np.bincount(pop.groups, pop.weights * positive * readable, len(LANGUAGE_GROUPS))
    reads = np.bincount(pop.groups, pop.weights * readable, len(LANGUAGE_GROUPS))
    mix = np.bincount(pop.groups, pop.weights * mix_of, len(LANGUAGE_GROUPS))
    return float(M.standardized(flagged, reads, mix))


def one_seed(pop: Population, recipes: list[Recipe], seed: int) -> list[dict]:
    """The coverage and sign cases of one split of the population."""
    rng = np.random.default_rng(seed)
    corpus = halves(pop.strata, rng)
    calibration = ~corpus
    # each half weighted back to the pool: a unit stands for pool / (units of its stratum in its half)
    share = {s: [np.sum((pop.strata == s) & half) for half in (corpus, calibration)] for s in np.unique(pop.strata)}
    corpus_weights = np.array([w * pop.units[i]["sample_size"] / max(share[pop.strata[i]][0], 1)
                               for i, w in enumerate(pop.weights)])
    calibration_weights = np.array([w * pop.units[i]["sample_size"] / max(share[pop.strata[i]][1], 1)
                                    for i, w in enumerate(pop.weights)])
    calibrations = {}
    for detector in DETECTORS:
        members = calibration & pop.readable(detector)
        calibrations[detector] = M.DetectorCalibration(calibration_weights[members], pop.strata[members],
                                                       pop.flagged(detector)[members], pop.positive(detector)[members])
    buckets = rng.integers(0, BUCKETS, len(pop.rows))
    everything = np.ones(len(pop.rows), dtype=bool)
    baseline = counts(pop, corpus, everything, corpus_weights, buckets)
    evaluator = M.Evaluator(baseline, DETECTORS, calibrations, buckets=BUCKETS, replicates=400)
    cases = []
    for recipe in recipes:
        plan = RecipePlan.of(recipe, DedupConfig(enabled=False))
        circular = set(DETECTORS) - set(plan.independent(DETECTORS))
        kept = np.array([not any(recipe.removals(row).values()) for row in pop.rows])
        metrics = evaluator.recipe_metrics(counts(pop, corpus, kept, corpus_weights, buckets), circular)
        for detector in DETECTORS:
            truth = true_prevalence(pop, detector, kept)
            truth_change = (true_prevalence(pop, detector, kept, mix_of=pop.readable(detector))
                            - true_prevalence(pop, detector, everything))
            case = {"seed": seed, "recipe": recipe.name, "detector": detector, "circular": detector in circular,
                    "estimable": evaluator.estimable(detector), "true_prevalence": truth, "true_change": truth_change}
            name = M.harm(detector, "prevalence")
            if name in metrics:
                low, high = metrics[M.interval(name, "ci_low")], metrics[M.interval(name, "ci_high")]
                case.update(prevalence=metrics[name], low=low, high=high, covered=low <= truth <= high)
            prevalence_change = M.change(name)
            if recipe.name != "raw" and prevalence_change in metrics:
                low, high = (metrics[M.interval(prevalence_change, part)] for part in ("ci_low", "ci_high"))
                case["change_covered"] = low <= truth_change <= high
            for basis in ("prevalence", "readable_rate"):
                change = M.change(M.harm(detector, basis))
                if recipe.name != "raw" and metrics.get(M.measurable(change)):
                    case[f"{basis}_change"] = metrics[change]
                    case[f"{basis}_sign_agrees"] = bool(np.sign(truth_change) == np.sign(metrics[change]))
            cases.append(case)
    return cases


def share(flags: list[bool]) -> float | None:
    return float(np.mean(flags)) if flags else None


def summary(cases: list[dict]) -> dict:
    """Coverage of the corrected prevalence (every estimable case: a detector is never corrected for a recipe it
    is circular for), and the sign agreement of measurable changes: of the corrected prevalence (what the
    headline reports where it is estimable) and of the flag rate (what it falls back to)."""
    covered = [c for c in cases if "covered" in c]
    unfiltered = [c for c in covered if c["recipe"] == "raw"]
    prevalence_signs = [c["prevalence_sign_agrees"] for c in cases if "prevalence_sign_agrees" in c]
    rate_signs = [c["readable_rate_sign_agrees"] for c in cases if "readable_rate_sign_agrees" in c]
    independent_rate_signs = [c["readable_rate_sign_agrees"] for c in cases
                              if "readable_rate_sign_agrees" in c and not c["circular"]]
    return {"cases": len(cases), "corrected_cases": len(covered),
            "coverage_unfiltered": share([c["covered"] for c in unfiltered]),
            "coverage_all_recipes": share([c["covered"] for c in covered]),
            "change_coverage": share([c["change_covered"] for c in cases if "change_covered" in c]),
            "corrected_changes": sum("change_covered" in c for c in cases),
            "measurable_prevalence_changes": len(prevalence_signs),
            "prevalence_sign_agreement": share(prevalence_signs),
            "measurable_rate_changes": len(rate_signs), "rate_sign_agreement": share(rate_signs),
            "rate_sign_agreement_independent": share(independent_rate_signs),
            "by_detector": {d: {"coverage": float(np.mean([c["covered"] for c in covered if c["detector"] == d]))
                                if any(c["detector"] == d for c in covered) else None,
                                "estimable_seeds": len({c["seed"] for c in covered if c["detector"] == d})}
                            for d in DETECTORS}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cc_sieve.jobs.bench.validity", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--output", default="build/bench/validity.json")
    args = parser.parse_args(argv)
    recipes = load_recipes(RECIPES)
    pop = population(recipes)
    cases = [case for seed in range(args.seeds) for case in one_seed(pop, recipes, seed)]
    result = summary(cases)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"summary": result, "cases": cases}, indent=1))
    print(json.dumps(result, indent=1))
    print(f"cases: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="python -m cc_sieve.jobs.bench.validity"))
