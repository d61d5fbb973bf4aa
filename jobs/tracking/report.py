"""The transparency report (data card) of a benchmark: one self-contained page.

Everything in it is read back from MLflow (metrics, params, artifacts of the benchmark's run and of its
recipes' runs), so the page says exactly what was logged: where the data came from, what each recipe
removed and why, how duplicate, PII and harm rates changed, who lost text, and how sure each measurement is.
One HTML page (charts embedded, in-page links only, so it works inside MLflow's artifact viewer) with a
Markdown twin, logged to the benchmark's run and to every recipe's under `report/`.

The page is meant to be shared, and crawled text is hostile: every value from the data is escaped (HTML,
and Markdown in the twin), the HTML carries a Content-Security-Policy that loads nothing from anywhere, and
the files are written under a temporary name and renamed (never through a link at their path).

Every number is written with `data-run` (the MLflow run), `data-metric` (the metric's name) and `data-value`
(the exact logged value), so a reader or a test can trace it to the run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from cc_sieve.filters.registry import RULES
from cc_sieve.jobs import metrics as M
from cc_sieve.jobs.redact import markdown_text, printable
from cc_sieve.jobs.tracking import plots
from cc_sieve.jobs.tracking.descriptions import PATTERN_PII_LABEL, PEOPLE_LABEL
from cc_sieve.jobs.tracking.runs import TAG_BENCHMARK, TAG_ROLE

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#1b1f24;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
td.long{overflow-wrap:anywhere}td.name{white-space:nowrap}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.muted{color:#57606a;font-size:.9em}.excerpt{font-family:ui-monospace,monospace;font-size:.85em;white-space:pre-wrap}
img{max-width:100%;border:1px solid #d0d7de}nav a{margin-right:.8em}
.ci{display:block;color:#57606a;font-size:.85em;white-space:nowrap}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin-right:.4em;vertical-align:baseline}
"""
# Nothing on the page may load from anywhere: inline styles and embedded images only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

TOP_LANGUAGES = 15
LONG_CELL = 60  # characters: a longer text cell may break anywhere (a list of settings, a URL)


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


def anchor(text: str) -> str:
    """An id for in-page links: letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Page:
    """Builds the HTML page and its Markdown twin side by side; every text is escaped for both."""

    def __init__(self, title: str):
        self.title = title
        self.html: list[str] = []
        self.md: list[str] = [f"# {markdown_text(title)}", ""]

    def heading(self, text: str, level: int = 2, identifier: str | None = None, colour: str = "") -> None:
        identifier = identifier or anchor(text)
        swatch = f"<span class='swatch' style='background:{colour}'></span>" if colour else ""
        self.html.append(f"<h{level} id='{identifier}'>{swatch}{html.escape(text)}</h{level}>")
        self.md += [f"{'#' * level} {markdown_text(text)}", ""]

    def paragraph(self, text: str, muted: bool = False) -> None:
        cls = " class='muted'" if muted else ""
        self.html.append(f"<p{cls}>{html.escape(text)}</p>")
        self.md += [f"_{markdown_text(text)}_" if muted else markdown_text(text), ""]

    def links(self, targets: list[tuple[str, str]]) -> None:
        """In-page links (text, anchor id)."""
        self.html.append("<nav>" + "".join(f"<a href='#{identifier}'>{html.escape(text)}</a>"
                                           for text, identifier in targets) + "</nav>")
        self.md += [" · ".join(f"[{markdown_text(text)}](#{identifier})" for text, identifier in targets), ""]

    def table(self, header: list[str], rows: list[list]) -> None:
        """Cells are str (escaped: they may hold crawled values), or Cell for numbers from an MLflow metric."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(cell_html(c) for c in row) + "</tr>" for row in rows)
        self.html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        self.md.append("| " + " | ".join(markdown_text(h) for h in header) + " |")
        self.md.append("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.md.append("| " + " | ".join(markdown_text(cell_text(c)) for c in row) + " |")
        self.md.append("")

    def image(self, png: Path, alt: str, md_name: str, folder: Path) -> None:
        encoded = base64.b64encode(png.read_bytes()).decode()
        self.html.append(f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{encoded}'>")
        write_atomically(folder / md_name, png.read_bytes())
        self.md += [f"![{markdown_text(alt)}]({md_name})", ""]

    def render_html(self) -> str:
        return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1>" + "\n".join(self.html) + "</body></html>")

    def render_markdown(self) -> str:
        return "\n".join(self.md) + "\n"


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write to a new temporary name beside `path`, then rename it over `path`: a link at `path` is replaced,
    never followed."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Cell:
    """A number shown formatted, carrying the metric it came from and its exact value."""

    value: float
    metric: str
    run_id: str
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
    return f"{value:,.{number_decimals(value)}f}"


def number_decimals(value: float) -> int:
    """Three significant digits or more: 31,880 and 2.35, not 31,880.000."""
    magnitude = abs(value)
    return 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3


@dataclass
class IntervalCell(Cell):
    """A metric with its 95 % interval, shown as `value [low, high]`."""

    low: float = math.nan
    high: float = math.nan

    def text(self) -> str:
        return f"{formatted(self.value, self.kind)} {self.interval_text()}"

    def interval_text(self) -> str:
        return f"[{formatted(self.low, self.kind)}, {formatted(self.high, self.kind)}]"


@dataclass
class Verdict(IntervalCell):
    """A change shown as what it says: "no measurable change" when its interval holds 0, else the change with
    its interval. The Markdown twin always carries the numbers."""

    def says_nothing(self) -> bool:
        return self.low <= 0 <= self.high

    def text(self) -> str:
        prefix = "no measurable change: " if self.says_nothing() else ""
        return prefix + super().text()


def cell_text(cell) -> str:
    return cell.text() if isinstance(cell, Cell) else str(cell)


def cell_html(cell) -> str:
    if isinstance(cell, Cell):
        says_nothing = isinstance(cell, Verdict) and cell.says_nothing()
        shown = html.escape("no measurable change" if says_nothing else formatted(cell.value, cell.kind))
        if isinstance(cell, IntervalCell):
            shown += f"<span class='ci'>{html.escape(cell.interval_text())}</span>"
        return (f"<td class='num' data-run='{cell.run_id}' data-metric='{html.escape(cell.metric)}' "
                f"data-value='{cell.value!r}'>{shown}</td>")
    if isinstance(cell, Link):
        swatch = f"<span class='swatch' style='background:{cell.colour}'></span>" if cell.colour else ""
        return f"<td class='name'>{swatch}<a href='#{cell.target}'>{html.escape(cell.text)}</a></td>"
    text = printable(cell)
    return f"<td class='long'>{html.escape(text)}</td>" if len(text) > LONG_CELL else f"<td>{html.escape(text)}</td>"


@dataclass
class Link:
    """A cell that links to a section of the page (with the recipe's colour when it names a recipe)."""

    text: str
    target: str
    colour: str = ""

    def __str__(self) -> str:
        return self.text


def metric_cell(view: RunView, name: str, kind: str = "count") -> Cell | str:
    """The metric's cell, with its interval when one was logged."""
    if name not in view.metrics:
        return "n/a"
    low, high = (view.metrics.get(M.interval(name, part)) for part in ("ci_low", "ci_high"))
    if low is not None and high is not None:
        return IntervalCell(view.metrics[name], name, view.run_id, kind, low, high)
    return Cell(view.metrics[name], name, view.run_id, kind)


def change_cell(view: RunView, name: str, kind: str) -> Cell | str:
    """A change as what it says ("no measurable change" when its interval holds 0)."""
    cell = metric_cell(view, name, kind)
    if isinstance(cell, IntervalCell):
        return Verdict(cell.value, cell.metric, cell.run_id, cell.kind, cell.low, cell.high)
    return cell if name in view.metrics else "not estimable"


def collateral_cell(view: RunView) -> Cell | str:
    return metric_cell(view, M.COLLATERAL, "share") if view.metrics.get(M.DOCS_REMOVED) else "nothing removed"


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
        ["documents an annotator gave up on (time budget or error; their values are empty)",
         metric_cell(parent, M.ANNOTATE_FAILED)],
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
    settings_table(page, parent)


def settings_table(page: Page, parent: RunView) -> None:
    """How every recipe was measured: dedup, PII, annotators, Spark, code."""
    page.heading("How it was run", 3, "settings")
    shared = {key.split(".", 1)[1]: value for key, value in parent.params.items()
              if key.startswith(("config.dedup.", "config.pii."))}
    page.table(["setting", "value"], [[key, value] for key, value in sorted(shared.items())] + [
        ["annotators", parent.params.get("annotators", "").replace(",", ", ")],
        ["spark master", parent.params.get("spark.master", "")],
        ["code version", parent.params.get("code_version", "")],
        ["config hash", parent.params.get("config_hash", "")]])


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


def processing_section(page: Page, recipe: RunView) -> None:
    page.heading("What it does", 3, f"{anchor(recipe.name)}-does")
    page.paragraph(recipe.params.get("description", ""))
    page.table(["rule", "threshold as applied", "published source", "where implementations differ"],
               rule_rows(recipe) or [["(none)", "no filter", "", ""]])
    page.paragraph(f"Near-duplicate removal in this recipe: {recipe.params.get('dedup.placement', 'none')} "
                   "(the settings every recipe shares are under Sources).")


def rate_rows(parent: RunView, recipe: RunView) -> list[list]:
    """Each rate among the kept documents: unfiltered, after the recipe, the change (within each language group
    for harm detectors), the relative change and what it says; harm detectors with their grading role."""
    graders = {k.split(".", 1)[1]: v for k, v in recipe.params.items() if k.startswith("graders.")}
    measures = [(M.near_dup_rate(level), f"near-duplicates at estimated Jaccard >= {level:g}", "-", "share")
                for level in M.NEAR_DUP_LEVELS]
    measures += [(M.EXACT_DUP_RATE, "exact copies", "-", "share"),
                 (M.PII_DOC_RATE, PATTERN_PII_LABEL, "-", "share"),
                 (M.PII_PEOPLE_RATE, "documents with PII about people (a name, place or date; contact or ID number)",
                  "-", "share"),
                 (M.PII_PER_1K_DOCS, "PII entities per 1,000 documents", "-", "number")]
    measures += pii_type_measures(parent, recipe,
                                  parent.json_artifact("web_calibration.json", {}).get("pii_entities", {}))
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
                     metric_cell(recipe, M.relative_change(name), "change"),
                     M.says(recipe.metrics, name, M.points if kind == "share" else per_1k_amount)])
    return rows


def per_1k_amount(change_value: float) -> str:
    """A change of a count per 1,000 documents in its own units (`metrics.says`), e.g. "-22,500 per 1,000
    documents"."""
    return f"{change_value:+,.0f} per 1,000 documents"


def pii_type_measures(parent: RunView, recipe: RunView, calibration: dict) -> list[tuple[str, str, str, str]]:
    """Per PII entity type the benchmark counted: entities per 1,000 documents and the share of documents holding
    it, labelled with the type's web-page precision (data/eval/web) so a count is read with how often it is right."""
    types = sorted(name.rsplit("/", 1)[1] for name in recipe.metrics if name.startswith(M.pii_per_1k_docs("")))
    ner_sampled, measures = M.PII_NER_SCANNED in recipe.metrics, []
    for entity in types:
        precision = figure(calibration.get(entity, {}).get("precision", {}))
        where = " (NER sample)" if M.searched_set(entity, ner_sampled) == M.PII_NER_SET else ""
        thin = [side for side, metrics, prefix in (("unfiltered", parent.metrics, M.unfiltered("")),
                                                   ("after recipe", recipe.metrics, ""))
                if where and M.sampled_per_1k_too_thin(metrics, entity, prefix)]
        too_few = (f"; {' and '.join(thin)}: too few sampled documents hold it for an interval, so the bracket is "
                   "every value the pages' length allows" if thin else "")
        too_few += " (for the change too)" if "after recipe" in thin else ""
        measures += [(M.pii_per_1k_docs(entity), f"{entity} per 1,000 documents{where}; web-page precision "
                      f"{precision}{too_few}", "-", "number"),
                     (M.pii_doc_share(entity), f"documents with {entity}{where}", "-", "share")]
    return measures


def effects_section(page: Page, parent: RunView, recipe: RunView, folder: Path, workdir: Path) -> None:
    page.heading("What it keeps", 3, f"{anchor(recipe.name)}-keeps")
    page.table(["measure", "in", "kept", "retention"], [
        ["documents", metric_cell(recipe, M.DOCS_IN), metric_cell(recipe, M.DOCS_KEPT),
         metric_cell(recipe, M.RETENTION_DOCS, "share")],
        ["words", metric_cell(recipe, M.WORDS_IN), metric_cell(recipe, M.WORDS_KEPT),
         metric_cell(recipe, M.RETENTION_WORDS, "share")],
        ["characters", metric_cell(recipe, M.CHARS_IN), metric_cell(recipe, M.CHARS_KEPT),
         metric_cell(recipe, M.RETENTION_CHARS, "share")],
    ])
    removals = removal_rows(recipe)
    page.heading("What it removes", 3, f"{anchor(recipe.name)}-removes")
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
    page.heading("What it changes", 3, f"{anchor(recipe.name)}-changes")
    page.paragraph("Rates among the kept documents, unfiltered and after this recipe, with 95 % intervals in brackets. "
                   "A change is the recipe's rate minus the unfiltered rate (plus: more of it); for a harm detector "
                   "it is measured within each language group and weighted by the unfiltered input's language mix, "
                   "so a recipe that keeps more of the language a detector reads is not credited or blamed for it. "
                   "A change whose interval holds 0 is no measurable change. An independent detector reads no list "
                   "the recipe filters with; a circular one does, and only measures the recipe against itself.")
    read = recipe.metrics.get(M.PII_NER_SCANNED)
    if read is not None and read < M.SAMPLED_PER_1K_CHECKED_READ:
        page.paragraph(f"The NER types' entities per 1,000 documents after this recipe, and their changes, rest on "
                       f"the {read:,.0f} kept documents NER read. Half of these entities sit in 3-5 % of the pages, "
                       "and a small sample often lacks them. Simulated on the bundled Common Crawl pages (copied up "
                       "to 50 times to stand for larger inputs), their 95 % intervals held the true value in 86-95 % "
                       "of samples with 10-99 documents read (NRP in 71-91 %, one recipe's in 55 %), 92-95 % "
                       "with 100-299, and 92-97 % with 300-1,499; 97.5 % with ~3,600 read at a 10 % sample. Copies "
                       "of 716 pages lack a real input's heaviest pages, so these are best cases: below "
                       f"{M.SAMPLED_PER_1K_CHECKED_READ:,} documents read, take the counts and their changes as "
                       "indicative. The shares of documents holding each type are steadier (92-99 % in the same "
                       "simulation).", muted=True)
    page.table(["measure", "detector", "unfiltered", "after recipe", "change", "relative change", "says"],
               rate_rows(parent, recipe))
    headline = [[kind, recipe.params.get(f"headline_grader.{kind}", "none independent"),
                 recipe.params.get(f"headline_basis.{kind}", ""),
                 metric_cell(recipe, M.headline_change(kind), "points"), M.says_headline(recipe.metrics, kind)]
                for kind in M.KIND_GRADERS]
    page.paragraph("Headline, per kind of harm: the change of the corrected prevalence by the first independent "
                   "detector grading it; where that detector's web-page calibration is too thin, not estimable.")
    page.table(["kind of harm", "graded by", "measured as", "change", "says"], headline)
    page.heading("Who loses text", 3, f"{anchor(recipe.name)}-loses")
    page.table(["collateral", "value"], [
        ["removed documents that none of the recipe's independent detectors flags",
         metric_cell(recipe, M.REMOVED_UNFLAGGED)],
        ["share of removed documents (collateral)", collateral_cell(recipe)]])
    collateral = recipe.json_artifact("collateral.json", {})
    for key, label in [("by_language", "language"), ("by_host", "host")]:
        rows = collateral.get(key, [])
        if rows:
            page.table([f"collateral by {label}", "removed, unflagged", "documents", "share lost"],
                       [[r["value"], f"{r['removed_unflagged']:,}", f"{r['documents']:,}", f"{r['share_lost']:.1%}"]
                        for r in rows])


def removal_rows(recipe: RunView) -> list[str]:
    """The rules that removed anything, in the recipe's order (its dedup step last)."""
    order = json.loads(recipe.params.get("rule_order", "[]"))
    rules = {M.rule_of(m) for m in recipe.metrics if M.is_removal(m)}
    return sorted(rules, key=lambda rule: (order.index(rule) if rule in order else len(order), rule))


def figure(entry: dict) -> str:
    value = entry.get("value")
    return "-" if value is None else f"{value:.2f} [{entry['ci_low']:.2f}, {entry['ci_high']:.2f}]"


def uncertainty_section(page: Page, parent: RunView) -> None:
    page.heading("Uncertainty")
    page.paragraph("Intervals: rates of documents are 95 % Wilson intervals; changes, relative changes, corrected "
                   "prevalences and entities per document are 95 % bootstrap intervals over 200 random groups of "
                   "documents, resampled together for the recipe and the unfiltered input and, for a corrected "
                   "prevalence, over the labeled web pages too. A rate is only as good as its detector: these are the "
                   "detectors measured on real web pages (data/eval/web, labeled by reading, weighted to the pool "
                   "they were drawn from).")
    calibration = parent.json_artifact("web_calibration.json", {})
    if calibration:
        page.table(["detector", "graded against", "units it reads", "labeled positive", "flagged", "precision",
                    "recall", "specificity"],
                   [[name, "+".join(entry["labels"]), str(entry["units"]), str(entry["positives"]),
                     str(entry["flagged"]), figure(entry["precision"]), figure(entry["recall"]),
                     figure(entry["specificity"])] for name, entry in calibration["detectors"].items()])
        page.table(["PII entity type", "found", "labeled", "precision", "recall"],
                   [[entity, str(entry["found"]), str(entry["labeled"]), figure(entry["precision"]),
                     figure(entry["recall"])] for entity, entry in calibration["pii_entities"].items()])
    else:
        page.paragraph("No web-page calibration was stored for these thresholds: no rate here is corrected.",
                       muted=True)


def truth_kinds(view: RunView) -> list[str]:
    return sorted({m[len(M.truth("")):].removesuffix("_planted") for m in view.metrics
                   if m.startswith(M.truth("")) and m.endswith("_planted")})


def truth_summary(page: Page, recipes: list[RunView]) -> None:
    """When the input was planted by make-shards: the share of each planted kind every recipe leaves."""
    kinds = truth_kinds(recipes[0]) if recipes else []
    if not kinds:
        return
    page.paragraph("Planted truth (make-shards): the share of each planted kind of document the recipe leaves in "
                   "(lower is better for harm, PII and duplicates; the best evidence for choosing a recipe).")
    page.table(["recipe", *[kind.replace("_", " ") for kind in kinds]],
               [[Link(r.name, f"{anchor(r.name)}-truth", plots.recipe_colour(r.name)),
                 *[metric_cell(r, M.truth(f"{kind}_remaining_share"), "share") for kind in kinds]] for r in recipes])


def truth_section(page: Page, recipe: RunView) -> None:
    """What the recipe left of the planted truth (make-shards): counts and shares, Jaccard levels in order."""
    kinds = truth_kinds(recipe)
    if not kinds:
        return
    page.heading("Planted truth", 3, f"{anchor(recipe.name)}-truth")
    rows = []
    for kind in kinds:
        planted = recipe.metrics[M.truth(f"{kind}_planted")]
        share = recipe.metrics.get(M.truth(f"{kind}_remaining_share"))
        rows.append([kind.replace("_", " "), metric_cell(recipe, M.truth(f"{kind}_planted")),
                     f"{share * planted:,.0f}" if share is not None else "-",
                     metric_cell(recipe, M.truth(f"{kind}_remaining_share"), "share")])
    levels = sorted((float(m.split("_")[2]), m) for m in recipe.metrics
                    if re.fullmatch(re.escape(M.truth("near_dup_")) + r"[0-9.]+_remaining_share", m))
    rows += [[f"near duplicates at Jaccard {level:g}", "", "", metric_cell(recipe, name, "share")]
             for level, name in levels]
    page.table(["planted", "documents", "left by the recipe", "share left"], rows)


def examples_section(page: Page, recipe: RunView) -> None:
    page.heading("Examples", 3, f"{anchor(recipe.name)}-examples")
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


def recipe_section(page: Page, parent: RunView, recipe: RunView, folder: Path, workdir: Path) -> None:
    page.heading(f"Recipe {recipe.name}", 2, f"recipe-{anchor(recipe.name)}", plots.recipe_colour(recipe.name))
    page.paragraph(f"Recipe run {recipe.run_id}.", muted=True)
    processing_section(page, recipe)
    effects_section(page, parent, recipe, folder, workdir)
    examples_section(page, recipe)
    truth_section(page, recipe)


def recipe_point(view: RunView) -> plots.RecipePoint:
    circular = frozenset(key.split(".", 1)[1] for key, value in view.params.items()
                         if key.startswith("graders.") and value == "circular")
    return plots.RecipePoint(view.name, view.metrics, circular)


def recipe_link(recipe: RunView) -> Link:
    return Link(recipe.name, f"recipe-{anchor(recipe.name)}", plots.recipe_colour(recipe.name))


def summary_section(page: Page, parent: RunView, recipes: list[RunView], folder: Path, workdir: Path) -> None:
    page.heading("Summary")
    page.paragraph("What each recipe keeps, and how it changes near-duplicates, PII and each kind of harm against "
                   "the unfiltered input. A change is the recipe's rate minus the unfiltered rate, in points "
                   "(\"-2.10 pts\": 2.1 points less); \"no measurable change\": its 95 % interval, below it, holds 0; "
                   "\"not estimable\": no independent detector with a usable web-page calibration grades it.")
    people = any(M.PII_PEOPLE_RATE in recipe.metrics for recipe in recipes)
    if people:
        page.paragraph("PII is counted two ways. Pattern-found PII (e-mail, phone, card, IBAN, IP, SSN, ...) is "
                       "searched in every document. PII about people (a person's name, a place or a date found by "
                       "spaCy's NER, or a contact or ID number) is measured on a seeded sample of the documents, the "
                       "ones NER read: its interval and its change are for that many documents (column 'documents "
                       "NER read'), so a recipe that keeps few documents gets a wide one. The two can move apart: a "
                       "recipe can lower the first and raise the second.")
    header = ["recipe", "docs kept", "retention", "near-duplicates (>= 0.8)", PATTERN_PII_LABEL]
    if people:
        header += [PEOPLE_LABEL, "PII about people: change", "documents NER read"]
    rows = []
    for recipe in recipes:
        row = [recipe_link(recipe),
               metric_cell(recipe, M.DOCS_KEPT), metric_cell(recipe, M.RETENTION_DOCS, "share"),
               metric_cell(recipe, M.NEAR_DUP_RATE, "share"), metric_cell(recipe, M.PII_DOC_RATE, "share")]
        if people:
            row += [metric_cell(recipe, M.PII_PEOPLE_RATE, "share"),
                    change_cell(recipe, M.change(M.PII_PEOPLE_RATE), "points"),
                    metric_cell(recipe, M.PII_NER_SCANNED)]
        rows.append(row + [collateral_cell(recipe)])
    page.table(header + ["collateral"], rows)
    page.paragraph("Harm, per kind: the change of the corrected prevalence by the first independent detector "
                   "grading it (details per recipe under 'What it changes').")
    page.table(["recipe", *[f"{kind.replace('_', ' ')} change" for kind in M.KIND_GRADERS]],
               [[recipe_link(recipe),
                 *[change_cell(recipe, M.headline_change(kind), "points") for kind in M.KIND_GRADERS]]
                for recipe in recipes])
    truth_summary(page, recipes)
    if recipes:
        baseline = {name.removeprefix(M.unfiltered("")): value for name, value in parent.metrics.items()
                    if name.startswith(M.unfiltered(""))}
        chart = plots.headline_chart([recipe_point(r) for r in recipes], baseline, workdir / "headline.png")
        page.image(chart, "what each recipe keeps against what it leaves", "headline.png", folder)


def report_page(parent: RunView, recipes: list[RunView], folder: Path, workdir: Path) -> Page:
    page = Page(f"Benchmark {parent.name}: transparency report")
    page.paragraph(f"Benchmark run {parent.run_id}; code {parent.params.get('code_version', 'unknown')}.", muted=True)
    page.links([("Summary", "summary"), *[(recipe.name, f"recipe-{anchor(recipe.name)}") for recipe in recipes],
                ("Sources", "sources"), ("How it was run", "settings"), ("Uncertainty", "uncertainty")])
    summary_section(page, parent, recipes, folder, workdir)
    for recipe in recipes:
        recipe_section(page, parent, recipe, folder, workdir)
    sources_section(page, parent)
    uncertainty_section(page, parent)
    return page


def write_report(run_id: str, output: str | Path, tracking_uri: str | None = None, log: bool = True) -> Path:
    """Render the page (index.html and index.md) for a benchmark or recipe run; return the path of index.html."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one bar per artifact otherwise
    client = MlflowClient(tracking_uri=tracking_uri)
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        parent, recipes = load_benchmark(client, run_id, workdir)
        page = report_page(parent, recipes, folder, workdir)
        write_atomically(folder / "index.html", page.render_html())
        write_atomically(folder / "index.md", page.render_markdown())
    if log:
        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
        client.log_artifacts(parent.run_id, str(folder), artifact_path="report")
        for recipe in recipes:
            client.log_artifact(recipe.run_id, str(folder / "index.html"), "report")
    return folder / "index.html"
