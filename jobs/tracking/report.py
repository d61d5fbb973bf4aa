"""The transparency report (data card) for a benchmark or recipe run.

Everything in it is read back from MLflow (metrics, params, artifacts of the run and of its
benchmark), so the page says exactly what was logged: where the data came from, what each
recipe removed and why, how duplicate, PII and harm rates changed, who lost text, and how sure
each measurement is. One self-contained HTML page per recipe (charts embedded) plus a comparison
page, each with a Markdown twin; logged back to MLflow under `report/`.

Every number is written with `data-metric` (the MLflow metric name) and `data-value` (the exact
logged value), so a reader or a test can trace it to the run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from cc_sieve.filters.registry import RULES
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.tracking import plots
from cc_sieve.jobs.tracking.runs import TAG_BENCHMARK, TAG_ROLE

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1050px;margin:2em auto;padding:0 1em;
color:#1b1f24;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#57606a;font-size:.9em}.excerpt{font-family:ui-monospace,monospace;font-size:.85em;white-space:pre-wrap}
img{max-width:100%;border:1px solid #d0d7de}
"""

TOP_LANGUAGES = 15
SECTIONS = ["Sources", "Processing", "Effects", "Uncertainty", "Examples"]


@dataclass
class RunView:
    run_id: str
    name: str
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]
    artifacts: Path

    def json_artifact(self, name: str, default=None):
        path = self.artifacts / name
        return json.loads(path.read_text()) if path.is_file() else default


def load_view(client, run_id: str, workdir: Path) -> RunView:
    run = client.get_run(run_id)
    target = workdir / run_id
    target.mkdir(parents=True, exist_ok=True)
    for item in client.list_artifacts(run_id):
        if not item.is_dir and item.path.endswith((".json", ".csv")):
            client.download_artifacts(run_id, item.path, str(target))
    return RunView(run_id, run.info.run_name, dict(run.data.metrics), dict(run.data.params), dict(run.data.tags),
                   target)


def load_benchmark(client, run_id: str, workdir: Path) -> tuple[RunView, list[RunView]]:
    """The benchmark run and its recipe runs, whether `run_id` names the benchmark or one recipe."""
    run = client.get_run(run_id)
    parent_id = run.data.tags.get(TAG_BENCHMARK) if run.data.tags.get(TAG_ROLE) == "recipe" else run_id
    parent = load_view(client, parent_id, workdir)
    children = client.search_runs([run.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'",
                                  order_by=["attributes.start_time ASC"])
    return parent, [load_view(client, child.info.run_id, workdir) for child in children]


class Page:
    """Builds the HTML page and its Markdown twin side by side."""

    def __init__(self, title: str):
        self.title = title
        self.html: list[str] = []
        self.md: list[str] = [f"# {title}", ""]

    def heading(self, text: str, level: int = 2) -> None:
        self.html.append(f"<h{level} id='{text.lower().replace(' ', '-')}'>{html.escape(text)}</h{level}>")
        self.md += [f"{'#' * level} {text}", ""]

    def paragraph(self, text: str, muted: bool = False) -> None:
        cls = " class='muted'" if muted else ""
        self.html.append(f"<p{cls}>{html.escape(text)}</p>")
        self.md += [f"_{text}_" if muted else text, ""]

    def link(self, text: str, href: str) -> None:
        self.html.append(f"<p><a href='{html.escape(href)}'>{html.escape(text)}</a></p>")
        self.md += [f"[{text}]({href.replace('.html', '.md')})", ""]

    def table(self, header: list[str], rows: list[list]) -> None:
        """Cells are str, or Cell for numbers that trace to an MLflow metric."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(cell_html(c) for c in row) + "</tr>" for row in rows)
        self.html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        self.md.append("| " + " | ".join(header) + " |")
        self.md.append("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.md.append("| " + " | ".join(cell_text(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |")
        self.md.append("")

    def image(self, png: Path, alt: str, md_name: str, folder: Path) -> None:
        encoded = base64.b64encode(png.read_bytes()).decode()
        self.html.append(f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{encoded}'>")
        (folder / md_name).write_bytes(png.read_bytes())
        self.md += [f"![{alt}]({md_name})", ""]

    def render_html(self) -> str:
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(self.title)}"
                f"</title><style>{STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"
                + "\n".join(self.html) + "</body></html>")

    def render_markdown(self) -> str:
        return "\n".join(self.md) + "\n"


@dataclass
class Cell:
    """A number shown formatted, carrying the metric it came from and its exact value."""

    value: float
    metric: str
    kind: str = "count"  # count | share | number | points (a change of a share) | change (relative)

    def text(self) -> str:
        return formatted(self.value, self.kind)


def formatted(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "share":
        return f"{value:.2%}"
    if kind == "points":
        return f"{100 * value:+.2f} pts"
    if kind == "change":
        return f"{value:+.1%}"
    return f"{value:,.3f}"


@dataclass
class IntervalCell(Cell):
    """A metric with its 95 % interval, shown as `value [low, high]`."""

    low: float = math.nan
    high: float = math.nan

    def text(self) -> str:
        low, high = formatted(self.low, self.kind), formatted(self.high, self.kind)
        return f"{formatted(self.value, self.kind)} [{low}, {high}]"


def cell_text(cell) -> str:
    return cell.text() if isinstance(cell, Cell) else str(cell)


def cell_html(cell) -> str:
    if isinstance(cell, Cell):
        return (f"<td class='num' data-metric='{html.escape(cell.metric)}' data-value='{cell.value!r}'>"
                f"{html.escape(cell.text())}</td>")
    return f"<td>{html.escape(str(cell))}</td>"


def metric_cell(view: RunView, name: str, kind: str = "count") -> Cell | str:
    """The metric's cell, with its interval when one was logged."""
    if name not in view.metrics:
        return "n/a"
    low, high = (view.metrics.get(M.interval(name, part)) for part in ("ci_low", "ci_high"))
    if low is not None and high is not None:
        return IntervalCell(view.metrics[name], name, kind, low, high)
    return Cell(view.metrics[name], name, kind)


def verdict(view: RunView, name: str) -> str:
    """In words, what the change of `name` against the unfiltered input says."""
    change = view.metrics.get(M.change(name))
    if change is None:
        return ""
    if not view.metrics.get(M.measurable(M.change(name))):
        return "no measurable change"
    return "more" if change > 0 else "less"


def manifest_hash(shards: list[dict]) -> str:
    return hashlib.sha256("\n".join(sorted(s["source_shard"] for s in shards)).encode()).hexdigest()[:16]


def read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def sources_section(page: Page, parent: RunView) -> None:
    page.heading("Sources")
    shards = read_csv(parent.artifacts / "shards.csv")
    failures = [f for f in read_csv(parent.artifacts / "failures.csv") if f.get("error_class") != "none"]
    sources = parent.json_artifact("sources.json", {})
    page.table(["measure", "value"], [
        ["crawl ids", parent.params.get("input.crawl_ids", "unknown")],
        ["text measured", parent.params.get("input.text_source", "unknown")],
        ["shards read", metric_cell(parent, M.SHARDS)],
        ["shards failed", metric_cell(parent, M.SHARDS_FAILED)],
        ["records read", metric_cell(parent, M.RECORDS)],
        ["records skipped", metric_cell(parent, M.RECORDS_SKIPPED)],
        ["documents", metric_cell(parent, M.DOCUMENTS)],
        ["input size (MB)", metric_cell(parent, M.INPUT_MEGABYTES, "number")],
        ["captures from", sources.get("first_capture") or "unknown"],
        ["captures to", sources.get("last_capture") or "unknown"],
        ["shard manifest hash (sha256 of the sorted shard list)", manifest_hash(shards)],
        ["code version", parent.params.get("code_version", "unknown")],
    ])
    record_types: dict[str, int] = {}
    for shard in shards:
        for item in filter(None, (shard.get("records_by_type") or "").split(";")):
            kind, _, count = item.partition("=")
            record_types[kind] = record_types.get(kind, 0) + int(count)
    if parent.params.get("input.text_source_mixed") == "true":
        page.paragraph("Warning: the shards hold text of several kinds (see 'text measured'); every rate here blends "
                       "them, and the same captures give other rates as WARC (main-content extraction) than as WET "
                       "(Common Crawl's text, navigation lines and all).")
    page.paragraph("Shards")
    page.table(["shard", "crawl", "text", "records by type", "documents", "failed"],
               [[s["source_shard"], s.get("crawl_id") or "", s.get("text_source", ""), s.get("records_by_type", ""),
                 s.get("documents", ""), s.get("failed", "")] for s in shards])
    page.table(["record type", "records"], [[k, f"{v:,}"] for k, v in sorted(record_types.items())])
    language_label = "detected language" if sources.get("language_column") == "language" else "declared language"
    languages = sources.get("languages", [])
    rows = [[r["value"], f"{r['documents']:,}"] for r in languages[:TOP_LANGUAGES]]
    if len(languages) > TOP_LANGUAGES:
        rest = languages[TOP_LANGUAGES:]
        rows.append([f"{len(rest)} other languages", f"{sum(r['documents'] for r in rest):,}"])
    page.table([language_label, "documents"], rows)
    page.table(["top host", "documents"], [[r["value"], f"{r['documents']:,}"] for r in sources.get("top_hosts", [])])
    if failures:
        page.paragraph("Failures and skipped records (nothing is dropped silently)")
        page.table(["shard", "offset", "error", "message", "shard stopped"],
                   [[f["source_shard"], f.get("record_offset", ""), f["error_class"], f["message"], f["fatal"]]
                    for f in failures])
    else:
        page.paragraph("No shard failed and no record was skipped.", muted=True)


def rule_rows(recipe: RunView) -> list[list]:
    """Each rule of the recipe with its thresholds and the published source of those values."""
    rows = []
    names = json.loads(recipe.params.get("rule_order", "[]"))
    for name in names:
        settings = {k.split(".", 2)[2]: v for k, v in recipe.params.items()
                    if k.startswith(f"rules.{name}.") and v != "None"}  # an absent bound is not a threshold
        rule = RULES.get(name)
        rows.append([name, ", ".join(f"{k} = {v}" for k, v in sorted(settings.items())) or "defaults",
                     getattr(rule, "source", "") if rule else "", getattr(rule, "note", "") if rule else ""])
    return rows


def processing_section(page: Page, parent: RunView, recipe: RunView) -> None:
    page.heading("Processing")
    page.paragraph(recipe.params.get("description", ""))
    page.table(["rule", "threshold as applied", "published source", "where implementations differ"],
               rule_rows(recipe) or [["(none)", "no filter", "", ""]])
    dedup = {k.split(".", 2)[2]: v for k, v in parent.params.items() if k.startswith("config.dedup.")}
    pii = {k.split(".", 2)[2]: v for k, v in parent.params.items() if k.startswith("config.pii.")}
    page.table(["setting", "value"],
               [[f"dedup.{k}", v] for k, v in sorted(dedup.items())]
               + [["dedup placement in this recipe", recipe.params.get("dedup.placement", "none")]]
               + [[f"pii.{k}", v] for k, v in sorted(pii.items())]
               + [["annotators", parent.params.get("annotators", "")],
                  ["spark master", parent.params.get("spark.master", "")],
                  ["code version", parent.params.get("code_version", "")],
                  ["config hash", parent.params.get("config_hash", "")]])


def rate_rows(parent: RunView, recipe: RunView) -> list[list]:
    """Each rate among the kept documents: unfiltered, after the recipe, the change (within each language group
    for harm detectors), the relative change and what it says; harm detectors with their grading role."""
    graders = {k.split(".", 1)[1]: v for k, v in recipe.params.items() if k.startswith("graders.")}
    measures = [(M.near_dup_rate(level), f"near-duplicates at estimated Jaccard >= {level:g}", "-", "share")
                for level in M.NEAR_DUP_LEVELS]
    measures += [(M.EXACT_DUP_RATE, "exact copies", "-", "share"),
                 (M.PII_DOC_RATE, "documents with PII (scanned)", "-", "share"),
                 (M.PII_PER_1K_DOCS, "PII entities per 1,000 documents", "-", "number")]
    for detector in sorted(graders):
        measures.append((M.harm(detector, "readable_rate"), f"{detector}: flagged among readable",
                         graders[detector], "share"))
        measures.append((M.harm(detector, "prevalence"), f"{detector}: prevalence corrected for web-page recall "
                         "and specificity", graders[detector], "share"))
    rows = []
    for name, label, role, kind in measures:
        if name not in recipe.metrics:
            continue
        change_kind = "points" if kind == "share" else "number"
        rows.append([label, role, metric_cell(parent, M.unfiltered(name), kind), metric_cell(recipe, name, kind),
                     metric_cell(recipe, M.change(name), change_kind),
                     metric_cell(recipe, M.relative_change(name), "change"), verdict(recipe, name)])
    return rows


def effects_section(page: Page, parent: RunView, recipe: RunView, folder: Path, workdir: Path) -> None:
    page.heading("Effects")
    page.table(["measure", "in", "kept", "retention"], [
        ["documents", metric_cell(recipe, M.DOCS_IN), metric_cell(recipe, M.DOCS_KEPT),
         metric_cell(recipe, M.RETENTION_DOCS, "share")],
        ["words", metric_cell(recipe, M.WORDS_IN), metric_cell(recipe, M.WORDS_KEPT),
         metric_cell(recipe, M.RETENTION_WORDS, "share")],
        ["characters", metric_cell(recipe, M.CHARS_IN), metric_cell(recipe, M.CHARS_KEPT),
         metric_cell(recipe, M.RETENTION_CHARS, "share")],
    ])
    removals = removal_rows(recipe)
    page.paragraph("Removals per rule: the first rule that removed a document (recipe order), and every rule "
                   "that would have removed it.")
    page.table(["rule", "removed first", "removed by this rule at all"],
               [[r, metric_cell(recipe, M.removed_first(r)), metric_cell(recipe, M.removed_any(r))]
                for r in removals] or [["(none)", "0", "0"]])
    if removals:
        chart = plots.removals_by_rule(recipe.name, [
            {"rule": r, "removed_first": recipe.metrics.get(M.removed_first(r), 0),
             "removed_any": recipe.metrics.get(M.removed_any(r), recipe.metrics.get(M.removed_first(r), 0))}
            for r in removals], workdir / f"{recipe.run_id}-removals.png")
        page.image(chart, f"removals by rule, {recipe.name}", f"{recipe.name}-removals.png", folder)
    page.paragraph("Rates among the kept documents, unfiltered and after this recipe, with 95 % intervals in brackets. "
                   "A change is the recipe's rate minus the unfiltered rate (plus: more of it); for a harm detector "
                   "it is measured within each language group and weighted by the unfiltered input's language mix, "
                   "so a recipe that keeps more of the language a detector reads is not credited or blamed for it. "
                   "A change whose interval holds 0 is no measurable change. An independent detector reads no list "
                   "the recipe filters with; a circular one does, and only measures the recipe against itself.")
    page.table(["measure", "detector", "unfiltered", "after recipe", "change", "relative change", "says"],
               rate_rows(parent, recipe))
    page.table(["collateral", "value"], [
        ["removed documents that none of the recipe's independent detectors flags",
         metric_cell(recipe, M.REMOVED_UNFLAGGED)],
        ["share of removed documents (collateral)", metric_cell(recipe, M.COLLATERAL, "share")]])
    collateral = recipe.json_artifact("collateral.json", {})
    for key, label in [("by_language", "language"), ("by_host", "host")]:
        rows = collateral.get(key, [])
        if rows:
            page.table([f"collateral by {label}", "removed, unflagged", "documents", "share lost"],
                       [[r["value"], f"{r['removed_unflagged']:,}", f"{r['documents']:,}", f"{r['share_lost']:.1%}"]
                        for r in rows])


def removal_rows(recipe: RunView) -> list[str]:
    return sorted({M.rule_of(m) for m in recipe.metrics if M.is_removal(m)})


def uncertainty_section(page: Page, parent: RunView, recipe: RunView) -> None:
    page.heading("Uncertainty")
    calibration = parent.json_artifact("calibration.json", [])
    if calibration:
        page.paragraph("Each harm detector measured on labeled sets at its threshold: a rate above is only as "
                       "good as these figures.")
        page.table(["detector", "labeled set", "positive means", "threshold", "n", "precision", "recall"],
                   [[c.get("detector", ""), c.get("dataset", ""), c.get("positive_label", ""),
                     c.get("threshold", ""), c.get("n", ""), fmt_share(c.get("precision")),
                     fmt_share(c.get("recall"))] for c in calibration])
    page.paragraph("Intervals: rates of documents are Wilson intervals; changes, relative changes, corrected "
                   "prevalences and entities per document are bootstrap intervals over 200 random groups of "
                   "documents, resampled together for the recipe and the unfiltered input, and, for a corrected "
                   "prevalence, over the labeled web units too.", muted=True)
    truth = sorted(m for m in recipe.metrics if m.startswith(M.truth("")))
    if truth:
        page.table(["planted truth", "value"], [[m, metric_cell(recipe, m, "share")] for m in truth])


def fmt_share(value) -> str:
    return f"{float(value):.1%}" if value not in (None, "", "n/a") else "n/a"


def examples_section(page: Page, recipe: RunView) -> None:
    page.heading("Examples")
    samples = recipe.json_artifact("removed_samples.json", [])
    if not samples:
        page.paragraph("This recipe removed no document.", muted=True)
        return
    page.paragraph("A few removed documents per rule, as short excerpts with detected PII replaced by its type.")
    by_rule: dict[str, list[dict]] = {}
    for sample in samples:
        by_rule.setdefault(sample["rule"], []).append(sample)
    rows = [[rule, s["doc_id"], s["excerpt"][:240]] for rule, items in sorted(by_rule.items()) for s in items[:3]]
    page.table(["rule", "document", "excerpt"], rows)


def recipe_page(parent: RunView, recipe: RunView, folder: Path, workdir: Path) -> Page:
    page = Page(f"Data card: recipe {recipe.name}")
    page.paragraph(f"Benchmark run {parent.name} ({parent.run_id}); recipe run {recipe.run_id}.", muted=True)
    page.link("All recipes of this benchmark", "index.html")
    sources_section(page, parent)
    processing_section(page, parent, recipe)
    effects_section(page, parent, recipe, folder, workdir)
    uncertainty_section(page, parent, recipe)
    examples_section(page, recipe)
    return page


def comparison_page(parent: RunView, recipes: list[RunView], folder: Path, workdir: Path) -> Page:
    page = Page(f"Benchmark {parent.name}: recipe comparison")
    page.paragraph(f"Run {parent.run_id}; every recipe links to its own data card.", muted=True)
    detectors = sorted({M.detector_of(m) for r in recipes for m in r.metrics
                        if m.startswith("harm/") and m.endswith("/readable_rate")})
    header = ["recipe", "docs kept", "retention", "near-duplicates (>= 0.8)", "documents with PII"]
    header += [f"{d} change" for d in detectors] + ["collateral"]
    rows = []
    for recipe in recipes:
        rows.append([f"{recipe.name}", metric_cell(recipe, M.DOCS_KEPT),
                     metric_cell(recipe, M.RETENTION_DOCS, "share"),
                     metric_cell(recipe, M.NEAR_DUP_RATE, "share"), metric_cell(recipe, M.PII_DOC_RATE, "share")]
                    + [metric_cell(recipe, M.change(M.harm(d, "readable_rate")), "points") for d in detectors]
                    + [metric_cell(recipe, M.COLLATERAL, "share")])
    page.table(header, rows)
    for recipe in recipes:
        page.link(f"Data card: {recipe.name}", f"recipe-{recipe.name}.html")
    if recipes:
        chart = plots.harm_vs_retention(recipes, detectors, workdir / "harm_vs_retention.png")
        page.image(chart, "harm rate against retention", "harm_vs_retention.png", folder)
    sources_section(page, parent)
    return page


def write_report(run_id: str, output: str | Path, tracking_uri: str | None = None, log: bool = True) -> Path:
    """Render the comparison page and every recipe page; return the path of index.html."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one bar per artifact otherwise

    client = MlflowClient(tracking_uri=tracking_uri)
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        parent, recipes = load_benchmark(client, run_id, workdir)
        pages = {"index": comparison_page(parent, recipes, folder, workdir)}
        for recipe in recipes:
            pages[f"recipe-{recipe.name}"] = recipe_page(parent, recipe, folder, workdir)
        for name, page in pages.items():
            (folder / f"{name}.html").write_text(page.render_html())
            (folder / f"{name}.md").write_text(page.render_markdown())
    if log:
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
        client.log_artifacts(parent.run_id, str(folder), artifact_path="report")
        for recipe in recipes:
            for suffix in (".html", ".md"):
                client.log_artifact(recipe.run_id, str(folder / f"recipe-{recipe.name}{suffix}"), "report")
    return folder / "index.html"
