"""Plots logged with the benchmark and drawn in the report and the notebook (matplotlib, Agg backend).

Every recipe has one colour everywhere (these plots, the report, the notebook, the MLflow runs table through
the `mlflow.runColor` tag), so a reader who learns that fineweb is green keeps knowing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from cc_sieve.jobs import metrics as M  # noqa: E402

# The bundled recipes (conf/recipes) by name, so adding a recipe never recolours another; the unfiltered
# baseline is grey. Any other recipe takes a colour from OTHER_COLOURS by a hash of its name.
RECIPE_COLOURS = {"raw": "#7f7f7f", "c4": "#1f77b4", "gopher": "#ff7f0e", "fineweb": "#2ca02c",
                  "url-blocklist": "#9467bd", "badwords": "#d62728", "pii-dolma": "#8c564b"}
OTHER_COLOURS = ["#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"]
HARM_PANELS = 4  # harm detectors drawn in the headline chart: the kinds' graders that flag anything


def recipe_colour(name: str) -> str:
    """The recipe's colour as #rrggbb, the same in every run."""
    if name in RECIPE_COLOURS:
        return RECIPE_COLOURS[name]
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return OTHER_COLOURS[digest[0] % len(OTHER_COLOURS)]


@dataclass(frozen=True)
class RecipePoint:
    """What a chart needs of one recipe: its metrics and the detectors that are circular for it."""

    name: str
    metrics: dict[str, float]
    circular: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Panel:
    metric: str
    title: str


def headline_panels(baseline: dict[str, float]) -> list[Panel]:
    """Near-duplicates, PII (pattern-found in every document; about people on the NER sample, when NER read one),
    and the harm detectors that grade a kind of harm and flag something unfiltered."""
    panels = [Panel(M.NEAR_DUP_RATE, "near-duplicates (Jaccard >= 0.8)"),
              Panel(M.PII_DOC_RATE, "pattern-found PII (every document)")]
    if M.PII_PEOPLE_RATE in baseline:
        read, documents = baseline.get(M.PII_NER_SCANNED, 0), baseline.get(M.DOCS_KEPT, 0)
        panels.append(Panel(M.PII_PEOPLE_RATE, f"PII about people (NER sample: {read:,.0f} of {documents:,.0f} docs)"))
    graders = list(dict.fromkeys(d for detectors in M.KIND_GRADERS.values() for d in detectors))
    flagging = [d for d in graders if baseline.get(M.harm(d, "readable_rate"), 0) > 0][:HARM_PANELS]
    return panels + [Panel(M.harm(d, "readable_rate"), f"{d}: flagged among readable") for d in flagging]


def headline_chart(recipes: list[RecipePoint], baseline: dict[str, float], path: Path) -> Path:
    """One panel per headline rate: each recipe's rate among its kept documents (y, with its 95 % interval)
    against the share of documents it keeps (x); the dashed line is the unfiltered input. A hollow marker is
    a detector that reads a list the recipe filters with (circular: it does not grade that recipe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    panels = headline_panels(baseline)
    columns = 3 if len(panels) <= 6 else 4
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.7 * columns, 3.3 * rows + 0.9), squeeze=False)
    for axis, panel in zip(axes.flat, panels, strict=False):  # the grid may have a spare axis
        detector = M.detector_of(panel.metric) if panel.metric.startswith("harm/") else None
        for recipe in recipes:
            if panel.metric not in recipe.metrics or M.RETENTION_DOCS not in recipe.metrics:
                continue
            value = recipe.metrics[panel.metric]
            low = recipe.metrics.get(M.interval(panel.metric, "ci_low"), value)
            high = recipe.metrics.get(M.interval(panel.metric, "ci_high"), value)
            colour = recipe_colour(recipe.name)
            axis.errorbar(recipe.metrics[M.RETENTION_DOCS], value, yerr=[[value - low], [high - value]], fmt="o",
                          color=colour, markerfacecolor="white" if detector in recipe.circular else colour,
                          markersize=7, capsize=3, elinewidth=1)
        if panel.metric in baseline:
            axis.axhline(baseline[panel.metric], color="#57606a", linestyle="--", linewidth=1)
        axis.set_title(panel.title, fontsize=10)
        axis.set_xlim(-0.03, 1.05)
        axis.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        axis.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    for axis in list(axes.flat)[max(0, len(panels) - columns):len(panels)]:  # the lowest panel of each column
        axis.set_xlabel("documents kept", fontsize=9)
    handles = [Line2D([], [], marker="o", linestyle="", color=recipe_colour(r.name), label=r.name) for r in recipes]
    handles += [Line2D([], [], color="#57606a", linestyle="--", label="unfiltered"),
                Line2D([], [], marker="o", linestyle="", color="#57606a", markerfacecolor="white",
                       label="circular detector")]
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=9, frameon=False)
    figure.suptitle("What each recipe keeps against what it leaves (95 % intervals)", fontsize=12)
    figure.tight_layout(rect=(0, 0.1 if len(handles) > 5 else 0.06, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def removals_by_rule(recipe: str, table: list[dict], path: Path) -> Path:
    """Horizontal bars: documents removed by each rule first, and by each rule at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(table, key=lambda r: r["removed_any"])
    height = max(2.5, 0.35 * len(rows) + 1.2)
    figure, axis = plt.subplots(figsize=(7, height))
    names = [r["rule"] for r in rows]
    positions = range(len(rows))
    colour = recipe_colour(recipe)
    axis.barh([p + 0.2 for p in positions], [r["removed_any"] for r in rows], height=0.4, label="by this rule at all",
              color=colour, alpha=0.35)
    axis.barh([p - 0.2 for p in positions], [r["removed_first"] for r in rows], height=0.4,
              label="first (recipe order)", color=colour)
    axis.set_yticks(list(positions), names, fontsize=8)
    axis.set_xlabel("documents removed")
    axis.set_title(f"Removals by rule: {recipe}")
    if rows:
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
