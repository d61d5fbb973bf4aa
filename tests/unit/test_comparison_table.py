"""The console comparison: the headline change per kind of harm in words, and the planted truth when there is some."""

from __future__ import annotations

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.commands.benchmark import comparison_table
from cc_sieve.jobs.spark.evaluate import RecipeEvaluation
from cc_sieve.jobs.tracking.benchmark_log import BenchmarkResult

BASELINE = {M.DOCS_KEPT: 500.0, M.NEAR_DUP_RATE: 0.1, M.PII_DOC_RATE: 0.12}


def recipe(name: str, kept: float, **metrics: float) -> RecipeEvaluation:
    return RecipeEvaluation(name, {M.DOCS_KEPT: kept, M.DOCS_REMOVED: 500 - kept, M.RETENTION_DOCS: kept / 500,
                                   **{key.replace("__", "/"): value for key, value in metrics.items()}})


def truth(near: float, pii: float) -> dict[str, float]:
    """Planted-truth metrics as evaluate logs them: 40 near-duplicates and 50 PII documents planted."""
    return {M.truth("near_dup_planted"): 40.0, M.truth("near_dup_remaining_share"): near,
            M.truth("pii_docs_planted"): 50.0, M.truth("pii_docs_remaining_share"): pii,
            M.truth("exact_dup_planted"): 0.0}


def result(*recipes: RecipeEvaluation) -> BenchmarkResult:
    return BenchmarkResult("parent", "cc-sieve", "sqlite:///x.db", "out", BASELINE, list(recipes), {}, {}, [])


def test_headline_changes_per_kind_of_harm_in_words():
    profanity = {M.headline_change("profanity"): -0.021, M.interval(M.headline_change("profanity"), "ci_low"): -0.03,
                 M.interval(M.headline_change("profanity"), "ci_high"): -0.01,
                 M.headline_change("sexual"): 0.004, M.interval(M.headline_change("sexual"), "ci_low"): -0.002,
                 M.interval(M.headline_change("sexual"), "ci_high"): 0.01}
    lines = comparison_table(result(recipe("raw", 500), recipe("fineweb", 100, **{
        k.replace("/", "__"): v for k, v in profanity.items()}))).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("headline change")))
    assert [[cell.strip() for cell in line.split("|")] for line in lines[start:start + 4] if "-+-" not in line] == [
        ["headline change", "sexual", "profanity", "hate", "adult url"],
        ["raw", "not estimable", "not estimable", "not estimable", "not estimable"],
        ["fineweb", "no measurable change", "-2.1 pts, less", "not estimable", "not estimable"]]


def test_planted_truth_columns_when_the_input_had_truth():
    plain = comparison_table(result(recipe("raw", 500), recipe("gopher", 200)))
    assert "planted truth" not in plain
    table = comparison_table(result(recipe("raw", 500, **truth(1.0, 1.0)), recipe("fineweb", 100, **truth(0.1, 0.22))))
    lines = table.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("planted truth left")))
    assert [[cell.strip() for cell in line.split("|")] for line in lines[start:start + 4] if "-+-" not in line] == [
        ["planted truth left", "retention", "near-dup (40)", "exact dup (0)", "PII (50)"],
        ["raw", "100.0%", "100.0%", "-", "100.0%"],
        ["fineweb", "20.0%", "10.0%", "-", "22.0%"]]
    assert lines[start + 4].startswith("planted truth: the share of the documents make-shards planted")


def test_pii_about_people_column_when_ner_read_a_sample():
    assert "PII about people" not in comparison_table(result(recipe("raw", 500)))
    people = {M.PII_PEOPLE_RATE: 0.62, M.change(M.PII_PEOPLE_RATE): -0.25,
              M.measurable(M.change(M.PII_PEOPLE_RATE)): 1.0}
    sampled = BenchmarkResult("parent", "cc-sieve", "sqlite:///x.db", "out", {**BASELINE, M.PII_PEOPLE_RATE: 0.87},
                              [recipe("fineweb", 100, **{k.replace("/", "__"): v for k, v in people.items()})],
                              {}, {}, [])
    lines = comparison_table(sampled).splitlines()
    header, _, unfiltered, fineweb = ([cell.strip() for cell in line.split("|")] for line in lines[:4])
    column = header.index("PII about people")
    assert (unfiltered[column], fineweb[column]) == ("87.0%", "62.0% -25.0 pts")
