"""The Markdown a reviewer reads first in MLflow: each run's description (`mlflow.note.content`).

A recipe's run says what the recipe does, what it keeps and what it changes against the unfiltered input, with
95 % intervals and one sign convention (metrics.says). The benchmark's run holds the comparison of every
recipe. Only aggregate numbers and the recipe files' own words are written here; recipe text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.redact import mlflow_markdown_text as markdown_text

TAG_DESCRIPTION = "mlflow.note.content"
TOP_RULES = 3
# The two PII rates, named alike in MLflow descriptions and the report
PATTERN_PII_LABEL = "documents with pattern-found PII"
PEOPLE_LABEL = "documents with PII about people (NER sample)"


def people_says(metrics: Mapping[str, float]) -> str:
    """The lead sentence's clause on PII about people, when spaCy's NER read a sample."""
    if M.PII_PEOPLE_RATE not in metrics:
        return ""
    return f"; {PEOPLE_LABEL}: {M.says(metrics, M.PII_PEOPLE_RATE) or 'n/a'}"


def share_with_interval(metrics: Mapping[str, float], name: str) -> str:
    if name not in metrics:
        return "n/a"
    low, high = metrics.get(M.interval(name, "ci_low")), metrics.get(M.interval(name, "ci_high"))
    interval = f" [{low:.1%}, {high:.1%}]" if low is not None and high is not None else ""
    return f"{metrics[name]:.1%}{interval}"


def rate_row(label: str, name: str, metrics: Mapping[str, float], baseline: Mapping[str, float]) -> str:
    before = f"{baseline[name]:.1%}" if name in baseline else "n/a"
    return f"| {label} | {before} | {share_with_interval(metrics, name)} | {M.says(metrics, name) or 'n/a'} |"


def recipe_description(name: str, description: str, metrics: Mapping[str, float], baseline: Mapping[str, float],
                       graders: Mapping[str, str]) -> str:
    kept, docs_in = metrics.get(M.DOCS_KEPT, 0), metrics.get(M.DOCS_IN, 0)
    headline = M.headline_graders(graders)
    harm = "; ".join(f"{kind.replace('_', ' ')}: {M.says_headline(metrics, kind)}" for kind in M.KIND_GRADERS)
    lines = [f"**{markdown_text(name)} keeps {kept:,.0f} of {docs_in:,.0f} documents** "
             f"({share_with_interval(metrics, M.RETENTION_DOCS)}) and {metrics.get(M.RETENTION_WORDS, 0):.1%} "
             f"of the words. Near-duplicates: {M.says(metrics, M.NEAR_DUP_RATE) or 'n/a'}; {PATTERN_PII_LABEL}: "
             f"{M.says(metrics, M.PII_DOC_RATE) or 'n/a'}{people_says(metrics)}. Harm (corrected prevalence): "
             f"{harm}.", "",
             "| among kept documents | unfiltered | after recipe [95 %] | change |", "|---|---|---|---|",
             rate_row("near-duplicates (Jaccard >= 0.8)", M.NEAR_DUP_RATE, metrics, baseline),
             rate_row(PATTERN_PII_LABEL, M.PII_DOC_RATE, metrics, baseline)]
    if M.PII_PEOPLE_RATE in metrics:
        lines.append(rate_row(PEOPLE_LABEL, M.PII_PEOPLE_RATE, metrics, baseline))
    for kind in M.KIND_GRADERS:
        detector = headline.get(kind)
        if detector is None:
            lines.append(f"| {kind.replace('_', ' ')} | | | no independent detector |")
            continue
        flagged = M.harm(detector, "readable_rate")
        lines.append(rate_row(f"{kind.replace('_', ' ')}: flagged by {detector}", flagged, metrics, baseline))
        lines.append(f"| {kind.replace('_', ' ')}: corrected prevalence (headline) | | | "
                     f"{M.says_headline(metrics, kind)} |")
    removals = sorted(((metrics[M.removed_first(rule)], rule) for rule in
                       {M.rule_of(m) for m in metrics if M.is_removal(m)} if M.removed_first(rule) in metrics),
                      reverse=True)[:TOP_RULES]
    lines.append("")
    if removals:
        lines.append("Removed first by: " + ", ".join(f"{rule} ({count:,.0f})" for count, rule in removals) + ".")
    if metrics.get(M.DOCS_REMOVED):
        lines.append(f"Collateral: {share_with_interval(metrics, M.COLLATERAL)} of the removed documents are "
                     "flagged by none of the recipe's independent detectors.")
    lines += ["", f"What it does: {markdown_text(description)}", "",
              "A change is the recipe's rate minus the unfiltered rate (harm: within each language group); "
              "\"no measurable change\": its 95 % interval holds 0. Details: the report under Artifacts, report/."]
    return "\n".join(lines)


def benchmark_description(run_name: str, baseline: Mapping[str, float], recipes: list[tuple[str, dict]],
                          shards: int, shards_failed: int) -> str:
    """The comparison a reviewer decides from, one row per recipe."""
    people = M.PII_PEOPLE_RATE in baseline  # spaCy's NER read a sample
    header = ["recipe", "docs kept", "near-duplicates", PATTERN_PII_LABEL, *([PEOPLE_LABEL] if people else []),
              *[f"{kind.replace('_', ' ')} (headline)" for kind in M.KIND_GRADERS], "collateral"]
    people_before = f", {PEOPLE_LABEL} {baseline[M.PII_PEOPLE_RATE]:.1%}" if people else ""
    lines = [f"**{markdown_text(run_name)}**: {baseline.get(M.DOCS_KEPT, 0):,.0f} documents from {shards} shards "
             f"({shards_failed} failed). Near-duplicates {baseline.get(M.NEAR_DUP_RATE, 0):.1%}, {PATTERN_PII_LABEL} "
             f"{baseline.get(M.PII_DOC_RATE, 0):.1%}{people_before} before filtering.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in recipes:
        collateral = share_with_interval(metrics, M.COLLATERAL) if metrics.get(M.DOCS_REMOVED) else "nothing removed"
        cells = [markdown_text(name), share_with_interval(metrics, M.RETENTION_DOCS),
                 M.says(metrics, M.NEAR_DUP_RATE) or "n/a", M.says(metrics, M.PII_DOC_RATE) or "n/a",
                 *([M.says(metrics, M.PII_PEOPLE_RATE) or "n/a"] if people else []),
                 *[M.says_headline(metrics, kind) for kind in M.KIND_GRADERS], collateral]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Changes are the recipe minus the unfiltered input (\"-2.1 pts, 30 % less\"); each recipe's run "
              "has its own summary, and the transparency report is under Artifacts, report/index.html."]
    return "\n".join(lines)
